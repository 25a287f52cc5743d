package sfu

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/interceptor/pkg/report"
	"github.com/pion/sdp/v3"
	"github.com/pion/transport/v4/stdnet"
	"github.com/pion/webrtc/v4"
)

// Opus as every browser sends it. It is the only codec we negotiate: the
// SFU never decodes, so every participant must speak the same codec.
var opusCodec = webrtc.RTPCodecParameters{
	RTPCodecCapability: webrtc.RTPCodecCapability{
		MimeType:    webrtc.MimeTypeOpus,
		ClockRate:   48000,
		Channels:    2,
		SDPFmtpLine: "minptime=10;useinbandfec=1",
	},
	PayloadType: 111,
}

// SFU is the media plane of one process: a single UDP socket shared by every
// PeerConnection, one webrtc.API, and the rooms' Routers. Create it with New.
type SFU struct {
	cfg Config
	log *slog.Logger
	api *webrtc.API
	// relayAPI builds the receiving side of relays (relay.go): the same
	// stack without the UDP mux, so that each relay has a socket of its
	// own. Two relays between the same two nodes (one each way, or one per
	// room) would otherwise share one address pair, which the mux on the
	// other node cannot tell apart.
	relayAPI *webrtc.API
	addr     *net.UDPAddr
	mux      ice.UDPMux
	socks    []*net.UDPConn // the mux's sockets, which the fast path sends on
	stats    counters

	mu      sync.Mutex // guards routers and closed
	routers map[*Router]struct{}
	closed  bool
}

// New validates cfg, binds the UDP socket and builds the WebRTC stack. A nil
// logger discards logs.
func New(cfg Config, logger *slog.Logger) (*SFU, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	pionLog := pionLogs{log: logger}
	socks, err := listen(cfg, pionLog)
	if err != nil {
		return nil, err
	}
	mux := socks.mux

	api, err := newAPI(cfg, mux, pionLog)
	if err != nil {
		return nil, errors.Join(err, mux.Close())
	}
	relayAPI, err := newAPI(cfg, nil, pionLog)
	if err != nil {
		return nil, errors.Join(err, mux.Close())
	}
	s := &SFU{
		cfg:      cfg,
		log:      logger,
		api:      api,
		relayAPI: relayAPI,
		addr:     socks.addr,
		mux:      mux,
		socks:    socks.conns,
		routers:  make(map[*Router]struct{}),
	}
	listens := make([]string, 0, 4)
	for _, a := range mux.GetListenAddresses() {
		listens = append(listens, a.String())
	}
	logger.Info("sfu listening", "udp", listens, "loopback_only", cfg.LoopbackOnly)
	return s, nil
}

// newAPI builds the one webrtc.API every PeerConnection comes from (but
// those of relays' receiving sides, which have no mux: mux is nil). Pion
// copies the MediaEngine per connection and builds the interceptors per
// connection from the registry, so sharing the API shares no state.
func newAPI(cfg Config, mux ice.UDPMux, logs pionLogs) (*webrtc.API, error) {
	m := &webrtc.MediaEngine{}
	if err := m.RegisterCodec(opusCodec, webrtc.RTPCodecTypeAudio); err != nil {
		return nil, fmt.Errorf("sfu: register opus: %w", err)
	}
	// Browsers put the RFC 6464 level on every packet only when it is
	// negotiated; speaking detection depends on it.
	if err := m.RegisterHeaderExtension(
		webrtc.RTPHeaderExtensionCapability{URI: sdp.AudioLevelURI}, webrtc.RTPCodecTypeAudio,
	); err != nil {
		return nil, fmt.Errorf("sfu: register audio level: %w", err)
	}

	// Only RTCP receiver reports (for the speakers) and sender reports
	// (to the listeners): they keep clients' jitter and round-trip
	// statistics (and their stats UIs) meaningful. Sender reports are ours
	// (reports.go), not Pion's interceptor, because the forwarding fast
	// path writes packets past Pion, where its interceptor would not count
	// them.
	// No NACK: a retransmitted 20ms Opus frame arrives after the receiver's
	// jitter buffer has already concealed it, and Opus in-band FEC
	// (useinbandfec=1) covers single losses at no round trip.
	// No TWCC or other congestion control: audio runs at a fixed, small
	// bitrate and we never transcode, so there is nothing to adapt.
	ir := &interceptor.Registry{}
	rr, err := report.NewReceiverInterceptor()
	if err != nil {
		return nil, fmt.Errorf("sfu: rtcp reports: %w", err)
	}
	ir.Add(rr)

	se := webrtc.SettingEngine{LoggerFactory: logs}
	// One view of the host's interfaces for every connection: without it
	// each ICE agent lists them again over netlink, about a millisecond
	// of CPU per join. The mux's sockets are fixed at start anyway.
	n, err := stdnet.NewNet()
	if err != nil {
		return nil, fmt.Errorf("sfu: network interfaces: %w", err)
	}
	se.SetNet(n)
	// One socket for everything: the mux tells connections apart by ICE
	// ufrag, so deployments open a single UDP port.
	if mux != nil {
		se.SetICEUDPMux(mux)
	}
	// Never multicast mDNS queries or announcements: a server has real
	// addresses, and browsers' .local candidates are answered by their
	// peer-reflexive address anyway.
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)

	if cfg.LoopbackOnly {
		loopback := func(ip net.IP) bool { return ip.IsLoopback() }
		// Pion skips 127.0.0.1 unless asked; with the socket bound there
		// it is our only address.
		se.SetIncludeLoopbackCandidate(true)
		se.SetIPFilter(loopback)
		// Chrome prefers its eth0 socket over loopback (network-cost);
		// refusing non-loopback remotes pins the pair to 127.0.0.1.
		se.SetRemoteIPFilter(loopback)
		se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	} else {
		nets := []webrtc.NetworkType{webrtc.NetworkTypeUDP4, webrtc.NetworkTypeUDP6}
		if ip := cfg.bindAddr().IP; ip != nil && ip.To4() != nil {
			nets = nets[:1]
		}
		se.SetNetworkTypes(nets)
	}
	if len(cfg.PublicIPs) > 0 {
		// 1:1 NAT: advertise the public address in place of the private
		// one in host candidates. This is SetNAT1To1IPs(ips, host), which
		// Pion deprecates in favour of rewrite rules.
		if err := se.SetICEAddressRewriteRules(webrtc.ICEAddressRewriteRule{
			External:        append([]string(nil), cfg.PublicIPs...),
			AsCandidateType: webrtc.ICECandidateTypeHost,
			Mode:            webrtc.ICEAddressRewriteReplace,
		}); err != nil {
			return nil, fmt.Errorf("%w: public ips: %w", ErrInvalidConfig, err)
		}
	}

	return webrtc.NewAPI(
		webrtc.WithMediaEngine(m),
		webrtc.WithInterceptorRegistry(ir),
		webrtc.WithSettingEngine(se),
	), nil
}

// UDPAddr returns the address of the (first) media socket; every socket
// shares its port, which with UDPPort 0 is the one the kernel chose.
func (s *SFU) UDPAddr() *net.UDPAddr {
	return s.addr
}

// NewRouter creates the router of one room. After Close the router is
// created closed: its NewPeer returns ErrClosed.
func (s *SFU) NewRouter(p RouterParams) *Router {
	r := newRouter(s, p)
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		_ = r.Close()
		return r
	}
	s.routers[r] = struct{}{}
	s.mu.Unlock()
	return r
}

func (s *SFU) forgetRouter(r *Router) {
	s.mu.Lock()
	delete(s.routers, r)
	s.mu.Unlock()
}

// Stats returns a snapshot of the process-wide counters.
func (s *SFU) Stats() Stats {
	return s.stats.snapshot()
}

// Close closes every router (and so every peer), then the UDP socket. It is
// idempotent.
func (s *SFU) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	routers := make([]*Router, 0, len(s.routers))
	for r := range s.routers {
		routers = append(routers, r)
	}
	s.mu.Unlock()

	var errs []error
	for _, r := range routers {
		errs = append(errs, r.Close())
	}
	// Closing the mux closes the socket too.
	errs = append(errs, s.mux.Close())
	return errors.Join(errs...)
}
