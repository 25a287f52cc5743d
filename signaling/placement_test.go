package signaling

import (
	"testing"

	"github.com/parley-audio/parley/rooms"
)

func TestPlacement(t *testing.T) {
	node := func(id string, cpu float64, participants, capacity int) rooms.Node {
		return rooms.Node{ID: rooms.NodeID(id), URL: "http://" + id, Capacity: capacity,
			Load: rooms.NodeLoad{CPU: cpu, Participants: participants}}
	}
	draining := func(n rooms.Node) rooms.Node { n.Draining = true; return n }
	holds := func(ids ...string) []rooms.RoomNode {
		var out []rooms.RoomNode
		for _, id := range ids {
			out = append(out, rooms.RoomNode{Node: rooms.NodeID(id)})
		}
		return out
	}
	a, b, c := node("a", 0.15, 100, 1000), node("b", 0.1, 50, 1000), node("c", 0.5, 500, 1000)
	for _, tt := range []struct {
		name     string
		policy   Placement
		draining bool
		nodes    []rooms.Node
		holders  []rooms.RoomNode
		want     string // "" is here (a)
	}{
		{"by room: a node holding the room with room to spare serves it, here first", PlaceByRoom, false, []rooms.Node{a, b, c}, holds("a", "c"), ""},
		{"by room: the least loaded other holder when this node does not hold it", PlaceByRoom, false, []rooms.Node{a, b, c}, holds("c"), "c"},
		{"by room: the least loaded node when no holder has room to spare", PlaceByRoom, false, []rooms.Node{node("a", 0.5, 100, 1000), b, node("c", 0.9, 900, 1000)}, holds("c"), "b"},
		{"by room: a full holder by capacity is passed over", PlaceByRoom, false, []rooms.Node{node("a", 0.5, 100, 1000), b, node("c", 0.1, 1000, 1000)}, holds("c"), "b"},
		{"by room: with nobody holding the room, here when about as loaded as the least", PlaceByRoom, false, []rooms.Node{a, b, c}, nil, ""},
		{"by room: a holder that is not live is never chosen", PlaceByRoom, false, []rooms.Node{a, b}, holds("c"), ""},
		{"least loaded: a much less loaded node gets the join", PlaceLeastLoaded, false, []rooms.Node{node("a", 0.6, 600, 1000), b, c}, nil, "b"},
		{"least loaded: here, when within the margin of the least loaded", PlaceLeastLoaded, false, []rooms.Node{a, b, c}, holds("c"), ""},
		{"local: here, whatever holds the room", PlaceLocal, false, []rooms.Node{node("a", 0.7, 700, 1000), b, c}, holds("c"), ""},
		{"local: elsewhere when full", PlaceLocal, false, []rooms.Node{node("a", 0.9, 100, 0), b, c}, nil, "b"},
		{"draining: elsewhere, whatever the policy", PlaceLocal, true, []rooms.Node{a, b, c}, holds("a"), "b"},
		{"draining: to a holder by room", PlaceByRoom, true, []rooms.Node{a, b, c}, holds("a", "c"), "c"},
		{"draining nodes get nobody", PlaceLeastLoaded, false, []rooms.Node{node("a", 0.7, 700, 1000), draining(b), c}, nil, "c"},
		{"draining with nowhere to go: here", PlaceByRoom, true, []rooms.Node{a}, holds("a"), ""},
		{"everyone full: here", PlaceLeastLoaded, false, []rooms.Node{node("a", 0.9, 0, 0), node("b", 0.95, 0, 0)}, nil, ""},
		{"before this node's first heartbeat", PlaceByRoom, false, []rooms.Node{b, c}, holds("c"), "c"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := place(tt.policy, "a", tt.draining, tt.nodes, tt.holders)
			gotID := ""
			if got != nil {
				gotID = string(got.ID)
			}
			if gotID != tt.want {
				t.Fatalf("place = %q, want %q", gotID, tt.want)
			}
		})
	}
}

func TestTokens(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	tok := sign(key, purposeTicket, ticketClaims{User: "usr_x", Room: "rm_y", Node: "nd_z", Exp: 99})
	var c ticketClaims
	if err := verify(key, purposeTicket, tok, &c); err != nil || c.User != "usr_x" || c.Node != "nd_z" {
		t.Fatalf("verify = %v, %+v", err, c)
	}
	for name, bad := range map[string]func() error{
		"another key":     func() error { return verify([]byte("another key of thirty-two bytes!!"), purposeTicket, tok, &c) },
		"another purpose": func() error { return verify(key, purposeRelay, tok, &c) },
		"no dot":          func() error { return verify(key, purposeTicket, "abc", &c) },
		"bad base64":      func() error { return verify(key, purposeTicket, "@@@.@@@", &c) },
		"tampered":        func() error { return verify(key, purposeTicket, "e30"+tok[3:], &c) },
	} {
		if err := bad(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func FuzzVerifyToken(f *testing.F) {
	key := []byte("0123456789abcdef0123456789abcdef")
	f.Add(sign(key, purposeRelay, relayClaims{From: "a", To: "b", Room: "rm_x", Exp: 1}))
	f.Add("x.y")
	f.Fuzz(func(t *testing.T, tok string) {
		var c relayClaims
		_ = verify(key, purposeRelay, tok, &c)
	})
}
