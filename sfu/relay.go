package sfu

import (
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
)

// The node-to-node relay. A room whose members are on several nodes has
// each speaker's audio enter at the speaker's node; every other node with
// members of the room opens one relay connection to it and receives each
// of its speakers' tracks once, then fans them out to its own listeners.
//
// A relay is a standard WebRTC PeerConnection: ICE on the nodes' media
// ports, DTLS-SRTP, one sendonly m-line per track, so everything on the
// wire between nodes is encrypted and authenticated as it is to clients.
// The node that has the tracks sees the other node as a peer of the room
// (NewRelayPeer), which subscribes to the tracks that entered here and to
// nothing relayed from elsewhere; the node that wants them runs a RelayIn,
// which plays the client's part (it offers first, then answers the
// offers that add and remove tracks) and publishes what it receives into
// its own Router. Who may open a relay, and how the two exchange their
// descriptions, is the signaling layer's business.
//
// A relayed track carries the publisher's PeerID as its msid stream ID,
// and is published under that ID. The permission to speak is applied
// where the audio enters, at the speaker's node, before the relay: a
// demoted speaker's packets never leave it.

// relayPeerPrefix starts the PeerID of every relay peer. Participants' IDs
// never contain it (user IDs are usr_ and base32).
const relayPeerPrefix = "~relay-"

// RelayPeerID is the PeerID of the relay peer that serves node.
func RelayPeerID(node string) PeerID { return PeerID(relayPeerPrefix + node) }

// NewRelayPeer adds another node's relay connection to the router. It is
// a Peer driven exactly like a listener's (the other node offers first,
// then answers the offers that add tracks), except that it only ever
// receives the tracks of peers connected to this node, and never
// publishes.
func (r *Router) NewRelayPeer(id PeerID, p PeerParams) (*Peer, error) {
	peer, err := r.addPeer(id, p, true)
	if err != nil {
		return nil, err
	}
	peer.log.Info("relay peer added")
	return peer, nil
}

// RelayInParams configures a RelayIn.
type RelayInParams struct {
	// Logger; nil means the router's.
	Logger *slog.Logger
	// OnCandidate trickles a local ICE candidate to the other node; nil
	// means end of candidates. It must not block.
	OnCandidate func(c *webrtc.ICECandidateInit)
	// OnConnectionState reports the PeerConnection's state. Optional; it
	// must not block.
	OnConnectionState func(webrtc.PeerConnectionState)
}

// RelayIn receives the tracks of another node's speakers and publishes
// them in this router. Create it with Router.NewRelayIn; the zero value is
// not usable.
type RelayIn struct {
	router *Router
	log    *slog.Logger
	pc     *webrtc.PeerConnection
	stats  peerCounters
	// allowed is every relayed track's permission: always true, because
	// the speaker's node decided it before relaying.
	allowed atomic.Bool

	sigMu      sync.Mutex // serializes descriptions and guards held, remoteSet
	held       []webrtc.ICECandidateInit
	remoteSet  bool
	mu         sync.Mutex // guards srcs and closed
	srcs       map[*source]struct{}
	closed     bool
	wg         sync.WaitGroup // the forwarding and RTCP goroutines
	closedOnce sync.Once
}

// NewRelayIn creates the receiving side of a relay. Call Offer, send the
// offer to the other node, and apply its answer with HandleAnswer; later
// offers from it go to HandleOffer.
func (r *Router) NewRelayIn(p RelayInParams) (*RelayIn, error) {
	r.mu.Lock()
	closed := r.closed
	r.mu.Unlock()
	if closed {
		return nil, ErrClosed
	}
	log := p.Logger
	if log == nil {
		log = r.log
	}
	// Its own socket (relayAPI): see SFU.relayAPI.
	pc, err := r.sfu.relayAPI.NewPeerConnection(webrtc.Configuration{
		BundlePolicy:  webrtc.BundlePolicyMaxBundle,
		RTCPMuxPolicy: webrtc.RTCPMuxPolicyRequire,
	})
	if err != nil {
		return nil, fmt.Errorf("sfu: relay peer connection: %w", err)
	}
	ri := &RelayIn{router: r, log: log, pc: pc, srcs: make(map[*source]struct{})}
	ri.allowed.Store(true)
	// The first m-line only receives: the other node answers it inactive,
	// as it does a listener's, and adds its tracks on m-lines of its own.
	if _, err := pc.AddTransceiverFromKind(webrtc.RTPCodecTypeAudio,
		webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}); err != nil {
		_ = pc.Close()
		return nil, fmt.Errorf("sfu: relay transceiver: %w", err)
	}
	pc.OnTrack(ri.onTrack)
	pc.OnICECandidate(func(c *webrtc.ICECandidate) {
		if p.OnCandidate == nil {
			return
		}
		if c == nil {
			p.OnCandidate(nil)
			return
		}
		init := c.ToJSON()
		p.OnCandidate(&init)
	})
	if p.OnConnectionState != nil {
		pc.OnConnectionStateChange(p.OnConnectionState)
	}
	return ri, nil
}

// Offer makes the first offer.
func (ri *RelayIn) Offer() (string, error) {
	ri.sigMu.Lock()
	defer ri.sigMu.Unlock()
	offer, err := ri.pc.CreateOffer(nil)
	if err == nil {
		err = ri.pc.SetLocalDescription(offer)
	}
	if err != nil {
		return "", fmt.Errorf("sfu: relay offer: %w", err)
	}
	return offer.SDP, nil
}

// HandleAnswer applies the other node's answer to Offer.
func (ri *RelayIn) HandleAnswer(answer string) error {
	if _, err := parseSDP(answer, webrtc.SDPTypeAnswer); err != nil {
		return err
	}
	ri.sigMu.Lock()
	defer ri.sigMu.Unlock()
	if err := ri.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: answer}); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidSDP, err)
	}
	return ri.flushLocked()
}

// HandleOffer applies an offer of the other node (tracks added or
// removed) and returns the answer.
func (ri *RelayIn) HandleOffer(offer string) (string, error) {
	if _, err := parseSDP(offer, webrtc.SDPTypeOffer); err != nil {
		return "", err
	}
	ri.sigMu.Lock()
	defer ri.sigMu.Unlock()
	if err := ri.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer}); err != nil {
		return "", fmt.Errorf("%w: %w", ErrInvalidSDP, err)
	}
	if err := ri.flushLocked(); err != nil {
		return "", err
	}
	answer, err := ri.pc.CreateAnswer(nil)
	if err == nil {
		err = ri.pc.SetLocalDescription(answer)
	}
	if err != nil {
		return "", fmt.Errorf("%w: relay answer: %w", ErrInvalidSDP, err)
	}
	return answer.SDP, nil
}

// AddICECandidate adds a candidate of the other node, holding it until
// the remote description is set. An empty Candidate means the end.
func (ri *RelayIn) AddICECandidate(c webrtc.ICECandidateInit) error {
	ri.sigMu.Lock()
	defer ri.sigMu.Unlock()
	if !ri.remoteSet {
		ri.held = append(ri.held, c)
		return nil
	}
	if err := ri.pc.AddICECandidate(c); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidCandidate, err)
	}
	return nil
}

func (ri *RelayIn) flushLocked() error {
	ri.remoteSet = true
	held := ri.held
	ri.held = nil
	for _, c := range held {
		if err := ri.pc.AddICECandidate(c); err != nil {
			return fmt.Errorf("%w: %w", ErrInvalidCandidate, err)
		}
	}
	return nil
}

// ConnectionState returns the state of the relay's PeerConnection.
func (ri *RelayIn) ConnectionState() webrtc.PeerConnectionState { return ri.pc.ConnectionState() }

// Tracks returns how many relayed tracks are being received.
func (ri *RelayIn) Tracks() int {
	ri.mu.Lock()
	defer ri.mu.Unlock()
	return len(ri.srcs)
}

// onTrack publishes a relayed track in the router under its stream ID.
func (ri *RelayIn) onTrack(track *webrtc.TrackRemote, receiver *webrtc.RTPReceiver) {
	id := PeerID(track.StreamID())
	if track.Kind() != webrtc.RTPCodecTypeAudio || validPeerID(id) != nil {
		ri.log.Warn("relayed track ignored", "stream", track.StreamID(), "kind", track.Kind().String())
		return
	}
	r := ri.router
	src := &source{
		id: id, remote: true, track: track, receiver: receiver,
		log:     ri.log.With("source", id, "ssrc", uint32(track.SSRC())),
		allowed: &ri.allowed, sfuStats: &r.sfu.stats, peerStats: &ri.stats,
		voiceLevel: r.sfu.cfg.SpeakingLevel, ended: make(chan struct{}),
	}
	for _, e := range receiver.GetParameters().HeaderExtensions {
		if e.URI == sdp.AudioLevelURI && e.ID > 0 && e.ID < 256 {
			src.levelID = uint8(e.ID)
		}
	}
	ri.mu.Lock()
	if ri.closed {
		ri.mu.Unlock()
		return
	}
	ri.srcs[src] = struct{}{}
	ri.wg.Add(2)
	go func() {
		defer ri.wg.Done()
		src.forward()
		ri.mu.Lock()
		delete(ri.srcs, src)
		ri.mu.Unlock()
		r.removeRemoteSource(src)
	}()
	go func() { defer ri.wg.Done(); src.readRTCP() }()
	ri.mu.Unlock()
	src.log.Info("relayed track started")
	r.addRemoteSource(src)
}

// Close closes the relay connection; its tracks end and are unpublished.
// It waits for its goroutines. Idempotent.
func (ri *RelayIn) Close() error {
	var err error
	ri.closedOnce.Do(func() {
		ri.mu.Lock()
		ri.closed = true
		ri.mu.Unlock()
		err = ri.pc.Close()
		ri.wg.Wait()
	})
	if err != nil {
		return fmt.Errorf("sfu: close relay: %w", err)
	}
	return nil
}

// addRemoteSource publishes a relayed track; a newer track of the same
// publisher replaces an older one.
func (r *Router) addRemoteSource(src *source) {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return
	}
	r.remote[src.id] = src
	ch := r.refreshLocked(src.id)
	r.mu.Unlock()
	r.apply(ch)
}

// removeRemoteSource forgets a relayed track once it has ended.
func (r *Router) removeRemoteSource(src *source) {
	r.mu.Lock()
	if r.remote[src.id] == src {
		delete(r.remote, src.id)
	}
	ch := r.refreshLocked(src.id)
	r.mu.Unlock()
	r.apply(ch)
}

// LocalSources returns how many peers connected here have a live upstream
// track: whether audio of the room enters at this node.
func (r *Router) LocalSources() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, src := range r.sources {
		if !src.isEnded() {
			n++
		}
	}
	return n
}
