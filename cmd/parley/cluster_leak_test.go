package main

import (
	"context"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/parley-audio/parley/internal/testenv"
	"github.com/parley-audio/parley/signaling"
)

// When the last people of a room leave two nodes, everything the cluster
// started for the room ends: the relay on both sides, the room's loop
// that holds it in the registry, the hubs and routers. Nothing else may
// remain of them.
func TestClusterRoomLeavesNoGoroutines(t *testing.T) {
	redisURL, prefix := testRedis(t)
	db := testenv.Postgres(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	shared := func(c *serveConfig) {
		c.RedisURL, c.RedisPrefix, c.DatabaseURL = redisURL, prefix, db
		c.Cluster.Placement = signaling.PlaceLocal
	}
	a := startServer(t, shared)
	b := startServer(t, shared)
	speaker := a.signIn(t, ctx, "Speaker on A")
	listener := b.signIn(t, ctx, "Listener on B")
	room, err := speaker.api.CreateRoom(ctx, "Leaves nothing", "")
	if err != nil {
		t.Fatal(err)
	}
	// The baseline: two running nodes with nobody connected.
	baseline := goleak.IgnoreCurrent()

	speaker.connect(t, ctx, a, room.ID, true)
	listener.connect(t, ctx, b, room.ID, false)
	w, err := speaker.sess.NewSender()
	if err != nil {
		t.Fatal(err)
	}
	warmUp(t, ctx, speaker, w, []*person{listener})
	_ = listener.sess.Close()
	_ = speaker.sess.Close()
	deadline := time.Now().Add(10 * time.Second)
	for (a.Media.Stats().Peers != 0 || b.Media.Stats().Peers != 0) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond) // peers close asynchronously
	}
	if pa, pb := a.Media.Stats().Peers, b.Media.Stats().Peers; pa != 0 || pb != 0 {
		t.Fatalf("peers remain after everyone left: A %d, B %d", pa, pb)
	}
	a.http.CloseIdleConnections()
	b.http.CloseIdleConnections()
	noGoroutinesBut(t, baseline)
}
