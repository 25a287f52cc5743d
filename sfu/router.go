package sfu

import (
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// RouterParams configures a Router.
type RouterParams struct {
	// Logger; nil means the SFU's logger.
	Logger *slog.Logger
	// OnSpeaking is called from the router's own goroutine, never under a
	// lock, when a published track starts or stops speaking, and with false
	// when a speaking track is unpublished or its peer leaves. It must not
	// block. nil means nobody listens.
	OnSpeaking func(id PeerID, speaking bool)
	// Now is the clock for speaking detection, read only when a tick is
	// handled; nil means time.Now.
	Now func() time.Time
	// Ticks drives speaking evaluation and the loudest-N choice; nil means
	// a ticker at Config.SpeakingInterval. Tests inject both.
	Ticks <-chan time.Time
	// OnSources is called, never under a lock, when a peer's upstream
	// track starts or ends, or a peer leaves: LocalSources may have
	// changed. It must not block. nil means nobody listens.
	OnSources func()
	// LoudestN is the room's loudest-N setting (see SetLoudestN): n > 0
	// forwards the n loudest speakers, n < 0 everyone, 0 the SFU's default.
	LoudestN int
}

// Router is the media of one room: a group of peers in which every
// published track is forwarded to every other peer.
type Router struct {
	sfu        *SFU
	log        *slog.Logger
	onSpeaking func(PeerID, bool)
	onSources  func()
	now        func() time.Time
	ticks      <-chan time.Time
	ticker     *time.Ticker // nil when Ticks was injected
	loudest    atomic.Int64 // RouterParams.LoudestN, or SetLoudestN's

	mu        sync.Mutex // guards peers, sources, remote, published, closed
	peers     map[PeerID]*Peer
	sources   map[PeerID]*source // each peer's live upstream track
	remote    map[PeerID]*source // tracks relayed from other nodes (relay.go)
	published map[PeerID]*source // the subset being forwarded
	closed    bool

	changed chan struct{} // capacity 1: published changed, re-check speakers
	quit    chan struct{}
	wg      sync.WaitGroup // the speaking and report goroutines
}

func newRouter(s *SFU, p RouterParams) *Router {
	r := &Router{
		sfu:        s,
		log:        p.Logger,
		onSpeaking: p.OnSpeaking,
		onSources:  p.OnSources,
		now:        p.Now,
		ticks:      p.Ticks,
		peers:      make(map[PeerID]*Peer),
		sources:    make(map[PeerID]*source),
		remote:     make(map[PeerID]*source),
		published:  make(map[PeerID]*source),
		changed:    make(chan struct{}, 1),
		quit:       make(chan struct{}),
	}
	if r.log == nil {
		r.log = s.log
	}
	r.loudest.Store(int64(p.LoudestN))
	if r.onSpeaking == nil {
		r.onSpeaking = func(PeerID, bool) {}
	}
	if r.onSources == nil {
		r.onSources = func() {}
	}
	if r.now == nil {
		r.now = time.Now
	}
	if r.ticks == nil {
		r.ticker = time.NewTicker(s.cfg.SpeakingInterval)
		r.ticks = r.ticker.C
	}
	r.wg.Add(2)
	go func() {
		defer r.wg.Done()
		r.runSpeaking()
	}()
	go func() {
		defer r.wg.Done()
		r.runReports()
	}()
	return r
}

// NewPeer adds a participant. It returns ErrClosed after Close,
// ErrPeerExists if id is already in the router, and ErrInvalidPeerID for an
// id that cannot be an SDP stream ID.
func (r *Router) NewPeer(id PeerID, p PeerParams) (*Peer, error) {
	peer, err := r.addPeer(id, p, false)
	if err != nil {
		return nil, err
	}
	peer.log.Debug("peer added")
	return peer, nil
}

// addPeer builds a peer, a participant's or another node's relay
// connection, and adds it to the router.
func (r *Router) addPeer(id PeerID, p PeerParams, relay bool) (*Peer, error) {
	if err := validPeerID(id); err != nil {
		return nil, err
	}
	if err := r.canAdd(id); err != nil {
		return nil, err
	}
	// Building a PeerConnection generates a DTLS certificate; do it outside
	// the lock, then check again.
	peer, err := newPeer(r, id, p)
	if err != nil {
		return nil, err
	}
	peer.relay = relay // before anyone else can see the peer
	r.mu.Lock()
	err = r.canAddLocked(id)
	if err == nil {
		r.peers[id] = peer
	}
	r.mu.Unlock()
	if err != nil {
		_ = peer.Close()
		return nil, err
	}
	r.sfu.stats.peers.Add(1)
	return peer, nil
}

func (r *Router) canAdd(id PeerID) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.canAddLocked(id)
}

func (r *Router) canAddLocked(id PeerID) error {
	if r.closed {
		return ErrClosed
	}
	if _, ok := r.peers[id]; ok {
		return fmt.Errorf("%w: %s", ErrPeerExists, id)
	}
	return nil
}

// validPeerID checks that id can be an msid stream ID: 1 to 64 RFC 4566
// token characters.
func validPeerID(id PeerID) error {
	if len(id) == 0 || len(id) > 64 {
		return fmt.Errorf("%w: length %d", ErrInvalidPeerID, len(id))
	}
	for _, c := range []byte(id) {
		ok := c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' ||
			c > 0x20 && c < 0x7f && !slices.Contains([]byte(" \"(),/:;<=>?@[\\]{}"), c)
		if !ok {
			return fmt.Errorf("%w: %q", ErrInvalidPeerID, id)
		}
	}
	return nil
}

// Peers returns the number of peers in the router.
func (r *Router) Peers() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.peers)
}

// Close closes every peer and stops the router's goroutine. Idempotent.
func (r *Router) Close() error {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return nil
	}
	r.closed = true
	peers := make([]*Peer, 0, len(r.peers))
	for _, p := range r.peers {
		peers = append(peers, p)
	}
	r.mu.Unlock()

	var errs []error
	for _, p := range peers {
		errs = append(errs, p.Close())
	}
	close(r.quit)
	r.wg.Wait()
	if r.ticker != nil {
		r.ticker.Stop()
	}
	r.sfu.forgetRouter(r)
	return errors.Join(errs...)
}

// removePeer forgets p and unpublishes its track. It reports whether p
// was registered (a peer that lost the NewPeer race never was).
func (r *Router) removePeer(p *Peer) bool {
	r.mu.Lock()
	if r.peers[p.id] != p {
		r.mu.Unlock()
		return false
	}
	delete(r.peers, p.id)
	// Its track ends when its connection closes; unpublish it now.
	delete(r.sources, p.id)
	ch := r.refreshLocked(p.id)
	r.mu.Unlock()
	r.apply(ch)
	r.onSources()
	return true
}

// addSource records p's upstream track and publishes it if allowed,
// replacing one that has ended. It reports false if p has left the router
// or still has a live track.
func (r *Router) addSource(p *Peer, src *source) bool {
	r.mu.Lock()
	if old := r.sources[p.id]; r.peers[p.id] != p || old != nil && !old.isEnded() {
		r.mu.Unlock()
		return false
	}
	r.sources[p.id] = src
	ch := r.refreshLocked(p.id)
	r.mu.Unlock()
	r.apply(ch)
	r.onSources()
	return true
}

// removeSource forgets src once its track has ended.
func (r *Router) removeSource(src *source) {
	r.mu.Lock()
	if r.sources[src.id] == src {
		delete(r.sources, src.id)
	}
	ch := r.refreshLocked(src.id)
	r.mu.Unlock()
	r.apply(ch)
	r.onSources()
}

// refresh re-decides whether id's track is published, after its
// permission changed.
func (r *Router) refresh(id PeerID) {
	r.mu.Lock()
	ch := r.refreshLocked(id)
	r.mu.Unlock()
	r.apply(ch)
}

// publication is a decision of refreshLocked, carried out by apply after
// the lock is released.
type publication struct {
	id        PeerID
	published bool    // the track is now published (else unpublished)
	kick      []*Peer // whose subscriptions changed; nil: no change
}

// refreshLocked publishes id's track if the peer is present, allowed to
// publish and has a track, and unpublishes it otherwise. A track relayed
// from another node is published when no local peer has the ID: there,
// the speaker's own node applied the permission before relaying it.
func (r *Router) refreshLocked(id PeerID) publication {
	p := r.peers[id]
	src := r.sources[id]
	want := (*source)(nil)
	switch {
	case r.closed:
	case p != nil:
		if src != nil && p.publish.Load() {
			want = src
		}
	case r.remote[id] != nil:
		want = r.remote[id]
	}
	cur := r.published[id]
	if cur == want {
		return publication{}
	}
	switch {
	case cur == nil:
		r.sfu.stats.published.Add(1)
	case want == nil:
		r.sfu.stats.published.Add(-1)
	}
	if want == nil {
		delete(r.published, id)
	} else {
		r.published[id] = want
	}
	ch := publication{id: id, published: want != nil, kick: make([]*Peer, 0, len(r.peers))}
	for other, q := range r.peers {
		if other != id {
			ch.kick = append(ch.kick, q)
		}
	}
	return ch
}

// apply tells the other peers and the speaking goroutine about a change.
func (r *Router) apply(ch publication) {
	if ch.kick == nil {
		return
	}
	if ch.published {
		r.log.Info("track published", "peer", ch.id)
	} else {
		r.log.Info("track unpublished", "peer", ch.id)
	}
	for _, p := range ch.kick {
		p.kick()
	}
	select {
	case r.changed <- struct{}{}: // wake the speaking goroutine
	default:
	}
}

// isPublished reports whether id's track is being forwarded.
func (r *Router) isPublished(id PeerID) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.published[id] != nil
}

// subscriptionsFor returns the tracks peer id should receive: every
// published track but its own. A relay peer (another node) receives only
// the tracks that entered the room here, so that each node gets every
// speaker once, from the speaker's node, and nothing loops.
func (r *Router) subscriptionsFor(id PeerID) map[PeerID]*source {
	r.mu.Lock()
	defer r.mu.Unlock()
	relay := r.peers[id] != nil && r.peers[id].relay
	out := make(map[PeerID]*source, len(r.published))
	for other, src := range r.published {
		if other != id && !(relay && src.remote) {
			out[other] = src
		}
	}
	return out
}

// publishedSnapshot returns the published tracks, for speaking detection.
func (r *Router) publishedSnapshot(into map[PeerID]*source) {
	clear(into)
	r.mu.Lock()
	defer r.mu.Unlock()
	for id, src := range r.published {
		into[id] = src
	}
}
