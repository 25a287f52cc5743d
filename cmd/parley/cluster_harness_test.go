package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley-audio/parley/internal/testenv"
	"github.com/parley-audio/parley/rooms"
	"github.com/parley-audio/parley/signaling"
	"github.com/parley-audio/parley/signaling/client"
)

// clusterNodes starts n parley processes on loopback, each on its own
// HTTP and UDP port, sharing one Redis (under the test's prefix) and one
// Postgres (a schema of the test's own), as the nodes of one cluster.
// extra are more PARLEY_ variables for every node.
func clusterNodes(t *testing.T, n int, redisURL, prefix string, extra ...string) []*proc {
	t.Helper()
	dir := t.TempDir()
	db := testenv.Postgres(t)
	env := append(os.Environ(),
		"PARLEY_HTTP_ADDR=127.0.0.1:0", "PARLEY_UDP_PORT=0", "PARLEY_RTC_LOOPBACK_ONLY=true", "PARLEY_DEV_SIGNIN=true",
		"PARLEY_DATA_DIR="+dir, "PARLEY_TOKEN_SECRET="+testSecret,
		"PARLEY_REDIS_URL="+redisURL, "PARLEY_REDIS_PREFIX="+prefix,
		"PARLEY_SHUTDOWN_TIMEOUT=5s", "PARLEY_NODE_TTL=2s", "PARLEY_DATABASE_URL="+db,
		// The tests make their people with the development sign-in.
		"PARLEY_DEV_SIGNIN=true",
	)
	env = append(env, extra...)
	nodes := make([]*proc, n)
	var wg sync.WaitGroup
	for i := range nodes {
		wg.Add(1)
		go func() { defer wg.Done(); nodes[i] = startProcess(t, dir, env) }()
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	return nodes
}

// server is a process seen as a testServer, for the helpers that take one.
func (p *proc) server() *testServer { return &testServer{listening: listening{BaseURL: p.baseURL}} }

// numbered is one state event a session received, or its joined snapshot.
type numbered struct {
	seq   uint64
	typ   string
	frame string // the payload as received
}

// numberedEvents returns the seq-numbered messages a session received, in
// order: joined snapshots and state events.
func numberedEvents(s *client.Session) []numbered {
	var out []numbered
	for _, e := range s.Events() {
		if e.Seq == 0 {
			continue
		}
		out = append(out, numbered{seq: e.Seq, typ: e.Type, frame: string(e.Payload)})
	}
	return out
}

// checkEventOrder checks what the cluster promises about events: each
// session received its room's events in seq order with no gap and no
// duplicate after its snapshot, and every session that received the event
// of a seq received the same event.
func checkEventOrder(t *testing.T, people []*person) {
	t.Helper()
	bySeq := map[uint64]numbered{}
	owner := map[uint64]string{}
	for _, p := range people {
		evs := numberedEvents(p.sess)
		var last uint64
		for _, e := range evs {
			if e.typ == signaling.TypeJoined {
				last = e.seq
				continue
			}
			if last != 0 && e.seq != last+1 {
				t.Errorf("%s: event seq %d after %d: a gap or a duplicate", p.name, e.seq, last)
			}
			last = e.seq
			if prev, ok := bySeq[e.seq]; ok && (prev.typ != e.typ || prev.frame != e.frame) {
				t.Errorf("seq %d: %s got %s %s, %s got %s %s", e.seq, owner[e.seq], prev.typ, prev.frame, p.name, e.typ, e.frame)
			} else if !ok {
				bySeq[e.seq], owner[e.seq] = e, p.name
			}
		}
	}
}

// selfRecord returns who's own record in a joined snapshot.
func selfRecord(j signaling.JoinedPayload) rooms.ParticipantJSON { return j.Self }

// reconnect connects p, whose node is gone, to the node at ts: it dials,
// joins (a reconnection within the grace keeps the place) and starts
// media, and returns the joined snapshot. The session is closed when top
// ends, which must be the test, not a subtest: people outlive phases.
func (p *person) reconnect(top *testing.T, ctx context.Context, ts *testServer, room rooms.RoomID, publish bool) (signaling.JoinedPayload, error) {
	s, j, err := client.Connect(ctx, ts.BaseURL, p.api.Token, string(room), client.Options{Loopback: true, OnTrack: p.rec.onTrack})
	if err != nil {
		return j, fmt.Errorf("%s reconnect: %w", p.name, err)
	}
	p.sess = s
	top.Cleanup(func() { _ = s.Close() })
	if err := s.StartMedia(ctx, client.MediaOptions{Publish: publish}); err != nil {
		return j, fmt.Errorf("%s start media: %w", p.name, err)
	}
	return j, nil
}

// firstPacketAfter waits for a packet of speaker that reached p after t0,
// and returns when it arrived.
func firstPacketAfter(ctx context.Context, p, speaker *person, t0 time.Time) (time.Time, error) {
	var at time.Time
	err := p.rec.waitFor(ctx, func(ps []packet) bool {
		for _, pk := range ps {
			if pk.stream == string(speaker.id) && pk.at.After(t0) {
				at = pk.at
				return true
			}
		}
		return false
	})
	return at, err
}

// nodesOf reads the cluster's nodes from a node's REST API.
func nodesOf(ctx context.Context, ts *testServer, token string) ([]map[string]any, error) {
	a := &client.API{BaseURL: ts.BaseURL, Token: token}
	var out struct {
		Nodes []map[string]any `json:"nodes"`
	}
	body, err := a.GetAuthed(ctx, "/api/v1/nodes")
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(body), &out); err != nil {
		return nil, fmt.Errorf("nodes: %w: %s", err, strings.TrimSpace(body))
	}
	return out.Nodes, nil
}

type envelope = signaling.Envelope

func jsonUnmarshal(s string, into any) error { return json.Unmarshal([]byte(s), into) }

// containsUser reports whether a participant_joined payload is about id.
func containsUser(payload json.RawMessage, id rooms.UserID) bool {
	var p signaling.ParticipantJoinedPayload
	return json.Unmarshal(payload, &p) == nil && p.Participant.UserID == id
}
