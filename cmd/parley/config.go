package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"

	"github.com/parley-audio/parley/internal/ratelimit"
)

// serveConfig is everything `parley serve` can be told. Each field has a
// flag and a PARLEY_* environment variable; a flag wins over the variable,
// and the variable over the default. The README's table is generated from
// the same list (see TestREADMEDocumentsEveryOption).
type serveConfig struct {
	HTTPAddr        string
	DataDir         string
	TLSCert         string
	TLSKey          string
	UDPPort         int
	UDPAddr         string
	PublicIPs       []string
	LoopbackOnly    bool
	TokenSecret     string
	TokenTTL        time.Duration
	AccessTokenTTL  time.Duration
	RefreshTokenTTL time.Duration
	InviteQuota     int
	InviteTTL       time.Duration
	SignInPerUser   ratelimit.Rate
	SignInPerAddr   ratelimit.Rate
	DevSignIn       bool
	AllowedOrigins  []string
	ShutdownTimeout time.Duration
	LogLevel        slog.Level
	LogFormat       string
	DebugAddr       string
	StageCap        int
	ReconnectGrace  time.Duration
	EmptyStageGrace time.Duration
	LeaseTTL        time.Duration
	RedisURL        string
	RedisPrefix     string
	DatabaseURL     string
	ChatRate        int
	ChatBurst       int
	LoudestN        int
	Cluster         clusterConfig
	// Social is room access, joins and guests (config_social.go).
	Social socialConfig
}

// option describes one setting for flags, environment and documentation.
type option struct {
	flag, env, def, usage string
	set                   func(c *serveConfig, v string) error
}

// isBool reports whether the option is a switch, given bare on the command
// line (--dev-sign-in, or --dev-sign-in=false).
func (o option) isBool() bool { return o.def == "true" || o.def == "false" }

func options() []option {
	return append(append(baseOptions(), clusterOptions()...), socialOptions()...)
}

func baseOptions() []option {
	return []option{
		{"http-addr", "PARLEY_HTTP_ADDR", "127.0.0.1:8080", "address for HTTP (REST, signaling, web client)", func(c *serveConfig, v string) error {
			if _, _, err := net.SplitHostPort(v); err != nil {
				return err
			}
			c.HTTPAddr = v
			return nil
		}},
		{"data-dir", "PARLEY_DATA_DIR", "./data", "directory for the SQLite databases and the generated token secret", func(c *serveConfig, v string) error {
			if v == "" {
				return errors.New("must not be empty")
			}
			c.DataDir = v
			return nil
		}},
		{"tls-cert", "PARLEY_TLS_CERT", "", "PEM certificate file; with --tls-key, serve HTTPS and wss://", func(c *serveConfig, v string) error { c.TLSCert = v; return nil }},
		{"tls-key", "PARLEY_TLS_KEY", "", "PEM private key file for --tls-cert", func(c *serveConfig, v string) error { c.TLSKey = v; return nil }},
		{"udp-port", "PARLEY_UDP_PORT", "7882", "the single UDP port for all WebRTC media (ICE UDP mux); 0 picks a free port", func(c *serveConfig, v string) error {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 || n > 65535 {
				return errors.New("must be a port number, 0 to 65535")
			}
			c.UDPPort = n
			return nil
		}},
		{"udp-addr", "PARLEY_UDP_ADDR", "", "IP address to bind the media port to; empty means all interfaces", func(c *serveConfig, v string) error {
			if v != "" && net.ParseIP(v) == nil {
				return errors.New("must be an IP address")
			}
			c.UDPAddr = v
			return nil
		}},
		{"public-ip", "PARLEY_PUBLIC_IP", "", "comma-separated public IPs to advertise for media when behind NAT (1:1 NAT)", func(c *serveConfig, v string) error {
			c.PublicIPs = nil
			for _, s := range splitList(v) {
				if net.ParseIP(s) == nil {
					return fmt.Errorf("%q is not an IP address", s)
				}
				c.PublicIPs = append(c.PublicIPs, s)
			}
			return nil
		}},
		{"rtc-loopback-only", "PARLEY_RTC_LOOPBACK_ONLY", "false", "offer and accept only 127.0.0.1 for media (tests, or a machine with no network)", func(c *serveConfig, v string) error {
			b, err := strconv.ParseBool(v)
			c.LoopbackOnly = b
			return err
		}},
		{"token-secret", "PARLEY_TOKEN_SECRET", "", "secret (at least 32 bytes) that signs tokens; empty means generate one and keep it in the data directory. Prefer the variable: flags show in ps", func(c *serveConfig, v string) error {
			if v != "" && len(v) < 32 {
				return errors.New("must be at least 32 bytes")
			}
			c.TokenSecret = v
			return nil
		}},
		{"token-ttl", "PARLEY_TOKEN_TTL", "12h", "how long a development sign-in token is valid", durationSetter(func(c *serveConfig, d time.Duration) { c.TokenTTL = d })},
		{"access-token-ttl", "PARLEY_ACCESS_TOKEN_TTL", "15m", "how long an access token is valid; the session's refresh token gets the next one", durationSetter(func(c *serveConfig, d time.Duration) { c.AccessTokenTTL = d })},
		{"refresh-token-ttl", "PARLEY_REFRESH_TOKEN_TTL", "720h", "how long a session lasts unused: each refresh gives a new refresh token valid this long", durationSetter(func(c *serveConfig, d time.Duration) { c.RefreshTokenTTL = d })},
		{"invite-quota", "PARLEY_INVITE_QUOTA", "5", "how many invites a member holds at a time (used ones, and unused ones still valid)", func(c *serveConfig, v string) error {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 || n > 10000 {
				return errors.New("must be a number from 0 to 10000")
			}
			c.InviteQuota = n
			return nil
		}},
		{"invite-ttl", "PARLEY_INVITE_TTL", "168h", "how long an invite code can be used", durationSetter(func(c *serveConfig, d time.Duration) { c.InviteTTL = d })},
		{"signin-rate-user", "PARLEY_SIGNIN_RATE_USER", "5/5m", "failed sign-in attempts allowed per username: N/duration, a burst of N, then N per duration", rateSetter(func(c *serveConfig, r ratelimit.Rate) { c.SignInPerUser = r })},
		{"signin-rate-address", "PARLEY_SIGNIN_RATE_ADDRESS", "20/1m", "sign-in and sign-up attempts allowed per client address: N/duration, a burst of N, then N per duration", rateSetter(func(c *serveConfig, r ratelimit.Rate) { c.SignInPerAddr = r })},
		{"dev-sign-in", "PARLEY_DEV_SIGNIN", "false", "allow the development sign-in that takes only a display name, and its tokens (tests, parley bench)", func(c *serveConfig, v string) error {
			b, err := strconv.ParseBool(v)
			c.DevSignIn = b
			return err
		}},
		{"allowed-origins", "PARLEY_ALLOWED_ORIGINS", "", "comma-separated extra origins (host or host:port, * wildcards) whose pages may open the signaling WebSocket", func(c *serveConfig, v string) error {
			c.AllowedOrigins = splitList(v)
			return nil
		}},
		{"stage-cap", "PARLEY_STAGE_CAP", "20", "the most people on stage in a room (moderators and speakers)", func(c *serveConfig, v string) error {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > 1000 {
				return errors.New("must be a number from 1 to 1000")
			}
			c.StageCap = n
			return nil
		}},
		{"chat-rate", "PARLEY_CHAT_RATE", "30", "how many chat messages a member may send a minute, on average", intSetter(1, 6000, func(c *serveConfig, n int) { c.ChatRate = n })},
		{"chat-burst", "PARLEY_CHAT_BURST", "5", "how many chat messages a member may send at once, before --chat-rate applies", intSetter(1, 1000, func(c *serveConfig, n int) { c.ChatBurst = n })},
		{"loudest-n", "PARLEY_LOUDEST_N", "0", "how many speakers a room forwards at once, the loudest by audio level, unless the room sets its own; 0 means every speaker", func(c *serveConfig, v string) error {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 || n > 1000 {
				return errors.New("must be a number from 0 to 1000")
			}
			c.LoudestN = n
			return nil
		}},
		{"reconnect-grace", "PARLEY_RECONNECT_GRACE", "30s", "how long someone whose connection dropped keeps their place (role, hand, queue position)", durationSetter(func(c *serveConfig, d time.Duration) { c.ReconnectGrace = d })},
		{"empty-stage-grace", "PARLEY_EMPTY_STAGE_GRACE", "2m", "how long a room lives with nobody on stage before it ends", durationSetter(func(c *serveConfig, d time.Duration) { c.EmptyStageGrace = d })},
		{"lease-ttl", "PARLEY_LEASE_TTL", "30s", "how long a participant's place outlives the server holding their connection, if that server dies", durationSetter(func(c *serveConfig, d time.Duration) { c.LeaseTTL = d })},
		{"redis-url", "PARLEY_REDIS_URL", "", "Redis for live room state and events (redis://host:6379/0); empty means in memory, for one process", func(c *serveConfig, v string) error {
			if v != "" {
				if _, err := redis.ParseURL(v); err != nil {
					return err
				}
			}
			c.RedisURL = v
			return nil
		}},
		{"redis-prefix", "PARLEY_REDIS_PREFIX", "parley", "prefix of every Redis key and channel, so several deployments can share a Redis", func(c *serveConfig, v string) error {
			if v == "" || strings.ContainsAny(v, "{} ") {
				return errors.New("must be non-empty, without braces or spaces")
			}
			c.RedisPrefix = v
			return nil
		}},
		{"database-url", "PARLEY_DATABASE_URL", "", "Postgres for durable data (postgres://user@host:5432/db); empty means SQLite files in the data directory", func(c *serveConfig, v string) error {
			if v != "" {
				if _, err := pgx.ParseConfig(v); err != nil {
					// pgx's message may quote the URL, password included.
					return errors.New("not a valid Postgres URL")
				}
			}
			c.DatabaseURL = v
			return nil
		}},
		{"shutdown-timeout", "PARLEY_SHUTDOWN_TIMEOUT", "10s", "how long a graceful shutdown may take before connections are cut", durationSetter(func(c *serveConfig, d time.Duration) { c.ShutdownTimeout = d })},
		{"log-level", "PARLEY_LOG_LEVEL", "info", "debug, info, warn or error", func(c *serveConfig, v string) error {
			return c.LogLevel.UnmarshalText([]byte(v))
		}},
		{"debug-addr", "PARLEY_DEBUG_ADDR", "", "address for Go's profiler (/debug/pprof) on a listener of its own, e.g. 127.0.0.1:6060; empty means off. Never expose it", func(c *serveConfig, v string) error {
			if v != "" {
				if _, _, err := net.SplitHostPort(v); err != nil {
					return err
				}
			}
			c.DebugAddr = v
			return nil
		}},
		{"log-format", "PARLEY_LOG_FORMAT", "text", "text or json", func(c *serveConfig, v string) error {
			if v != "text" && v != "json" {
				return errors.New("must be text or json")
			}
			c.LogFormat = v
			return nil
		}},
	}
}

func durationSetter(set func(*serveConfig, time.Duration)) func(*serveConfig, string) error {
	return func(c *serveConfig, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil {
			return err
		}
		if d <= 0 {
			return errors.New("must be positive")
		}
		set(c, d)
		return nil
	}
}

func intSetter(lo, hi int, set func(*serveConfig, int)) func(*serveConfig, string) error {
	return func(c *serveConfig, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < lo || n > hi {
			return fmt.Errorf("must be a number from %d to %d", lo, hi)
		}
		set(c, n)
		return nil
	}
}

func rateSetter(set func(*serveConfig, ratelimit.Rate)) func(*serveConfig, string) error {
	return func(c *serveConfig, v string) error {
		r, err := ratelimit.ParseRate(v)
		if err != nil {
			return err
		}
		set(c, r)
		return nil
	}
}

func splitList(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// loadServeConfig applies defaults, then the environment, then flags.
func loadServeConfig(args []string, getenv func(string) string, stderr io.Writer) (serveConfig, error) {
	return loadConfig("parley serve", args, getenv, stderr)
}

// loadConfig is loadServeConfig for any subcommand that takes the server's
// settings (migrate, admin), named so in its usage. extra adds the
// subcommand's own flags to the same flag set.
func loadConfig(name string, args []string, getenv func(string) string, stderr io.Writer, extra ...func(*flag.FlagSet)) (serveConfig, error) {
	var c serveConfig
	opts := options()
	for _, o := range opts {
		if err := o.set(&c, o.def); err != nil {
			return c, fmt.Errorf("default of --%s: %w", o.flag, err)
		}
	}
	for _, o := range opts {
		if v, ok := lookup(getenv, o.env); ok {
			if err := o.set(&c, v); err != nil {
				return c, fmt.Errorf("%s=%q: %w", o.env, v, err)
			}
		}
	}
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	for _, o := range opts {
		usage := fmt.Sprintf("%s (env %s, default %q)", o.usage, o.env, o.def)
		if o.isBool() {
			fs.BoolFunc(o.flag, usage, func(v string) error { return o.set(&c, v) })
		} else {
			fs.Func(o.flag, usage, func(v string) error { return o.set(&c, v) })
		}
	}
	for _, add := range extra {
		add(fs)
	}
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		return c, errors.New("--tls-cert and --tls-key go together")
	}
	return c, nil
}

func lookup(getenv func(string) string, key string) (string, bool) {
	if getenv == nil {
		return os.LookupEnv(key)
	}
	v := getenv(key)
	return v, v != ""
}
