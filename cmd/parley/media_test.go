package main

import (
	"bytes"
	"context"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// A modified client that sends RTP while only a listener must never be
// heard: the SFU receives its packets and drops every one.
func TestListenerSendingRTPIsNeverForwarded(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	ts := startServer(t)
	rec := loadSpeech(t)

	speaker := ts.signIn(t, ctx, "Host")
	room, err := speaker.api.CreateRoom(ctx, "Who may speak", "")
	if err != nil {
		t.Fatal(err)
	}
	speaker.connect(t, ctx, ts, room.ID, true)
	rogue := ts.signIn(t, ctx, "Rogue listener")
	rogue.connect(t, ctx, ts, room.ID, true) // offers to send, as a listener
	victim := ts.signIn(t, ctx, "Listener")
	victim.connect(t, ctx, ts, room.ID, false)

	hw, err := speaker.sess.NewSender()
	if err != nil {
		t.Fatal(err)
	}
	rw, err := rogue.sess.NewSender()
	if err != nil {
		t.Fatal(err)
	}
	warmUp(t, ctx, speaker, hw, []*person{rogue, victim})

	before := ts.Media.Stats().Drops["not_permitted"]
	marker := []byte("rogue audio that must not be forwarded")
	first := sendRecording(t, ctx, hw, rec, func(i int) {
		if _, err := rw.Send(marker, 0); err != nil {
			t.Fatalf("rogue send: %v", err)
		}
	})
	n := len(rec.Packets)
	// The control: the speaker was heard in full.
	expectRecording(t, ctx, victim, speaker, rec, first)
	// The rogue's packets reached the server, and were dropped there.
	if dropped := ts.Media.Stats().Drops["not_permitted"] - before; dropped < uint64(n/2) {
		t.Fatalf("server counted %d not_permitted drops, want about %d: the rogue's packets never reached the SFU, so this test proves nothing", dropped, n)
	}
	for _, who := range []*person{speaker, victim} {
		for _, p := range who.rec.snapshot() {
			if p.stream == string(rogue.id) || bytes.Equal(p.data, marker) {
				t.Fatalf("%s received the rogue listener's audio", who.name)
			}
		}
	}
}

// A listener who leaves in the middle of the stream does not disturb the
// others, and once everyone has left, no goroutine of theirs remains.
func TestLeavingMidStreamAndNoLeaks(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	ts := startServer(t)
	rec := loadSpeech(t)
	// The baseline: a running server with no one connected.
	baseline := goleak.IgnoreCurrent()

	speaker, listeners := openRoom(t, ctx, ts, "Comings and goings", "Stays 1", "Leaves", "Stays 2")
	w, err := speaker.sess.NewSender()
	if err != nil {
		t.Fatal(err)
	}
	warmUp(t, ctx, speaker, w, listeners)
	leaver := listeners[1]
	first := sendRecording(t, ctx, w, rec, func(i int) {
		if i == len(rec.Packets)/2 {
			// Leave abruptly, as a phone that loses its network does.
			leaver.sess.CloseNow()
		}
	})
	for _, l := range []*person{listeners[0], listeners[2]} {
		expectRecording(t, ctx, l, speaker, rec, first)
	}

	for _, p := range append([]*person{speaker}, listeners...) {
		_ = p.sess.Close()
	}
	// The room's hub and router close when its last session ends.
	deadline := time.Now().Add(10 * time.Second)
	for ts.Media.Stats().Peers != 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := ts.Media.Stats().Peers; n != 0 {
		t.Fatalf("%d peers remain after everyone left", n)
	}
	ts.http.CloseIdleConnections()
	noGoroutinesBut(t, baseline)
}

// noGoroutinesBut fails the test if goroutines other than baseline's
// remain once everyone has left. Pion's goroutines end shortly after Close
// returns; they get up to 10 s (goleak's own retries cover about 2 s).
func noGoroutinesBut(t *testing.T, baseline goleak.Option) {
	t.Helper()
	var leakErr error
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end); {
		if leakErr = goleak.Find(baseline); leakErr == nil {
			return
		}
	}
	t.Fatalf("goroutines remain after everyone left: %v", leakErr)
}
