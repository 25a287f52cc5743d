package signaling

import (
	"fmt"
	"math"

	"github.com/parley-audio/parley/rooms"
)

// Placement is a policy that chooses the node to serve a participant
// joining a room (docs/cluster.md, "Placement").
type Placement string

// The placement policies.
const (
	// PlaceByRoom keeps a room's members together: a node already holding
	// the room serves the join while it has room to spare (this node
	// first, then the least loaded of the others); otherwise the least
	// loaded node does. It is the default: fewer nodes per room means
	// fewer relays.
	PlaceByRoom Placement = "room"
	// PlaceLeastLoaded sends every join to the least loaded node.
	PlaceLeastLoaded Placement = "least-loaded"
	// PlaceLocal serves every join where it arrives, unless this node is
	// draining or full; for a load balancer that already spreads clients.
	PlaceLocal Placement = "local"
)

// Validate reports whether p is a policy.
func (p Placement) Validate() error {
	switch p {
	case PlaceByRoom, PlaceLeastLoaded, PlaceLocal:
		return nil
	}
	return fmt.Errorf("signaling: placement %q: want room, least-loaded or local", string(p))
}

// cpuFull is the share of its cores at which a node counts as full, and
// placeMargin how much less loaded another node must be for a join to be
// sent there rather than served here: redirects cost the client a round
// trip, and loads are a heartbeat old.
const (
	cpuFull     = 0.85
	placeMargin = 0.1
)

// nodeLoad is a node's load as one number: the larger of its CPU, as a
// share of cpuFull, and its participants, as a share of its capacity.
func nodeLoad(n rooms.Node) float64 {
	l := n.Load.CPU / cpuFull
	if n.Capacity > 0 {
		l = math.Max(l, float64(n.Load.Participants)/float64(n.Capacity))
	}
	return l
}

// full reports whether placement sends nobody more to n.
func full(n rooms.Node) bool { return n.Draining || nodeLoad(n) >= 1 }

// less orders nodes by load, then by participants, then by ID.
func less(a, b rooms.Node) bool {
	la, lb := nodeLoad(a), nodeLoad(b)
	if la != lb {
		return la < lb
	}
	if a.Load.Participants != b.Load.Participants {
		return a.Load.Participants < b.Load.Participants
	}
	return a.ID < b.ID
}

// place chooses the node for a join of room that arrived at self: nil
// means serve it here. nodes are the live nodes (self among them once it
// has sent a heartbeat; draining is self's own current state), holders
// the nodes holding the room. A node that is not live is never chosen,
// and when every node is full the least loaded one still is: a cluster
// at capacity degrades, it does not refuse.
func place(p Placement, self rooms.NodeID, draining bool, nodes []rooms.Node, holders []rooms.RoomNode) *rooms.Node {
	var me *rooms.Node
	others := make([]rooms.Node, 0, len(nodes))
	for _, n := range nodes {
		if n.ID == self {
			n.Draining = n.Draining || draining
			me = &n
			continue
		}
		others = append(others, n)
	}
	if me == nil {
		// No heartbeat of ours yet: we know only our own state.
		me = &rooms.Node{ID: self, Draining: draining}
	}
	best := func(cands []rooms.Node) *rooms.Node {
		var b *rooms.Node
		for i := range cands {
			if full(cands[i]) {
				continue
			}
			if b == nil || less(cands[i], *b) {
				b = &cands[i]
			}
		}
		return b
	}
	// here reports whether self should serve rather than to: not full, and
	// not much more loaded.
	here := func(to *rooms.Node) bool {
		return !full(*me) && (to == nil || nodeLoad(*me) <= nodeLoad(*to)+placeMargin)
	}
	switch p {
	case PlaceLocal:
		if !full(*me) {
			return nil
		}
	case PlaceByRoom:
		held := make(map[rooms.NodeID]bool, len(holders))
		for _, h := range holders {
			held[h.Node] = true
		}
		if held[self] && !full(*me) {
			return nil
		}
		var holding []rooms.Node
		for _, n := range others {
			if held[n.ID] {
				holding = append(holding, n)
			}
		}
		if to := best(holding); to != nil {
			return to
		}
	}
	// A draining node with nowhere to send the join serves it: the drain
	// ends with a goodbye that sends the client back to the entry point.
	to := best(others)
	if to == nil || here(to) {
		return nil
	}
	return to
}
