package sfu

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/webrtc/v4"
)

// PeerID identifies a participant: their user ID. It is also the msid
// stream ID of the track forwarded from them, which is how clients tell
// whose voice a track carries.
type PeerID string

// PeerParams configures a Peer. Callbacks are never called under a lock
// and must not block; in particular they must not call the Peer's methods
// synchronously (queue the work instead).
type PeerParams struct {
	// Logger; nil means the router's. It is scoped with the peer's ID.
	Logger *slog.Logger
	// OnOffer delivers a server-initiated offer to the client, whose
	// answer comes back through HandleAnswer. An offer can be made while
	// HandleOffer is answering the client (it is made right after the
	// answer, on the same goroutine): the caller must deliver it after
	// that answer, as signaling's candidate gate does.
	OnOffer func(sdp string)
	// OnCandidate trickles a local ICE candidate to the client; nil means
	// end of candidates. Candidates can be delivered before HandleOffer
	// has returned the answer, so clients must hold remote candidates
	// until they have set the remote description (as this package does).
	OnCandidate func(c *webrtc.ICECandidateInit)
	// OnConnectionState reports the PeerConnection's state. Optional.
	OnConnectionState func(webrtc.PeerConnectionState)
}

// Peer is one participant's PeerConnection: their upstream track (if they
// send one) and one downstream m-line per other published track.
type Peer struct {
	id     PeerID
	sfu    *SFU
	router *Router
	log    *slog.Logger
	params PeerParams
	pc     *webrtc.PeerConnection
	ops    *opQueue

	relay   bool        // another node's relay connection (relay.go); immutable
	publish atomic.Bool // may this peer's track be forwarded; read per packet
	stats   peerCounters
	created time.Time   // for OnFirstAudio
	heard   atomic.Bool // a packet has been sent to this peer
	// transport is the forwarding fast path to this peer (transport.go);
	// nil means Pion's write path. Set by the op goroutine, read per packet.
	transport atomic.Pointer[peerTransport]
	queued    atomic.Bool // a reconcile op is queued and has not started

	mu     sync.Mutex // guards src and closed
	src    *source    // the upstream track, while it lives
	closed bool

	wg sync.WaitGroup // forwarding and RTCP goroutines

	// Owned by the op goroutine (see negotiate.go).
	neg negotiation
}

func newPeer(r *Router, id PeerID, params PeerParams) (*Peer, error) {
	log := params.Logger
	if log == nil {
		log = r.log
	}
	pc, err := r.sfu.api.NewPeerConnection(webrtc.Configuration{
		// Audio needs one transport; a client that does not bundle is not
		// worth a second candidate set.
		BundlePolicy:  webrtc.BundlePolicyMaxBundle,
		RTCPMuxPolicy: webrtc.RTCPMuxPolicyRequire,
	})
	if err != nil {
		return nil, fmt.Errorf("sfu: new peer connection: %w", err)
	}
	p := &Peer{
		id:      id,
		sfu:     r.sfu,
		router:  r,
		log:     log.With("peer", id),
		params:  params,
		pc:      pc,
		ops:     newOpQueue(),
		neg:     newNegotiation(),
		created: time.Now(),
	}
	pc.OnTrack(p.onTrack)
	pc.OnICECandidate(p.onICECandidate)
	pc.OnConnectionStateChange(func(webrtc.PeerConnectionState) {
		// Pion calls this from a fresh goroutine per change, so changes
		// can arrive out of order; report the current state, in order,
		// from the op goroutine.
		p.ops.push(p.reportState)
	})
	go p.ops.run()
	return p, nil
}

// ID returns the peer's ID.
func (p *Peer) ID() PeerID { return p.id }

// HandleOffer applies the client's offer and returns the server's answer.
// The client always makes the first offer. If a server offer is
// outstanding (glare) the server rolls it back, answers, and offers again
// afterwards. Errors wrap ErrInvalidSDP, ErrClosed or ctx's error.
func (p *Peer) HandleOffer(ctx context.Context, sdp string) (answer string, err error) {
	return call(ctx, p.ops, func() (string, error) { return p.handleOffer(sdp) })
}

// HandleAnswer applies the client's answer to the server's outstanding
// offer. Errors wrap ErrNoPendingOffer, ErrInvalidSDP, ErrClosed or ctx's
// error; after ErrInvalidSDP the offer stays outstanding.
func (p *Peer) HandleAnswer(ctx context.Context, sdp string) error {
	_, err := call(ctx, p.ops, func() (struct{}, error) { return struct{}{}, p.handleAnswer(sdp) })
	return err
}

// AddICECandidate adds a remote candidate. An empty Candidate means end of
// candidates. Candidates that arrive before the offer are held and applied
// after it. Errors wrap ErrInvalidCandidate or ErrClosed.
func (p *Peer) AddICECandidate(c webrtc.ICECandidateInit) error {
	if s := strings.TrimPrefix(c.Candidate, "candidate:"); s != "" {
		_, err := ice.UnmarshalCandidate(s)
		switch {
		case errors.Is(err, ice.ErrUnknownCandidateTyp), errors.Is(err, ice.ErrDetermineNetworkType):
			// Well-formed but unusable here (Pion would discard it too):
			// not the client's fault, so not an error.
			p.log.Debug("ice candidate ignored", "err", err)
			return nil
		case err != nil:
			return fmt.Errorf("%w: %w", ErrInvalidCandidate, err)
		}
	}
	_, err := call(context.Background(), p.ops, func() (struct{}, error) {
		return struct{}{}, p.addCandidate(c)
	})
	return err
}

// SetPublishAllowed sets whether this peer's track may be forwarded. The
// forwarding loop checks the flag on every packet, so revoking takes effect
// on the next packet; removing the track from the other peers (and adding
// it back when allowed again) follows by renegotiation. New peers are not
// allowed to publish.
func (p *Peer) SetPublishAllowed(allowed bool) {
	if p.publish.Swap(allowed) == allowed {
		return
	}
	p.log.Info("publish permission changed", "allowed", allowed)
	p.router.refresh(p.id)
}

// Stats returns a snapshot of the peer's counters.
func (p *Peer) Stats() PeerStats {
	return PeerStats{
		PacketsIn:           p.stats.packetsIn.Load(),
		BytesIn:             p.stats.bytesIn.Load(),
		PacketsForwarded:    p.stats.forwarded.Load(),
		DroppedNotPermitted: p.stats.notPermitted.Load(),
		PacketsSent:         p.stats.packetsSent.Load(),
		BytesSent:           p.stats.bytesOut.Load(),
		WriteErrors:         p.stats.writeErrors.Load(),
		Subscriptions:       int(p.stats.subscriptions.Load()),
		Publishing:          p.router.isPublished(p.id),
	}
}

// Close closes the PeerConnection and removes the peer from its router;
// the other peers renegotiate to drop its track. It waits for the peer's
// goroutines. Idempotent. It must not be called from one of the peer's own
// callbacks (OnOffer, OnConnectionState), which run on its goroutine.
func (p *Peer) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	p.mu.Unlock()

	registered := p.router.removePeer(p)
	// Let a running op finish; drop the queued ones. After this the op
	// goroutine's state is ours.
	p.ops.stop()
	for _, d := range p.neg.downs {
		// Stop the sources writing to a connection that is going away.
		d.src.downs.remove(d)
	}
	p.stats.subscriptions.Store(0)
	err := p.pc.Close()
	// Closing the connection ends the forwarding and RTCP loops.
	p.wg.Wait()
	if registered {
		p.sfu.stats.peers.Add(-1)
	}
	p.log.Debug("peer closed")
	if err != nil {
		return fmt.Errorf("sfu: close peer connection: %w", err)
	}
	return nil
}

// goLocked runs f as one of the peer's goroutines, which Close waits for.
// The caller holds p.mu and has checked that the peer is not closed.
func (p *Peer) goLocked(f func()) {
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		f()
	}()
}

// onTrack is Pion's callback for a new upstream track (on its goroutine).
func (p *Peer) onTrack(track *webrtc.TrackRemote, receiver *webrtc.RTPReceiver) {
	if track.Kind() != webrtc.RTPCodecTypeAudio {
		return
	}
	if p.relay {
		// A relay connection only carries tracks to the other node.
		p.log.Warn("track sent on a relay connection ignored", "ssrc", uint32(track.SSRC()))
		return
	}
	src := newSource(p, track, receiver)
	p.mu.Lock()
	if p.closed || p.src != nil && !p.src.isEnded() {
		p.mu.Unlock()
		// One upstream track per participant; a second one is not read
		// (Pion's bounded buffer drops its packets).
		p.log.Warn("extra upstream track ignored", "ssrc", uint32(track.SSRC()))
		return
	}
	p.src = src
	p.goLocked(func() {
		src.forward()
		p.sourceEnded(src)
	})
	p.goLocked(src.readRTCP)
	p.mu.Unlock()

	p.log.Info("upstream track started", "ssrc", uint32(track.SSRC()), "level_ext", src.levelID)
	if !p.router.addSource(p, src) {
		p.log.Warn("upstream track not added: peer left the router")
	}
}

func (p *Peer) sourceEnded(src *source) {
	p.mu.Lock()
	if p.src == src {
		p.src = nil
	}
	p.mu.Unlock()
	p.router.removeSource(src)
}

// onICECandidate is Pion's callback for a gathered local candidate.
func (p *Peer) onICECandidate(c *webrtc.ICECandidate) {
	if p.params.OnCandidate == nil {
		return
	}
	if c == nil {
		p.params.OnCandidate(nil)
		return
	}
	init := c.ToJSON()
	p.params.OnCandidate(&init)
}

// reportState runs on the op goroutine.
func (p *Peer) reportState() {
	s := p.pc.ConnectionState()
	if s == p.neg.lastState {
		return
	}
	p.neg.lastState = s
	p.log.Debug("connection state", "state", s.String())
	if s == webrtc.PeerConnectionStateConnected && !p.neg.connected {
		// The client has applied our answer (ICE used its credentials), so
		// server offers can no longer overtake it.
		p.neg.connected = true
		p.setupFastPath()
		p.kick()
	}
	if p.params.OnConnectionState != nil {
		p.params.OnConnectionState(s)
	}
}

// kick asks for the peer's subscriptions to be brought up to date with the
// router. Repeated kicks before the work starts coalesce into one.
func (p *Peer) kick() {
	if p.queued.Swap(true) {
		return
	}
	if !p.ops.push(p.reconcile) {
		p.queued.Store(false)
	}
}

// firstAudio is called by forwarding goroutines after each packet sent to
// p until one of them wins the swap; the load keeps it to one atomic read
// per write afterwards.
func (p *Peer) firstAudio() {
	if p.heard.Load() || p.heard.Swap(true) {
		return
	}
	if p.sfu != nil && p.sfu.cfg.OnFirstAudio != nil {
		p.sfu.cfg.OnFirstAudio(time.Since(p.created))
	}
}
