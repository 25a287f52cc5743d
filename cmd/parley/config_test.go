package main

import (
	"io"
	"log/slog"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/parley-audio/parley/internal/ratelimit"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestConfigDefaults(t *testing.T) {
	c, err := loadServeConfig(nil, env(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	want := serveConfig{
		HTTPAddr: "127.0.0.1:8080", DataDir: "./data", UDPPort: 7882, TokenTTL: 12 * time.Hour,
		AccessTokenTTL: 15 * time.Minute, RefreshTokenTTL: 30 * 24 * time.Hour,
		InviteQuota: 5, InviteTTL: 7 * 24 * time.Hour,
		SignInPerUser: ratelimit.Rate{N: 5, Per: 5 * time.Minute}, SignInPerAddr: ratelimit.Rate{N: 20, Per: time.Minute},
		DevSignIn: false, ShutdownTimeout: 10 * time.Second, LogLevel: slog.LevelInfo, LogFormat: "text",
		StageCap: 20, ReconnectGrace: 30 * time.Second, EmptyStageGrace: 2 * time.Minute, LeaseTTL: 30 * time.Second,
		RedisPrefix: "parley", ChatRate: 30, ChatBurst: 5,
		Cluster: clusterConfig{Placement: "room", NodeTTL: 5 * time.Second, DrainTimeout: 30 * time.Second},
		Social: socialConfig{
			GuestRate: ratelimit.Rate{N: 10, Per: 10 * time.Minute}, JoinRate: ratelimit.Rate{N: 10, Per: 10 * time.Minute},
			DirectoryRate: ratelimit.Rate{N: 30, Per: time.Minute},
		},
	}
	if !reflect.DeepEqual(c, want) {
		t.Fatalf("defaults:\n got %+v\nwant %+v", c, want)
	}
}

func TestConfigFlagsWinOverEnvironment(t *testing.T) {
	c, err := loadServeConfig(
		[]string{"--udp-port", "9000", "--public-ip", "203.0.113.7, 198.51.100.2"},
		env(map[string]string{"PARLEY_UDP_PORT": "8000", "PARLEY_HTTP_ADDR": "0.0.0.0:9999", "PARLEY_DEV_SIGNIN": "true"}),
		io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.UDPPort != 9000 || c.HTTPAddr != "0.0.0.0:9999" || !c.DevSignIn {
		t.Fatalf("got port %d addr %s dev %v", c.UDPPort, c.HTTPAddr, c.DevSignIn)
	}
	if !reflect.DeepEqual(c.PublicIPs, []string{"203.0.113.7", "198.51.100.2"}) {
		t.Fatalf("public IPs %v", c.PublicIPs)
	}
}

func TestConfigSwitchesWorkBareOrWithAValue(t *testing.T) {
	c, err := loadServeConfig([]string{"--rtc-loopback-only", "--dev-sign-in"}, env(map[string]string{"PARLEY_RTC_LOOPBACK_ONLY": "false"}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if !c.LoopbackOnly || !c.DevSignIn {
		t.Fatalf("loopback %v dev %v", c.LoopbackOnly, c.DevSignIn)
	}
	c, err = loadServeConfig([]string{"--dev-sign-in=false"}, env(map[string]string{"PARLEY_DEV_SIGNIN": "true"}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.DevSignIn {
		t.Fatalf("loopback %v dev %v", c.LoopbackOnly, c.DevSignIn)
	}
}

func TestConfigRefusesBadValues(t *testing.T) {
	for name, tc := range map[string]struct {
		args []string
		env  map[string]string
	}{
		"port out of range":       {args: []string{"--udp-port", "70000"}},
		"not an address":          {args: []string{"--http-addr", "8080"}},
		"not an IP":               {args: []string{"--public-ip", "example.com"}},
		"short secret":            {env: map[string]string{"PARLEY_TOKEN_SECRET": "short"}},
		"negative duration":       {args: []string{"--token-ttl", "-1h"}},
		"bad bool":                {env: map[string]string{"PARLEY_DEV_SIGNIN": "perhaps"}},
		"bad level":               {args: []string{"--log-level", "loud"}},
		"bad format":              {args: []string{"--log-format", "xml"}},
		"cert without key":        {args: []string{"--tls-cert", "c.pem"}},
		"unknown flag":            {args: []string{"--colour", "red"}},
		"stray argument":          {args: []string{"extra"}},
		"empty data dir":          {args: []string{"--data-dir", ""}},
		"bad udp bind":            {args: []string{"--udp-addr", "nowhere"}},
		"unparsable duration":     {env: map[string]string{"PARLEY_SHUTDOWN_TIMEOUT": "soon"}},
		"stage cap of zero":       {args: []string{"--stage-cap", "0"}},
		"not a redis url":         {args: []string{"--redis-url", "http://example.com"}},
		"bad redis prefix":        {args: []string{"--redis-prefix", "a{b}"}},
		"negative quota":          {args: []string{"--invite-quota", "-1"}},
		"rate without a slash":    {env: map[string]string{"PARLEY_SIGNIN_RATE_USER": "5"}},
		"rate of zero":            {args: []string{"--signin-rate-address", "0/1m"}},
		"zero access TTL":         {args: []string{"--access-token-ttl", "0s"}},
		"chat rate of zero":       {args: []string{"--chat-rate", "0"}},
		"chat burst not a number": {env: map[string]string{"PARLEY_CHAT_BURST": "lots"}},
		"bad guest switch":        {env: map[string]string{"PARLEY_GUEST_LISTENING": "sometimes"}},
		"a rate of nothing":       {args: []string{"--join-rate-limit", "0/1m"}},
		"a rate without /":        {args: []string{"--directory-rate-limit", "30"}},
		"a rate of no period":     {env: map[string]string{"PARLEY_GUEST_RATE_LIMIT": "10/0s"}},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := loadServeConfig(tc.args, env(tc.env), io.Discard); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}

// The README's configuration table lists every option with its variable
// and default, so the documentation cannot fall behind the code.
func TestREADMEDocumentsEveryOption(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	for _, o := range options() {
		def := o.def
		if def == "" {
			def = "(empty)"
		}
		row := "| `--" + o.flag + "` | `" + o.env + "` | "
		i := strings.Index(readme, row)
		if i < 0 {
			t.Errorf("README has no row starting %q", row)
			continue
		}
		line := readme[i:]
		line = line[:strings.IndexByte(line, '\n')]
		if !strings.Contains(line, def) {
			t.Errorf("README row for --%s does not give the default %q: %s", o.flag, def, line)
		}
	}
}
