package main

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/parley-audio/parley/internal/testenv"
	"github.com/parley-audio/parley/signaling"
	"github.com/parley-audio/parley/signaling/client"
)

// A join that arrives at a node not holding the room is answered with a
// redirect to the node that holds it (placement "room"), which a client
// follows with the ticket it got; a ticket that was not issued for the
// node, or forged, buys nothing: the join is placed again.
func TestJoinIsPlacedOnTheNodeHoldingTheRoom(t *testing.T) {
	redisURL, prefix := testRedis(t)
	db := testenv.Postgres(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	shared := func(c *serveConfig) {
		c.RedisURL, c.RedisPrefix, c.DatabaseURL = redisURL, prefix, db
		c.Cluster.NodeTTL = 2 * time.Second
	}
	a := startServer(t, shared)
	b := startServer(t, shared)

	mod := a.signIn(t, ctx, "Moderator on A")
	room, err := mod.api.CreateRoom(ctx, "Placed", "")
	if err != nil {
		t.Fatal(err)
	}
	mod.connect(t, ctx, a, room.ID, true)
	// A holds the room once its hub has renewed its hold (at once).
	listener := b.signIn(t, ctx, "Listener arriving at B")
	s, err := client.Dial(ctx, b.BaseURL, listener.api.Token, client.Options{Loopback: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var redirect *client.RedirectError
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err = s.Join(ctx, string(room.ID))
		if errors.As(err, &redirect) || time.Now().After(deadline) {
			break
		}
		// Joined at B before A's hold was visible: leave and try again.
		if err == nil {
			if _, err := s.Request(ctx, signaling.TypeLeave, struct{}{}); err != nil {
				t.Fatal(err)
			}
		}
		time.Sleep(100 * time.Millisecond) // the hold is renewed every second at most
	}
	if redirect == nil {
		t.Fatalf("join at B: %v, want a redirect to A", err)
	}
	r := redirect.Redirect
	if r.Reason != signaling.RedirectPlacement || r.RoomID != room.ID || r.Ticket == "" ||
		r.URL != strings.Replace(a.BaseURL, "http://", "ws://", 1)+"/api/v1/signal" {
		t.Fatalf("redirect = %+v, want placement to A's signaling URL with a ticket", r)
	}
	// A forged ticket is no ticket: B places the join again.
	if _, err := s.JoinWithTicket(ctx, string(room.ID), r.Ticket+"x"); !errors.As(err, &redirect) {
		t.Fatalf("join at B with a forged ticket: %v, want another redirect", err)
	}
	// The ticket was issued for A: presented at B, it is placed again too.
	if _, err := s.JoinWithTicket(ctx, string(room.ID), r.Ticket); !errors.As(err, &redirect) {
		t.Fatalf("join at B with A's ticket: %v, want another redirect", err)
	}
	// Followed, it joins at A.
	n, j, err := client.Connect(ctx, b.BaseURL, listener.api.Token, string(room.ID), client.Options{Loopback: true})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	if j.Self.UserID != listener.id || len(j.Participants) != 2 {
		t.Fatalf("joined after the redirect: %+v", j)
	}
	if err := n.StartMedia(ctx, client.MediaOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := n.WaitConnected(ctx); err != nil {
		t.Fatal(err)
	}
	if pa, pb := a.Media.Stats().Peers, b.Media.Stats().Peers; pa != 2 || pb != 0 {
		t.Fatalf("peers: A %d, B %d; want both people on A", pa, pb)
	}
}

// The relay endpoint refuses anyone without a relay token of the cluster
// for this node, before any WebSocket opens; a single node has none.
func TestRelayEndpointRefusesWhatIsNotANodeOfTheCluster(t *testing.T) {
	redisURL, prefix := testRedis(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	a := startServer(t, func(c *serveConfig) { c.RedisURL, c.RedisPrefix = redisURL, prefix })
	single := startServer(t)
	url := strings.Replace(a.BaseURL, "http://", "ws://", 1) + "/internal/v1/relay"
	for _, tt := range []struct {
		name, auth string
	}{
		{"no token", ""},
		{"a user's bearer token", "Bearer " + a.signIn(t, ctx, "Someone").api.Token},
		{"garbage", "Parley-Relay not-a-token"},
		{"a token signed with another key", "Parley-Relay eyJmcm9tIjoibmRfeCIsInRvIjoibmRfeSIsInJvb20iOiJybV94IiwiZXhwIjo5OTk5OTk5OTk5fQ.AAAA"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			if tt.auth != "" {
				h.Set("Authorization", tt.auth)
			}
			_, resp, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPHeader: h})
			if err == nil || resp == nil || resp.StatusCode != http.StatusUnauthorized {
				t.Fatalf("dial = %v, %+v; want 401", err, resp)
			}
		})
	}
	_, resp, err := websocket.Dial(ctx, strings.Replace(single.BaseURL, "http://", "ws://", 1)+"/internal/v1/relay", nil)
	if err == nil || resp == nil || resp.StatusCode != http.StatusNotFound {
		t.Fatalf("relay on a single node: %v, %+v; want 404", err, resp)
	}
}

// A draining node takes no new participants (joins are redirected), tells
// its clients where to go, and shuts down after --drain-timeout even when
// a client never moves: that one gets a goodbye.
func TestDrainRedirectsJoinsAndEndsAfterItsTimeout(t *testing.T) {
	redisURL, prefix := testRedis(t)
	db := testenv.Postgres(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	shared := func(c *serveConfig) {
		c.RedisURL, c.RedisPrefix, c.DatabaseURL = redisURL, prefix, db
		c.Cluster.Placement = signaling.PlaceLocal
		c.Cluster.NodeTTL = 2 * time.Second
		c.Cluster.DrainTimeout = time.Second
	}
	a := startServer(t, shared)
	b := startServer(t, shared)
	mod := a.signIn(t, ctx, "Stays put on A")
	room, err := mod.api.CreateRoom(ctx, "Draining", "")
	if err != nil {
		t.Fatal(err)
	}
	mod.connect(t, ctx, a, room.ID, true)
	late := a.signIn(t, ctx, "Arrives while A drains")

	stopped := make(chan time.Duration, 1)
	start := time.Now()
	go func() { a.stop(); stopped <- time.Since(start) }()
	// The client in the room is told to move to B, and does not.
	env, err := mod.sess.WaitFor(ctx, func(e signaling.Envelope) bool { return e.Type == signaling.TypeRedirect })
	if err != nil {
		t.Fatalf("no redirect: %v", err)
	}
	if r := mod.sess.Redirects(); len(r) != 1 || r[0].Reason != signaling.RedirectDraining || env.ReplyTo != "" ||
		r[0].URL != strings.Replace(b.BaseURL, "http://", "ws://", 1)+"/api/v1/signal" {
		t.Fatalf("redirect = %+v, want one to B for draining", r)
	}
	// A join arriving now is sent on to B.
	lateSess, err := client.Dial(ctx, a.BaseURL, late.api.Token, client.Options{Loopback: true})
	if err != nil {
		t.Fatal(err)
	}
	defer lateSess.Close()
	var redirect *client.RedirectError
	if _, err := lateSess.Join(ctx, string(room.ID)); !errors.As(err, &redirect) || redirect.Redirect.Reason != signaling.RedirectPlacement {
		t.Fatalf("join at the draining node: %v, want a redirect", err)
	}
	// The client that stayed gets a goodbye once the drain times out.
	if _, err := mod.sess.WaitFor(ctx, func(e signaling.Envelope) bool { return e.Type == signaling.TypeGoodbye }); err != nil {
		t.Fatalf("no goodbye after the drain timeout: %v", err)
	}
	took := <-stopped
	if took < time.Second || took > 10*time.Second {
		t.Fatalf("the node stopped %v after it was told to, want after the 1 s drain timeout and soon after", took)
	}
	t.Logf("stopped %v after the signal", took.Round(time.Millisecond))
}
