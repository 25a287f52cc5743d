package sfu

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"
)

// relayLink is a relay between two routers of two SFUs (two nodes),
// signaled by direct calls: from has the tracks, to receives them.
type relayLink struct {
	in  *RelayIn
	out *Peer

	work chan func()
	quit chan struct{}
	wg   sync.WaitGroup
}

// linkRelay opens a relay that brings from's local tracks into to, and
// waits for it to connect.
func linkRelay(t testing.TB, from, to *Router, toNode string) *relayLink {
	t.Helper()
	l := &relayLink{work: make(chan func(), 256), quit: make(chan struct{})}
	// One goroutine carries the signaling between the two, in order, as
	// the WebSocket between two nodes does.
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		for {
			select {
			case <-l.quit:
				return
			case f := <-l.work:
				f()
			}
		}
	}()
	post := func(f func()) {
		select {
		case l.work <- f:
		case <-l.quit:
		}
	}
	var err error
	ready := make(chan struct{})
	l.in, err = to.NewRelayIn(RelayInParams{Logger: testLogger(), OnCandidate: func(c *webrtc.ICECandidateInit) {
		init := webrtc.ICECandidateInit{}
		if c != nil {
			init = *c
		}
		post(func() {
			<-ready
			if err := l.out.AddICECandidate(init); err != nil && !errors.Is(err, ErrClosed) {
				t.Errorf("relay out: AddICECandidate: %v", err)
			}
		})
	}})
	if err != nil {
		t.Fatal(err)
	}
	l.out, err = from.NewRelayPeer(RelayPeerID(toNode), PeerParams{
		Logger: testLogger(),
		OnOffer: func(sdp string) {
			post(func() {
				answer, err := l.in.HandleOffer(sdp)
				if err != nil {
					t.Errorf("relay in: HandleOffer: %v", err)
					return
				}
				ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
				defer cancel()
				if err := l.out.HandleAnswer(ctx, answer); err != nil && !errors.Is(err, ErrClosed) {
					t.Errorf("relay out: HandleAnswer: %v", err)
				}
			})
		},
		OnCandidate: func(c *webrtc.ICECandidateInit) {
			init := webrtc.ICECandidateInit{}
			if c != nil {
				init = *c
			}
			if err := l.in.AddICECandidate(init); err != nil {
				t.Errorf("relay in: AddICECandidate: %v", err)
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	close(ready)
	t.Cleanup(l.close)
	offer, err := l.in.Offer()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	answer, err := l.out.HandleOffer(ctx, offer)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.in.HandleAnswer(answer); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "relay connected", func() bool { return l.in.ConnectionState() == webrtc.PeerConnectionStateConnected })
	return l
}

func (l *relayLink) close() {
	select {
	case <-l.quit:
		return
	default:
	}
	close(l.quit)
	l.wg.Wait()
	_ = l.in.Close()
	_ = l.out.Close()
}

// speakingLog records a router's OnSpeaking calls.
type speakingLog struct {
	mu  sync.Mutex
	ids map[PeerID]int
}

func (s *speakingLog) on(id PeerID, speaking bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ids == nil {
		s.ids = make(map[PeerID]int)
	}
	if speaking {
		s.ids[id]++
	}
}

func (s *speakingLog) count(id PeerID) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ids[id]
}

// A speaker on node A is heard by listeners on node B through one relay:
// every packet, byte-identical and in order; speaking is reported by A
// alone; a revoked permission, applied on A, silences B too; and closing
// the relay unpublishes the track on B.
func TestRelayCarriesAnotherNodesSpeakerToListenersHere(t *testing.T) {
	var spokeA, spokeB speakingLog
	a := newRoom(t, RouterParams{Logger: testLogger(), OnSpeaking: spokeA.on})
	b := newRoom(t, RouterParams{Logger: testLogger(), OnSpeaking: spokeB.on})
	sp := a.speaker("speaker")
	local := a.listener("listener-a", clientOpts{})
	remote1 := b.listener("listener-b1", clientOpts{})
	remote2 := b.listener("listener-b2", clientOpts{})
	link := linkRelay(t, a.r, b.r, "b")
	warmUp(t, sp, local, remote1, remote2)
	if n := link.in.Tracks(); n != 1 {
		t.Fatalf("relay carries %d tracks, want the speaker's one", n)
	}

	const tag = 0x01
	const n = 100
	var sent [][]byte
	for i := range uint32(n) {
		p := counterPayload(tag, i)
		sent = append(sent, p)
		sp.send(p, 10) // loud: voice
		time.Sleep(2 * time.Millisecond)
	}
	for _, l := range []*testClient{local, remote1, remote2} {
		waitFor(t, string(l.id)+" got every packet", func() bool { return len(measured(l.from(sp.id), tag)) >= n })
		got := measured(l.from(sp.id), tag)
		for i := range sent {
			if !bytes.Equal(got[i], sent[i]) {
				t.Fatalf("%s: packet %d differs from what the speaker sent", l.id, i)
			}
		}
	}
	waitFor(t, "A reports the speaker speaking", func() bool { return spokeA.count(sp.id) > 0 })
	if c := spokeB.count(sp.id); c != 0 {
		t.Errorf("node B reported the relayed speaker speaking %d times; only the speaker's node may", c)
	}

	// Revoked where the audio enters: nothing crosses the relay.
	sp.srv.SetPublishAllowed(false)
	before := len(remote1.from(sp.id))
	for i := range uint32(20) {
		sp.send(counterPayload(0x02, i), 10)
		time.Sleep(2 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond) // a window to observe, not synchronization
	if got := len(remote1.from(sp.id)); got != before {
		t.Errorf("listener on B received %d packets after the speaker's permission was revoked on A", got-before)
	}
	sp.srv.SetPublishAllowed(true)
	waitFor(t, "the relayed track is back on B", func() bool {
		sp.send(counterPayload(0x03, 0), 10)
		return len(measured(remote1.from(sp.id), 0x03)) > 0
	})

	// Closing the relay unpublishes the track on B.
	link.close()
	waitFor(t, "B unpublished the relayed track", func() bool { return !b.r.isPublished(sp.id) })
	waitFor(t, "B's listener lost the subscription", func() bool { return remote1.srv.Stats().Subscriptions == 0 })
}

// A node relays only what enters the room at it: a third node relaying
// from B gets B's own speaker, never A's speaker that B relays. Every node
// gets each speaker once, from the speaker's node.
func TestRelayForwardsOnlyTracksThatEnteredHere(t *testing.T) {
	a := newRoom(t, RouterParams{Logger: testLogger()})
	b := newRoom(t, RouterParams{Logger: testLogger()})
	c := newRoom(t, RouterParams{Logger: testLogger()})
	spA := a.speaker("speaker-a")
	spB := b.speaker("speaker-b")
	lb := b.listener("listener-b", clientOpts{})
	lc := c.listener("listener-c", clientOpts{})
	linkRelay(t, a.r, b.r, "b")
	toC := linkRelay(t, b.r, c.r, "c")
	warmUp(t, spA, lb)
	warmUp(t, spB, lc)
	for i := range uint32(30) {
		spA.send(counterPayload(0x04, i), 10)
		time.Sleep(2 * time.Millisecond)
	}
	waitFor(t, "B hears A's speaker", func() bool { return len(measured(lb.from(spA.id), 0x04)) == 30 })
	if got := lc.from(spA.id); len(got) != 0 {
		t.Fatalf("node C received %d packets of A's speaker through B; relays must not chain", len(got))
	}
	if n := toC.in.Tracks(); n != 1 {
		t.Fatalf("the relay from B to C carries %d tracks, want B's own speaker only", n)
	}
}
