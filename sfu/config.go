package sfu

import (
	"fmt"
	"net"
	"time"
)

// Config configures an SFU. Start from DefaultConfig; the zero value is not
// valid (its speaking durations are zero).
type Config struct {
	// UDPPort is the single UDP port that carries all ICE, DTLS and SRTP
	// traffic, demultiplexed by ICE ufrag (a webrtc ICE UDP mux), so a
	// deployment opens exactly one port. 0 means an ephemeral port (tests).
	// Default 7882.
	UDPPort int

	// UDPAddr is the IP to bind the UDP socket to; "" means all interfaces
	// (127.0.0.1 when LoopbackOnly is set).
	UDPAddr string

	// PublicIPs are advertised instead of the local addresses in host
	// candidates (1:1 NAT, e.g. a cloud VM with an elastic IP). Empty means
	// advertise the local addresses.
	PublicIPs []string

	// LoopbackOnly keeps all media on 127.0.0.1, for tests and local
	// development: only loopback candidates are gathered, remote candidates
	// that are not loopback are refused, and only UDP over IPv4 is used.
	LoopbackOnly bool

	// SpeakingLevel is the RFC 6464 audio level (-dBov, 0 loudest .. 127
	// silence) at or below which a packet counts as voice. Default 50.
	SpeakingLevel uint8

	// SpeakingHangover is how long a speaker must send no voice before they
	// count as stopped. Default 500ms; must be positive.
	SpeakingHangover time.Duration

	// SpeakingInterval is how often speaking state is evaluated. Default
	// 100ms; must be positive.
	SpeakingInterval time.Duration

	// LoudestN is the default number of speakers a room forwards at any
	// moment, the loudest by audio level (see Router.SetLoudestN); 0
	// forwards everyone. Rooms can override it (RouterParams.LoudestN).
	LoudestN int

	// OnFirstAudio, if set, is called once per peer, from a forwarding
	// goroutine, when the first audio packet is sent to it, with the time
	// since the peer was created: the server's view of join-to-first-audio.
	// It must be fast and must not block. nil means nobody listens.
	OnFirstAudio func(time.Duration)
}

// DefaultConfig returns the production defaults.
func DefaultConfig() Config {
	return Config{
		UDPPort:          7882,
		SpeakingLevel:    50,
		SpeakingHangover: 500 * time.Millisecond,
		SpeakingInterval: 100 * time.Millisecond,
	}
}

// maxAudioLevel is the quietest RFC 6464 level (digital silence).
const maxAudioLevel = 127

// Validate reports the first problem with c, wrapping ErrInvalidConfig.
func (c Config) Validate() error {
	if c.UDPPort < 0 || c.UDPPort > 65535 {
		return fmt.Errorf("%w: UDPPort %d out of range", ErrInvalidConfig, c.UDPPort)
	}
	if c.UDPAddr != "" {
		ip := net.ParseIP(c.UDPAddr)
		if ip == nil {
			return fmt.Errorf("%w: UDPAddr %q is not an IP address", ErrInvalidConfig, c.UDPAddr)
		}
		if c.LoopbackOnly && !ip.IsLoopback() {
			return fmt.Errorf("%w: UDPAddr %q is not loopback but LoopbackOnly is set", ErrInvalidConfig, c.UDPAddr)
		}
	}
	for _, s := range c.PublicIPs {
		if net.ParseIP(s) == nil {
			return fmt.Errorf("%w: PublicIPs entry %q is not an IP address", ErrInvalidConfig, s)
		}
	}
	if c.LoopbackOnly && len(c.PublicIPs) > 0 {
		// Advertising a public address while refusing every non-loopback
		// remote cannot connect anybody.
		return fmt.Errorf("%w: PublicIPs and LoopbackOnly are exclusive", ErrInvalidConfig)
	}
	if c.SpeakingLevel > maxAudioLevel {
		return fmt.Errorf("%w: SpeakingLevel %d above %d", ErrInvalidConfig, c.SpeakingLevel, maxAudioLevel)
	}
	if c.SpeakingHangover <= 0 {
		return fmt.Errorf("%w: SpeakingHangover must be positive", ErrInvalidConfig)
	}
	if c.SpeakingInterval <= 0 {
		return fmt.Errorf("%w: SpeakingInterval must be positive", ErrInvalidConfig)
	}
	if c.LoudestN < 0 {
		return fmt.Errorf("%w: LoudestN %d is negative", ErrInvalidConfig, c.LoudestN)
	}
	return nil
}

// bindAddr is the address New binds its UDP socket to.
func (c Config) bindAddr() *net.UDPAddr {
	addr := &net.UDPAddr{Port: c.UDPPort}
	switch {
	case c.UDPAddr != "":
		addr.IP = net.ParseIP(c.UDPAddr)
	case c.LoopbackOnly:
		addr.IP = net.IPv4(127, 0, 0, 1)
	}
	return addr
}
