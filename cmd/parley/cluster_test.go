package main

import (
	"context"
	"encoding/json"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/parley-audio/parley/rooms"
	"github.com/parley-audio/parley/signaling"
	"github.com/parley-audio/parley/signaling/client"
)

// One room across three nodes (docs/cluster.md), end to end with three
// parley processes on one Redis and one database: speakers on A and C and
// listeners on all three hear both speakers byte for byte; a moderator on
// B demotes the speaker on C and the cut reaches everyone within 100 ms,
// with every event everywhere in the same order; B is killed and its
// people reconnect through A and C with their roles and hands and hear
// audio again within 3 s; C is drained with SIGTERM and its people move to
// A with their roles, and C exits.
func TestClusterOfThreeNodes(t *testing.T) {
	top := t
	redisURL, prefix := testRedis(t)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	rec := loadSpeech(t)
	// Local placement: each person stays on the node the test puts them
	// on. Drain and failover choose nodes by placement all the same.
	nodes := clusterNodes(t, 3, redisURL, prefix, "PARLEY_PLACEMENT=local", "PARLEY_DRAIN_TIMEOUT=20s", "PARLEY_LEASE_TTL=20s")
	a, b, c := nodes[0].server(), nodes[1].server(), nodes[2].server()

	mod := b.signIn(t, ctx, "Moderator on B")
	room, err := mod.api.CreateRoom(ctx, "One room, three nodes", "")
	if err != nil {
		t.Fatal(err)
	}
	mod.room = room.ID
	mod.connect(t, ctx, b, room.ID, true)
	if ns, err := nodesOf(ctx, b, mod.api.Token); err != nil || len(ns) != 3 {
		t.Fatalf("GET /api/v1/nodes = %v, %v; want the three nodes", ns, err)
	}
	spA := a.signIn(t, ctx, "Speaker on A")
	spA.connect(t, ctx, a, room.ID, false)
	spC := c.signIn(t, ctx, "Speaker on C")
	spC.connect(t, ctx, c, room.ID, false)
	lA := a.signIn(t, ctx, "Listener on A")
	lA.connect(t, ctx, a, room.ID, false)
	lB := b.signIn(t, ctx, "Listener on B")
	lB.connect(t, ctx, b, room.ID, false)
	handB := b.signIn(t, ctx, "Hand up on B")
	handB.connect(t, ctx, b, room.ID, false)
	lC := c.signIn(t, ctx, "Listener on C")
	lC.connect(t, ctx, c, room.ID, false)
	act(t, ctx, handB, rooms.ActRaiseHand, nil)
	handRec := waitUpdate(t, ctx, mod, handB, rooms.CauseHandRaised)

	wA := promote(t, ctx, mod, spA)
	wC := promote(t, ctx, mod, spC)
	listeners := []*person{mod, lA, lB, handB, lC}
	warmUp(t, ctx, spA, wA, append([]*person{spC}, listeners...))
	warmUp(t, ctx, spC, wC, append([]*person{spA}, listeners...))

	t.Run("every listener on every node hears both speakers byte for byte", func(t *testing.T) {
		var firstA, firstC uint16
		var wg sync.WaitGroup
		wg.Add(2)
		go func() { defer wg.Done(); firstA = sendRecording(t, ctx, wA, rec, nil) }()
		go func() { defer wg.Done(); firstC = sendRecording(t, ctx, wC, rec, nil) }()
		// While the speakers speak, every node reports its load in the
		// registry: its people, and the packets it forwards.
		var ns []map[string]any
		var err error
		for end := time.Now().Add(5 * time.Second); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
			if ns, err = nodesOf(ctx, a, lA.api.Token); err != nil {
				t.Fatal(err)
			}
			people, busy := 0.0, 0
			for _, n := range ns {
				p, _ := n["participants"].(float64)
				people += p
				if pps, _ := n["pps"].(float64); pps > 0 {
					busy++
				}
			}
			if people == 7 && busy == 3 {
				break
			}
		}
		t.Logf("nodes: %v", ns)
		people := 0.0
		for _, n := range ns {
			p, _ := n["participants"].(float64)
			people += p
			if pps, _ := n["pps"].(float64); pps <= 0 {
				t.Errorf("node %v reports no packets forwarded", n["id"])
			}
		}
		if people != 7 {
			t.Errorf("the nodes report %v participants, want the 7 connected", people)
		}
		wg.Wait()
		for _, l := range listeners {
			wg.Add(2)
			go func() { defer wg.Done(); expectRecording(t, ctx, l, spA, rec, firstA) }()
			go func() { defer wg.Done(); expectRecording(t, ctx, l, spC, rec, firstC) }()
		}
		wg.Wait()
		// Speaking is reported by each speaker's node and reaches every node.
		for _, l := range listeners {
			for _, sp := range []*person{spA, spC} {
				if _, err := l.sess.WaitFor(ctx, func(e signaling.Envelope) bool {
					var p signaling.SpeakingPayload
					return e.Type == signaling.TypeSpeaking && json.Unmarshal(e.Payload, &p) == nil && p.UserID == sp.id && p.Speaking
				}); err != nil {
					t.Errorf("%s never heard that %s was speaking: %v", l.name, sp.name, err)
				}
			}
		}
	})

	t.Run("a moderator on B demotes the speaker on C: silence everywhere within 100 ms, events in one order", func(t *testing.T) {
		stop, done := make(chan struct{}), make(chan struct{})
		talkStart := time.Now()
		go talk(wC, stop, done)
		// Audio flows to everyone before the cut, so that the cut is
		// measured mid-stream.
		for _, l := range append([]*person{spA}, listeners...) {
			if err := l.rec.waitFor(ctx, func(ps []packet) bool {
				n := 0
				for _, p := range ps {
					if p.stream == string(spC.id) && p.at.After(talkStart) {
						n++
					}
				}
				return n >= 10
			}); err != nil {
				t.Fatalf("%s does not hear the speaker on C: %v", l.name, err)
			}
		}
		cutAt := time.Now()
		act(t, ctx, mod, rooms.ActMoveToAudience, spC)
		time.AfterFunc(time.Second, func() { close(stop) })
		<-done
		for _, l := range append([]*person{spA}, listeners...) {
			last, n := lastFrom(l.rec, spC)
			after := last.Sub(cutAt)
			t.Logf("%s: last packet of the demoted speaker %v after the demotion was sent (%d in all)", l.name, after.Round(time.Millisecond), n)
			if after > 100*time.Millisecond {
				t.Errorf("%s still heard the demoted speaker %v after the demotion", l.name, after)
			}
		}
		for _, p := range append([]*person{spA, spC}, listeners...) {
			waitUpdate(t, ctx, p, spC, rooms.CauseMovedToAudience)
		}
		checkEventOrder(t, append([]*person{spA, spC}, listeners...))
	})

	t.Run("B is killed: its people reconnect through A and C with roles and hands, and hear audio within 3 s", func(t *testing.T) {
		stop, done := make(chan struct{}), make(chan struct{})
		go talk(wA, stop, done)
		defer func() { close(stop); <-done }()
		if err := nodes[1].cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		killedAt := time.Now()
		var wg sync.WaitGroup
		type back struct {
			who  *person
			to   *testServer
			j    signaling.JoinedPayload
			took time.Duration
		}
		backs := []*back{{who: mod, to: a}, {who: lB, to: c}, {who: handB, to: a}}
		for _, bk := range backs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				// The client sees its socket close, and connects again
				// through another node.
				_, _ = bk.who.sess.WaitFor(ctx, func(signaling.Envelope) bool { return false })
				var err error
				if bk.j, err = bk.who.reconnect(top, ctx, bk.to, room.ID, bk.who == mod); err != nil {
					t.Error(err)
					return
				}
				at, err := firstPacketAfter(ctx, bk.who, spA, killedAt)
				if err != nil {
					t.Errorf("%s heard nothing after reconnecting: %v", bk.who.name, err)
					return
				}
				bk.took = at.Sub(killedAt)
			}()
		}
		wg.Wait()
		for _, bk := range backs {
			t.Logf("%s: audio again %v after B was killed", bk.who.name, bk.took.Round(time.Millisecond))
			if bk.took > 3*time.Second {
				t.Errorf("%s heard audio again only %v after B was killed, want within 3 s", bk.who.name, bk.took)
			}
		}
		if r := selfRecord(backs[0].j); r.Role != rooms.RoleModerator {
			t.Errorf("the moderator came back as %s", r.Role)
		}
		if r := selfRecord(backs[2].j); r.Role != rooms.RoleListener || r.HandRaisedSeq != handRec.HandRaisedSeq {
			t.Errorf("the raised hand came back as %+v, want hand_raised_seq %d", r, handRec.HandRaisedSeq)
		}
		// The room goes on without the first moderator's node.
		act(t, ctx, mod, rooms.ActInvite, handB)
		waitUpdate(t, ctx, lA, handB, rooms.CauseInvited)
		// And the cluster counts B dead once its heartbeat is older than
		// the node TTL (2 s here).
		for {
			ns, err := nodesOf(ctx, a, lA.api.Token)
			if err != nil {
				t.Fatal(err)
			}
			if len(ns) == 2 {
				break
			}
			if time.Since(killedAt) > 5*time.Second {
				t.Fatalf("B is still listed %v after it was killed: %v", time.Since(killedAt), ns)
			}
			time.Sleep(50 * time.Millisecond) // polling the REST API
		}
		t.Logf("B left the node list %v after it was killed", time.Since(killedAt).Round(time.Millisecond))
	})

	t.Run("C is drained: its people move to A with their roles, and C exits", func(t *testing.T) {
		before := map[*person]rooms.Role{spC: rooms.RoleListener, lC: rooms.RoleListener, lB: rooms.RoleListener}
		if err := nodes[2].cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		for p, role := range before {
			wg.Add(1)
			go func() {
				defer wg.Done()
				env, err := p.sess.WaitFor(ctx, func(e signaling.Envelope) bool { return e.Type == signaling.TypeRedirect })
				if err != nil {
					t.Errorf("%s got no redirect from the draining node: %v", p.name, err)
					return
				}
				r := p.sess.Redirects()
				if len(r) == 0 || r[0].Reason != signaling.RedirectDraining || env.ReplyTo != "" {
					t.Errorf("%s: redirect %+v, want one for draining", p.name, r)
					return
				}
				n, j, err := p.sess.Move(ctx, r[0], p.api.Token, client.MediaOptions{})
				if err != nil {
					t.Errorf("%s could not move: %v", p.name, err)
					return
				}
				p.sess = n
				top.Cleanup(func() { _ = n.Close() })
				if j.Self.Role != role {
					t.Errorf("%s moved as %s, want %s", p.name, j.Self.Role, role)
				}
				if _, err := firstPacketAfter(ctx, p, spA, time.Now()); err != nil {
					t.Errorf("%s hears nothing after moving: %v", p.name, err)
				}
			}()
		}
		stop, done := make(chan struct{}), make(chan struct{})
		go talk(wA, stop, done)
		wg.Wait()
		close(stop)
		<-done
		if code := nodes[2].waitExit(t, 30*time.Second); code != 0 {
			t.Errorf("C exited with %d, want 0", code)
		}
	})
}
