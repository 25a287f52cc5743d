package sfu

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
)

// waitTimeout bounds every wait in these tests. It is generous because the
// suite must pass with -race on two loaded cores; waits end as soon as
// their condition holds.
const waitTimeout = 20 * time.Second

// testLogger discards logs unless SFU_TEST_LOG is set. It never writes to
// t.Log: Pion goroutines may log after a test has returned.
func testLogger() *slog.Logger {
	if os.Getenv("SFU_TEST_LOG") == "" {
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func testConfig() Config {
	cfg := DefaultConfig()
	cfg.UDPPort = 0
	cfg.LoopbackOnly = true
	return cfg
}

// newTestSFU starts an SFU on an ephemeral loopback port, closed at cleanup.
func newTestSFU(t testing.TB) *SFU {
	t.Helper()
	s, err := New(testConfig(), testLogger())
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// waitFor polls cond until it holds or waitTimeout passes.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		<-tick.C
	}
}

// clientAPI is what a browser would be: Opus and the audio-level extension
// only, loopback only, trickle ICE.
func clientAPI(t testing.TB) *webrtc.API {
	t.Helper()
	m := &webrtc.MediaEngine{}
	if err := m.RegisterCodec(opusCodec, webrtc.RTPCodecTypeAudio); err != nil {
		t.Fatal(err)
	}
	if err := m.RegisterHeaderExtension(webrtc.RTPHeaderExtensionCapability{URI: sdp.AudioLevelURI},
		webrtc.RTPCodecTypeAudio); err != nil {
		t.Fatal(err)
	}
	ir := &interceptor.Registry{}
	if err := webrtc.ConfigureRTCPReports(ir); err != nil {
		t.Fatal(err)
	}
	se := webrtc.SettingEngine{LoggerFactory: pionLogs{log: testLogger()}}
	loopback := func(ip net.IP) bool { return ip.IsLoopback() }
	se.SetIncludeLoopbackCandidate(true)
	se.SetIPFilter(loopback)
	se.SetRemoteIPFilter(loopback)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	return webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(ir), webrtc.WithSettingEngine(se))
}

// clientRole is how a test client sets up its first m-line.
type clientRole int

const (
	roleListener clientRole = iota // recvonly
	roleSpeaker                    // sendrecv with an Opus track
)

// clientOpts tweak a test client.
type clientOpts struct {
	slow         bool // never read received tracks
	manualOffers bool // server offers go to offers for the test to handle
}

// testClient is a Pion PeerConnection standing in for a participant's
// browser, wired to its server Peer by direct calls. It behaves like a
// well-behaved client: it makes the first offer, trickles candidates both
// ways (holding the server's until it has an answer), answers server
// offers one at a time, and drops server offers that the server has
// rolled back (the impolite side of perfect negotiation).
type testClient struct {
	t    testing.TB
	id   PeerID
	api  *webrtc.API
	pc   *webrtc.PeerConnection
	srv  *Peer
	opts clientOpts

	track  *webrtc.TrackLocalStaticRTP // when speaking
	sender *webrtc.RTPSender
	seq    uint16
	ts     uint32
	// sentBase lets a test number payloads across several sending runs.
	sentBase uint32

	offers  chan string // server offers, in order
	work    chan func() // the client's signaling goroutine
	quit    chan struct{}
	wg      sync.WaitGroup
	answers atomic.Int64 // server offers answered

	mu        sync.Mutex // guards below
	remoteSet bool
	heldCands []webrtc.ICECandidateInit
	streams   map[string]*received // by msid stream ID (the source peer)
	tracks    int                  // OnTrack events
	closed    bool
}

// newClient creates a client and its server peer in router r.
func newClient(t testing.TB, r *Router, id PeerID, role clientRole, opts clientOpts) *testClient {
	t.Helper()
	api := clientAPI(t)
	pc, err := api.NewPeerConnection(webrtc.Configuration{BundlePolicy: webrtc.BundlePolicyMaxBundle})
	if err != nil {
		t.Fatal(err)
	}
	c := &testClient{
		t: t, id: id, api: api, pc: pc, opts: opts,
		offers:  make(chan string, 64),
		work:    make(chan func()),
		quit:    make(chan struct{}),
		streams: make(map[string]*received),
	}
	switch role {
	case roleSpeaker:
		c.track, err = webrtc.NewTrackLocalStaticRTP(opusCodec.RTPCodecCapability, "mic", string(id))
		if err != nil {
			t.Fatal(err)
		}
		tr, err := pc.AddTransceiverFromTrack(c.track,
			webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendrecv})
		if err != nil {
			t.Fatal(err)
		}
		c.sender = tr.Sender()
		c.goRun(func() { drainRTCP(c.sender) })
	case roleListener:
		if _, err := pc.AddTransceiverFromKind(webrtc.RTPCodecTypeAudio,
			webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}); err != nil {
			t.Fatal(err)
		}
	}
	pc.OnTrack(c.onTrack)

	c.srv, err = r.NewPeer(id, PeerParams{
		Logger:      testLogger(),
		OnOffer:     c.onServerOffer,
		OnCandidate: c.onServerCandidate,
	})
	if err != nil {
		_ = pc.Close()
		t.Fatalf("NewPeer(%s): %v", id, err)
	}
	pc.OnICECandidate(func(cand *webrtc.ICECandidate) {
		var init webrtc.ICECandidateInit // zero: end of candidates
		if cand != nil {
			init = cand.ToJSON()
		}
		if err := c.srv.AddICECandidate(init); err != nil && !errors.Is(err, ErrClosed) {
			t.Errorf("%s: server AddICECandidate: %v", id, err)
		}
	})
	c.goRun(c.signalLoop)
	t.Cleanup(c.close)
	return c
}

func (c *testClient) goRun(f func()) {
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		f()
	}()
}

// signalLoop is the client's signaling goroutine: it applies server offers
// and runs client-initiated negotiations, one at a time.
func (c *testClient) signalLoop() {
	for {
		var offers <-chan string
		if !c.opts.manualOffers {
			offers = c.offers
		}
		select {
		case <-c.quit:
			return
		case f := <-c.work:
			f()
		case o := <-offers:
			// ErrClosed: the test closed the router or the peer meanwhile.
			if err := c.answerOffer(o); err != nil && !c.isClosed() && !errors.Is(err, ErrClosed) {
				c.t.Errorf("%s: answer server offer: %v", c.id, err)
			}
		}
	}
}

// do runs f on the signaling goroutine and returns its error.
func (c *testClient) do(f func() error) error {
	done := make(chan error, 1)
	select {
	case c.work <- func() { done <- f() }:
	case <-c.quit:
		return ErrClosed
	}
	return <-done
}

func (c *testClient) isClosed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}

func (c *testClient) onServerOffer(sdp string) {
	select {
	case c.offers <- sdp:
	default:
		c.t.Errorf("%s: server offer queue full", c.id)
	}
}

func (c *testClient) onServerCandidate(cand *webrtc.ICECandidateInit) {
	init := webrtc.ICECandidateInit{}
	if cand != nil {
		init = *cand
	}
	c.mu.Lock()
	if !c.remoteSet {
		c.heldCands = append(c.heldCands, init)
		c.mu.Unlock()
		return
	}
	c.mu.Unlock()
	if err := c.pc.AddICECandidate(init); err != nil && !c.isClosed() {
		c.t.Errorf("%s: client AddICECandidate: %v", c.id, err)
	}
}

func (c *testClient) setRemote(desc webrtc.SessionDescription) error {
	if err := c.pc.SetRemoteDescription(desc); err != nil {
		return err
	}
	c.mu.Lock()
	c.remoteSet = true
	held := c.heldCands
	c.heldCands = nil
	c.mu.Unlock()
	for _, h := range held {
		if err := c.pc.AddICECandidate(h); err != nil {
			return fmt.Errorf("held candidate: %w", err)
		}
	}
	return nil
}

// negotiate makes a client offer and applies the server's answer.
func (c *testClient) negotiate() error {
	return c.do(func() error {
		offer, err := c.pc.CreateOffer(nil)
		if err != nil {
			return err
		}
		if err := c.pc.SetLocalDescription(offer); err != nil {
			return err
		}
		ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
		defer cancel()
		answer, err := c.srv.HandleOffer(ctx, offer.SDP)
		if err != nil {
			return fmt.Errorf("HandleOffer: %w", err)
		}
		return c.setRemote(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: answer})
	})
}

// connect negotiates and waits until the connection is up.
func (c *testClient) connect() {
	c.t.Helper()
	if err := c.negotiate(); err != nil {
		c.t.Fatalf("%s: negotiate: %v", c.id, err)
	}
	waitFor(c.t, string(c.id)+" connected", func() bool {
		return c.pc.ConnectionState() == webrtc.PeerConnectionStateConnected
	})
}

// answerOffer applies one server offer, unless the server has rolled it
// back meanwhile: a real client tells that by ordering (it drops offers
// that arrive while its own is out); here we ask the server, which makes
// the test independent of timing.
func (c *testClient) answerOffer(sdp string) error {
	if !c.srv.isOutstandingOffer(sdp) {
		return nil
	}
	if err := c.setRemote(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: sdp}); err != nil {
		return err
	}
	answer, err := c.pc.CreateAnswer(nil)
	if err != nil {
		return err
	}
	if err := c.pc.SetLocalDescription(answer); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	if err := c.srv.HandleAnswer(ctx, answer.SDP); err != nil {
		return fmt.Errorf("HandleAnswer: %w", err)
	}
	c.answers.Add(1)
	return nil
}

// isOutstandingOffer reports whether sdp is the server's current,
// unanswered offer.
func (p *Peer) isOutstandingOffer(sdp string) bool {
	ok, _ := call(context.Background(), p.ops, func() (bool, error) {
		d := p.pc.PendingLocalDescription()
		return p.neg.offerOut && d != nil && d.SDP == sdp, nil
	})
	return ok
}

// outstandingOffer waits for the server's current offer (manualOffers
// mode), skipping offers it has withdrawn.
func (c *testClient) outstandingOffer() string {
	c.t.Helper()
	for {
		o := c.nextOffer()
		if c.srv.isOutstandingOffer(o) {
			return o
		}
	}
}

// nextOffer waits for a server offer (manualOffers mode).
func (c *testClient) nextOffer() string {
	c.t.Helper()
	select {
	case o := <-c.offers:
		return o
	case <-time.After(waitTimeout):
		c.t.Fatalf("%s: no server offer", c.id)
		return ""
	}
}

// close closes the server peer and the client's connection.
func (c *testClient) close() {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closed = true
	c.mu.Unlock()
	if err := c.srv.Close(); err != nil {
		c.t.Errorf("%s: server peer Close: %v", c.id, err)
	}
	close(c.quit)
	_ = c.pc.Close()
	c.wg.Wait()
}
