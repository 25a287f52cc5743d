package sfu

import (
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"
)

func TestDefaultConfig(t *testing.T) {
	c := DefaultConfig()
	if c.UDPPort != 7882 || c.SpeakingLevel != 50 || c.SpeakingHangover != 500*time.Millisecond ||
		c.SpeakingInterval != 100*time.Millisecond || c.LoopbackOnly || c.UDPAddr != "" || c.PublicIPs != nil {
		t.Fatalf("DefaultConfig() = %+v", c)
	}
	if err := c.Validate(); err != nil {
		t.Fatalf("default config invalid: %v", err)
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name   string
		modify func(*Config)
		valid  bool
	}{
		{"ephemeral port", func(c *Config) { c.UDPPort = 0 }, true},
		{"negative port", func(c *Config) { c.UDPPort = -1 }, false},
		{"port too large", func(c *Config) { c.UDPPort = 65536 }, false},
		{"bind address", func(c *Config) { c.UDPAddr = "10.0.0.1" }, true},
		{"bind address not an IP", func(c *Config) { c.UDPAddr = "localhost" }, false},
		{"loopback only on loopback", func(c *Config) { c.LoopbackOnly = true; c.UDPAddr = "127.0.0.1" }, true},
		{"loopback only on another address", func(c *Config) { c.LoopbackOnly = true; c.UDPAddr = "10.0.0.1" }, false},
		{"public IPs", func(c *Config) { c.PublicIPs = []string{"203.0.113.7", "2001:db8::1"} }, true},
		{"public IP not an IP", func(c *Config) { c.PublicIPs = []string{"example.com"} }, false},
		{"public IPs with loopback only", func(c *Config) { c.LoopbackOnly = true; c.PublicIPs = []string{"203.0.113.7"} }, false},
		{"silence as threshold", func(c *Config) { c.SpeakingLevel = 127 }, true},
		{"level out of range", func(c *Config) { c.SpeakingLevel = 128 }, false},
		{"zero hangover", func(c *Config) { c.SpeakingHangover = 0 }, false},
		{"zero interval", func(c *Config) { c.SpeakingInterval = 0 }, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := DefaultConfig()
			tc.modify(&c)
			err := c.Validate()
			if tc.valid && err != nil {
				t.Fatalf("Validate: %v", err)
			}
			if !tc.valid && !errors.Is(err, ErrInvalidConfig) {
				t.Fatalf("Validate: err = %v, want ErrInvalidConfig", err)
			}
		})
	}
}

func TestNewRejectsInvalidConfigAndBusyPort(t *testing.T) {
	if _, err := New(Config{}, nil); !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("zero Config: err = %v, want ErrInvalidConfig", err)
	}
	s := newTestSFU(t)
	addr := s.UDPAddr()
	if !addr.IP.IsLoopback() || addr.Port == 0 {
		t.Fatalf("UDPAddr() = %v, want a loopback address with a port", addr)
	}
	cfg := testConfig()
	cfg.UDPPort = addr.Port
	if _, err := New(cfg, nil); err == nil {
		t.Fatal("second SFU on the same port: no error")
	}
}

// TestPublicIPsReplaceHostCandidates checks the 1:1 NAT setting: host
// candidates carry the public address, never the private one. It needs a
// non-loopback IPv4 address to bind to; no packet leaves the machine (the
// peer never connects).
func TestPublicIPsReplaceHostCandidates(t *testing.T) {
	local := nonLoopbackIPv4()
	if local == nil {
		t.Skip("no non-loopback IPv4 address on this machine")
	}
	cfg := DefaultConfig()
	cfg.UDPPort = 0
	cfg.UDPAddr = local.String()
	cfg.PublicIPs = []string{"203.0.113.7"}
	s, err := New(cfg, testLogger())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	r := s.NewRouter(RouterParams{})
	cands := make(chan *webrtc.ICECandidateInit, 8)
	p, err := r.NewPeer("p", PeerParams{OnCandidate: func(c *webrtc.ICECandidateInit) { cands <- c }})
	if err != nil {
		t.Fatal(err)
	}
	client, err := clientAPI(t).NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	if _, err := client.AddTransceiverFromKind(webrtc.RTPCodecTypeAudio,
		webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}); err != nil {
		t.Fatal(err)
	}
	offer, err := client.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.HandleOffer(t.Context(), offer.SDP); err != nil {
		t.Fatal(err)
	}
	var got []string
	for {
		select {
		case c := <-cands:
			if c == nil { // end of candidates
				if len(got) == 0 {
					t.Fatal("no candidates")
				}
				for _, g := range got {
					if !strings.Contains(g, " 203.0.113.7 ") || strings.Contains(g, local.String()) {
						t.Fatalf("candidate %q, want the public address only", g)
					}
				}
				t.Logf("candidates: %q", got)
				return
			}
			got = append(got, c.Candidate)
		case <-time.After(waitTimeout):
			t.Fatal("gathering did not complete")
		}
	}
}

func nonLoopbackIPv4() net.IP {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && !n.IP.IsLoopback() && n.IP.To4() != nil && !n.IP.IsLinkLocalUnicast() {
			return n.IP
		}
	}
	return nil
}
