package main

import (
	"context"
	"testing"
	"time"

	"github.com/parley-audio/parley/internal/testenv"
	"github.com/parley-audio/parley/rooms"
	"github.com/parley-audio/parley/signaling"
)

// testRedis returns the URL of the real Redis the tests use, and a key
// prefix of the test's own, whose keys are deleted afterwards (see
// testenv.Redis).
func testRedis(t *testing.T) (url, prefix string) {
	t.Helper()
	_, prefix = testenv.Redis(t)
	return testenv.RedisURL(), prefix
}

// Two server processes share one Redis (and one database): a moderator
// connected to server A promotes, then demotes, a speaker connected to
// server B, whose audio a listener on B hears, and then stops hearing
// within 100 ms. Events cross between the processes through Redis, and
// the cut happens where the audio enters.
func TestStageAcrossTwoServersOnRedis(t *testing.T) {
	url, prefix := testRedis(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	dir := t.TempDir()
	shared := func(c *serveConfig) {
		c.RedisURL, c.RedisPrefix, c.DataDir = url, prefix, dir
		c.Cluster.Placement = signaling.PlaceLocal // each person stays on the server the test puts them on
	}
	a := startServer(t, shared)
	b := startServer(t, shared)

	mod := a.signIn(t, ctx, "Moderator on A")
	room, err := mod.api.CreateRoom(ctx, "Two servers", "")
	if err != nil {
		t.Fatal(err)
	}
	mod.room = room.ID
	mod.connect(t, ctx, a, room.ID, true)
	guest := b.signIn(t, ctx, "Guest on B")
	guest.connect(t, ctx, b, room.ID, false)
	listener := b.signIn(t, ctx, "Listener on B")
	listener.connect(t, ctx, b, room.ID, false)

	w := promote(t, ctx, mod, guest)
	warmUp(t, ctx, guest, w, []*person{listener})
	stop, done := make(chan struct{}), make(chan struct{})
	go talk(w, stop, done)
	if err := listener.rec.waitFor(ctx, func(p []packet) bool { return len(p) > 50 }); err != nil {
		t.Fatal(err)
	}
	cutAt := time.Now()
	act(t, ctx, mod, rooms.ActMoveToAudience, guest)
	time.AfterFunc(time.Second, func() { close(stop) })
	<-done
	last, n := lastFrom(listener.rec, guest)
	t.Logf("listener on B: %d packets from the guest; the last arrived %v after the demotion was sent on A", n, last.Sub(cutAt).Round(time.Millisecond))
	if after := last.Sub(cutAt); after > 100*time.Millisecond {
		t.Fatalf("the demoted speaker was still heard %v after the demotion, want within 100 ms", after)
	}
}
