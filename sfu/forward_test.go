package sfu

import (
	"bytes"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/rtp"
	"go.uber.org/goleak"
)

// room is a router with clients, for end-to-end tests.
type room struct {
	t   *testing.T
	sfu *SFU
	r   *Router
}

func newRoom(t *testing.T, p RouterParams) *room {
	t.Helper()
	s := newTestSFU(t)
	r := s.NewRouter(p)
	t.Cleanup(func() { _ = r.Close() })
	return &room{t: t, sfu: s, r: r}
}

// speaker joins a client that publishes, allowed to.
func (rm *room) speaker(id PeerID) *testClient {
	c := newClient(rm.t, rm.r, id, roleSpeaker, clientOpts{})
	c.srv.SetPublishAllowed(true)
	c.connect()
	return c
}

func (rm *room) listener(id PeerID, opts clientOpts) *testClient {
	c := newClient(rm.t, rm.r, id, roleListener, opts)
	c.connect()
	return c
}

// warmUp sends tagged warm-up packets from sp until every listener has
// received a new one, so that measured packets do not race the renegotiation
// that adds the track.
func warmUp(t *testing.T, sp *testClient, listeners ...*testClient) {
	t.Helper()
	const tagWarm = 0xFF
	before := make([]int, len(listeners))
	for i, l := range listeners {
		before[i] = len(l.from(sp.id))
	}
	n := uint32(0)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	deadline := time.Now().Add(waitTimeout)
	for {
		all := true
		for i, l := range listeners {
			if len(l.from(sp.id)) == before[i] {
				all = false
			}
		}
		if all {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("warm-up: not every listener received %s", sp.id)
		}
		n++
		sp.send(counterPayload(tagWarm, n), 30)
		<-tick.C
	}
}

// measured returns the payloads with tag, in arrival order.
func measured(pkts []*rtp.Packet, tag byte) [][]byte {
	var out [][]byte
	for _, p := range pkts {
		if t, _ := payloadCounter(p.Payload); t == tag {
			out = append(out, p.Payload)
		}
	}
	return out
}

func TestOneSpeakerFiveListenersReceiveEveryPacketInOrder(t *testing.T) {
	rm := newRoom(t, RouterParams{Logger: testLogger()})
	sp := rm.speaker("speaker")
	var ls []*testClient
	for i := range 5 {
		ls = append(ls, rm.listener(PeerID(fmt.Sprintf("listener-%d", i)), clientOpts{}))
	}
	warmUp(t, sp, ls...)

	const tag, count = 0x01, 200
	var sent [][]byte
	var sentSeq []uint16
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for i := range uint32(count) {
		p := counterPayload(tag, i)
		sp.send(p, 20)
		sent = append(sent, p)
		sentSeq = append(sentSeq, sp.seq)
		<-tick.C
	}

	var wg sync.WaitGroup
	for _, l := range ls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			waitFor(t, string(l.id)+" all packets", func() bool {
				return len(measured(l.from(sp.id), tag)) >= count
			})
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	for _, l := range ls {
		got := l.from(sp.id)
		var payloads [][]byte
		var seqs []uint16
		for _, p := range got {
			if tg, _ := payloadCounter(p.Payload); tg == tag {
				payloads = append(payloads, p.Payload)
				seqs = append(seqs, p.SequenceNumber)
			}
		}
		if len(payloads) != count {
			t.Fatalf("%s: got %d measured packets, want %d", l.id, len(payloads), count)
		}
		for i := range payloads {
			if !bytes.Equal(payloads[i], sent[i]) {
				t.Fatalf("%s: packet %d payload differs (out of order or altered)", l.id, i)
			}
			if seqs[i] != sentSeq[i] {
				t.Fatalf("%s: packet %d sequence number %d, sent %d", l.id, i, seqs[i], sentSeq[i])
			}
		}
	}
	st := rm.sfu.Stats()
	if st.PacketsOut < 5*count || st.PublishedTracks != 1 || st.Peers != 6 {
		t.Fatalf("stats = %+v", st)
	}
}

func TestSlowListenerDoesNotReduceWhatOthersReceive(t *testing.T) {
	rm := newRoom(t, RouterParams{Logger: testLogger()})
	sp := rm.speaker("speaker")
	fast := []*testClient{rm.listener("fast-1", clientOpts{}), rm.listener("fast-2", clientOpts{})}
	slow := rm.listener("slow", clientOpts{slow: true})
	warmUp(t, sp, fast...)
	waitFor(t, "slow listener subscribed", func() bool { return slow.srv.Stats().PacketsSent > 0 })

	// Faster than real time, so the slow client's buffers overflow.
	const tag, count = 0x05, 300
	sentBefore := slow.srv.Stats().PacketsSent
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for i := range uint32(count) {
		sp.send(counterPayload(tag, i), 20)
		<-tick.C
	}
	for _, l := range fast {
		waitFor(t, string(l.id)+" every packet", func() bool {
			return len(measured(l.from(sp.id), tag)) == count
		})
		got := measured(l.from(sp.id), tag)
		for i, p := range got {
			if _, n := payloadCounter(p); n != uint32(i) {
				t.Fatalf("%s: packet %d has counter %d", l.id, i, n)
			}
		}
	}
	// The server wrote every packet to the slow listener too: nothing
	// queued up or was skipped on its account.
	waitFor(t, "writes to slow listener", func() bool {
		return slow.srv.Stats().PacketsSent-sentBefore == count
	})
	if e := slow.srv.Stats().WriteErrors; e != 0 {
		t.Fatalf("write errors to slow listener: %d", e)
	}
}

func TestListenerLeavingMidStreamDisturbsNobodyAndNothingLeaks(t *testing.T) {
	baseline := goleak.IgnoreCurrent()
	s, err := New(testConfig(), testLogger())
	if err != nil {
		t.Fatal(err)
	}
	r := s.NewRouter(RouterParams{Logger: testLogger()})
	rm := &room{t: t, sfu: s, r: r}
	sp := rm.speaker("speaker")
	ls := []*testClient{
		rm.listener("stays-1", clientOpts{}),
		rm.listener("leaves", clientOpts{}),
		rm.listener("stays-2", clientOpts{}),
	}
	warmUp(t, sp, ls...)

	// Stream in the background while the middle listener leaves.
	const tag = 0x06
	var sent atomic.Uint32
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				sp.send(counterPayload(tag, sent.Load()), 20)
				sent.Add(1)
			}
		}
	}()
	waitFor(t, "leaver hears the stream", func() bool { return len(measured(ls[1].from(sp.id), tag)) >= 10 })
	ls[1].close()
	atLeave := sent.Load()
	waitFor(t, "stream continues after the leave", func() bool {
		return len(measured(ls[0].from(sp.id), tag)) > int(atLeave)+20 &&
			len(measured(ls[2].from(sp.id), tag)) > int(atLeave)+20
	})
	close(stop)
	<-done
	total := int(sent.Load())
	for _, l := range []*testClient{ls[0], ls[2]} {
		waitFor(t, string(l.id)+" every packet", func() bool { return len(measured(l.from(sp.id), tag)) == total })
		for i, p := range measured(l.from(sp.id), tag) {
			if _, n := payloadCounter(p); n != uint32(i) {
				t.Fatalf("%s: packet %d has counter %d: a gap or reorder", l.id, i, n)
			}
		}
	}
	if n := r.Peers(); n != 3 {
		t.Fatalf("router has %d peers, want 3", n)
	}

	for _, c := range []*testClient{ls[0], ls[2], sp} {
		c.close()
	}
	if n := r.Peers(); n != 0 {
		t.Fatalf("router has %d peers after everyone left", n)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if st := s.Stats(); st.Peers != 0 || st.PublishedTracks != 0 {
		t.Fatalf("after close: %+v", st)
	}
	goleak.VerifyNone(t, baseline)
}
