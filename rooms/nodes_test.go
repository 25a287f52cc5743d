package rooms

import (
	"testing"
	"time"

	"github.com/parley-audio/parley/internal/testenv"
)

// testNodes is the contract every NodeRegistry passes. open returns a
// fresh registry for each call and owns its cleanup.
func testNodes(t *testing.T, open func(t *testing.T) NodeRegistry) {
	t0 := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	ttl := 5 * time.Second
	a, b := NewNodeID(), NewNodeID()
	node := func(id NodeID, url string) Node {
		return Node{ID: id, URL: url, Capacity: 100, Started: t0, Load: NodeLoad{CPU: 0.25, Participants: 7, PPS: 1500}}
	}

	t.Run("a node is listed with its load until its heartbeat lapses", func(t *testing.T) {
		reg := open(t)
		ctx := t.Context()
		e1, err := reg.Heartbeat(ctx, node(a, "http://127.0.0.1:8081"), t0, ttl)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := reg.Heartbeat(ctx, node(b, "http://127.0.0.1:8082"), t0.Add(2*time.Second), ttl); err != nil {
			t.Fatal(err)
		}
		ns, err := reg.Nodes(ctx, t0.Add(time.Second))
		if err != nil {
			t.Fatal(err)
		}
		if len(ns) != 2 {
			t.Fatalf("nodes = %+v, want both", ns)
		}
		got := ns[0]
		if got.ID > ns[1].ID {
			t.Fatalf("nodes not ordered by ID: %+v", ns)
		}
		if got.ID == b {
			got = ns[1]
		}
		want := node(a, "http://127.0.0.1:8081")
		want.Seen = t0
		if !got.Started.Equal(want.Started) || !got.Seen.Equal(want.Seen) {
			t.Errorf("times: started %v seen %v, want %v %v", got.Started, got.Seen, want.Started, want.Seen)
		}
		got.Started, got.Seen, want.Started, want.Seen = time.Time{}, time.Time{}, time.Time{}, time.Time{}
		if got != want {
			t.Errorf("node = %+v, want %+v", got, want)
		}
		// a lapses at t0+5s; b, which beat at t0+2s, is still there.
		ns, err = reg.Nodes(ctx, t0.Add(ttl))
		if err != nil {
			t.Fatal(err)
		}
		if len(ns) != 1 || ns[0].ID != b {
			t.Fatalf("after a's TTL: %+v, want only b", ns)
		}
		// A new heartbeat brings it back, draining now; the epoch is the same.
		n := node(a, "http://127.0.0.1:8081")
		n.Draining = true
		e2, err := reg.Heartbeat(ctx, n, t0.Add(ttl), ttl)
		if err != nil {
			t.Fatal(err)
		}
		if e1 == "" || e1 != e2 {
			t.Errorf("epochs %q then %q: want one non-empty epoch while the registry keeps its data", e1, e2)
		}
		ns, _ = reg.Nodes(ctx, t0.Add(ttl+time.Second))
		if len(ns) != 2 || !(ns[0].ID == a && ns[0].Draining || ns[1].ID == a && ns[1].Draining) {
			t.Fatalf("after a's heartbeat: %+v, want a back and draining", ns)
		}
		if err := reg.Remove(ctx, a); err != nil {
			t.Fatal(err)
		}
		ns, _ = reg.Nodes(ctx, t0.Add(ttl+time.Second))
		if len(ns) != 1 || ns[0].ID != b {
			t.Fatalf("after removing a: %+v, want only b", ns)
		}
	})

	t.Run("a heartbeat without a base URL is refused", func(t *testing.T) {
		reg := open(t)
		if _, err := reg.Heartbeat(t.Context(), node(a, "127.0.0.1:8081"), t0, ttl); err == nil {
			t.Fatal("heartbeat with a URL that is not http(s) was accepted")
		}
	})

	t.Run("rooms list the nodes holding them and where audio enters, until the holds lapse", func(t *testing.T) {
		reg := open(t)
		ctx := t.Context()
		room, other := NewRoomID(), NewRoomID()
		if err := reg.HoldRoom(ctx, room, a, true, t0, ttl); err != nil {
			t.Fatal(err)
		}
		if err := reg.HoldRoom(ctx, room, b, false, t0.Add(2*time.Second), ttl); err != nil {
			t.Fatal(err)
		}
		if err := reg.HoldRoom(ctx, other, b, true, t0, ttl); err != nil {
			t.Fatal(err)
		}
		check := func(at time.Time, want ...RoomNode) {
			t.Helper()
			got, err := reg.RoomNodes(ctx, room, at)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(want) {
				t.Fatalf("room nodes = %+v, want %+v", got, want)
			}
			for i := range got {
				if got[i] != want[i] {
					t.Fatalf("room nodes = %+v, want %+v", got, want)
				}
			}
		}
		first, second := RoomNode{Node: a, Publishing: true}, RoomNode{Node: b}
		if b < a {
			check(t0.Add(time.Second), second, first)
		} else {
			check(t0.Add(time.Second), first, second)
		}
		// Audio now enters at b, and no longer at a.
		if err := reg.HoldRoom(ctx, room, b, true, t0.Add(3*time.Second), ttl); err != nil {
			t.Fatal(err)
		}
		if err := reg.HoldRoom(ctx, room, a, false, t0.Add(3*time.Second), ttl); err != nil {
			t.Fatal(err)
		}
		first, second = RoomNode{Node: a}, RoomNode{Node: b, Publishing: true}
		if b < a {
			check(t0.Add(4*time.Second), second, first)
		} else {
			check(t0.Add(4*time.Second), first, second)
		}
		if err := reg.ReleaseRoom(ctx, room, a); err != nil {
			t.Fatal(err)
		}
		check(t0.Add(4*time.Second), RoomNode{Node: b, Publishing: true})
		check(t0.Add(3*time.Second + ttl))
		// The other room was never touched by any of this.
		got, _ := reg.RoomNodes(ctx, other, t0.Add(time.Second))
		if len(got) != 1 || got[0] != (RoomNode{Node: b, Publishing: true}) {
			t.Fatalf("other room: %+v", got)
		}
	})
}

func TestMemoryNodesContract(t *testing.T) {
	testNodes(t, func(*testing.T) NodeRegistry { return NewMemoryNodes() })
}

func TestRedisNodesContract(t *testing.T) {
	testNodes(t, func(t *testing.T) NodeRegistry {
		client, prefix := testRedis(t)
		return NewRedisNodes(client, prefix)
	})
}

// When Redis loses its data, the next heartbeat sees a new epoch.
func TestRedisNodesEpochChangesWhenRedisLosesItsData(t *testing.T) {
	client, prefix := testRedis(t)
	reg := NewRedisNodes(client, prefix)
	n := Node{ID: NewNodeID(), URL: "http://127.0.0.1:8080"}
	now := time.Now()
	e1, err := reg.Heartbeat(t.Context(), n, now, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	testenv.DeleteRedisKeys(t, client, prefix) // what a restart without persistence does to our keys
	e2, err := reg.Heartbeat(t.Context(), n, now, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if e1 == e2 {
		t.Fatalf("epoch %q did not change when the registry's data was lost", e1)
	}
	e3, _ := reg.Heartbeat(t.Context(), n, now, time.Minute)
	if e3 != e2 {
		t.Fatalf("epoch changed from %q to %q with no loss", e2, e3)
	}
}
