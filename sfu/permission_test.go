package sfu

import (
	"testing"
	"time"
)

func TestUnpermittedSenderReachesNobody(t *testing.T) {
	rm := newRoom(t, RouterParams{Logger: testLogger()})
	sp := rm.speaker("speaker")
	// A listener whose client offers sendrecv and sends anyway: it is
	// never allowed to publish.
	rogue := newClient(t, rm.r, "rogue", roleSpeaker, clientOpts{})
	rogue.connect()
	l := rm.listener("listener", clientOpts{})
	warmUp(t, sp, l, rogue)

	const tag = 0x02
	for i := range uint32(50) {
		rogue.send(counterPayload(tag, i), 10)
		sp.send(counterPayload(tag, i), 10)
	}
	// Packets did reach the server: they were counted and dropped there.
	waitFor(t, "rogue packets dropped", func() bool {
		return rogue.srv.Stats().DroppedNotPermitted >= 50
	})
	// The legitimate speaker's packets were sent after the rogue's, on
	// another connection; once they have arrived, anything forwarded from
	// the rogue would have too.
	for _, c := range []*testClient{l, rogue} {
		waitFor(t, string(c.id)+" speaker packets", func() bool {
			return len(measured(c.from(sp.id), tag)) == 50
		})
	}
	for _, c := range []*testClient{l, sp} {
		if got := c.from(rogue.id); len(got) != 0 {
			t.Fatalf("%s received %d packets from an unpermitted sender", c.id, len(got))
		}
	}
	st := rm.sfu.Stats()
	if st.Drops[DropNotPermitted] < 50 {
		t.Fatalf("not_permitted drops = %d, want >= 50", st.Drops[DropNotPermitted])
	}
	if ps := rogue.srv.Stats(); ps.PacketsForwarded != 0 || ps.Publishing {
		t.Fatalf("rogue stats = %+v, want nothing forwarded", ps)
	}
	if st.PublishedTracks != 1 {
		t.Fatalf("published tracks = %d, want 1", st.PublishedTracks)
	}
}

func TestRevokingPublishStopsDeliveryAtOnceAndRestoringRepublishes(t *testing.T) {
	rm := newRoom(t, RouterParams{Logger: testLogger()})
	sp := rm.speaker("speaker")
	l := rm.listener("listener", clientOpts{})
	warmUp(t, sp, l)

	// The speaker streams continuously; counter is the last one sent.
	const tag = 0x03
	sendUntil := func(stop func() bool) (last uint32) {
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		deadline := time.Now().Add(waitTimeout)
		for !stop() {
			if time.Now().After(deadline) {
				t.Fatal("timed out while streaming")
			}
			last++
			sp.send(counterPayload(tag, last+sp.sentBase), 20)
			<-tick.C
		}
		sp.sentBase += last
		return sp.sentBase
	}
	maxReceived := func() uint32 {
		var m uint32
		for _, p := range l.from(sp.id) {
			if tg, n := payloadCounter(p.Payload); tg == tag && n > m {
				m = n
			}
		}
		return m
	}

	sendUntil(func() bool { return maxReceived() >= 20 })
	sp.srv.SetPublishAllowed(false)
	// Every packet sent from here on is processed after the flag changed.
	atRevoke := sp.sentBase
	dropsBefore := sp.srv.Stats().DroppedNotPermitted
	sendUntil(func() bool { return sp.srv.Stats().DroppedNotPermitted >= dropsBefore+20 })
	if m := maxReceived(); m > atRevoke {
		t.Fatalf("listener received packet %d, sent after publishing was revoked at %d", m, atRevoke)
	}
	// The track is then removed from the listener by renegotiation.
	waitFor(t, "downtrack removed", func() bool {
		_, sending := l.mLines()
		return sending == 0 && l.srv.Stats().Subscriptions == 0
	})
	if st := rm.sfu.Stats(); st.PublishedTracks != 0 {
		t.Fatalf("published tracks = %d after revoke", st.PublishedTracks)
	}

	sp.srv.SetPublishAllowed(true)
	atRestore := sp.sentBase
	sendUntil(func() bool { return maxReceived() > atRestore })
	// The emptied m-line was reused: upstream plus one.
	if total, sending := l.mLines(); total != 2 || sending != 1 {
		t.Fatalf("listener has %d m-lines, %d sending, after republish; want 2, 1", total, sending)
	}
	if st := rm.sfu.Stats(); st.PublishedTracks != 1 {
		t.Fatalf("published tracks = %d after restore", st.PublishedTracks)
	}
}
