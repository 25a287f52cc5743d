package rooms

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// NodeID names one server process of a cluster. A process gets a new one
// every time it starts: a restarted node is a new node.
type NodeID string

const nodePrefix = "nd_"

// NewNodeID returns a fresh random node ID.
func NewNodeID() NodeID { return NodeID(newID(nodePrefix)) }

// ParseNodeID checks that s has the shape of a node ID.
func ParseNodeID(s string) (NodeID, error) {
	if !validID(s, nodePrefix) {
		return "", fmt.Errorf("%w: %q is not a node ID", ErrInvalid, truncate(s, 40))
	}
	return NodeID(s), nil
}

// NodeLoad is how busy a node is, as it reports itself on every
// heartbeat.
type NodeLoad struct {
	// CPU is the share of the machine's cores the process used over the
	// last heartbeat interval, 0 to 1.
	CPU float64
	// Participants is how many signaling sessions the node holds.
	Participants int
	// PPS is how many RTP packets a second the node forwarded.
	PPS float64
}

// Node is one server process of a cluster as the registry knows it.
type Node struct {
	ID NodeID
	// URL is the base URL (http:// or https://, host and port) at which
	// clients and the other nodes reach this node's HTTP server: signaling
	// is URL + /api/v1/signal, the relay URL + /internal/v1/relay.
	URL string
	// Draining is set once the node stopped taking participants (SIGTERM).
	Draining bool
	// Capacity is the most participants the node takes by placement; 0
	// means no limit but the CPU.
	Capacity int
	Load     NodeLoad
	Started  time.Time
	// Seen is the node's last heartbeat.
	Seen time.Time
}

// RoomNode is a node holding members of a room.
type RoomNode struct {
	Node NodeID
	// Publishing says the node has audio of the room's stage entering it:
	// nodes with members of the room relay it from there.
	Publishing bool
}

// NodeRegistry is the cluster's shared view of its nodes and of which
// nodes hold which rooms. Entries lapse unless renewed: a node whose
// heartbeats stop is gone from Nodes after the TTL it gave, and so are its
// rooms. Implementations: memory (one process, and tests) and Redis; both
// pass the contract suite in nodes_test.go.
type NodeRegistry interface {
	// Heartbeat records n (its Seen is now) until now+ttl, and returns the
	// registry's epoch: a value that changes only when the registry lost
	// its data (a Redis restarted empty, or flushed), which is how nodes
	// learn that they must rebuild the live state they hold.
	Heartbeat(ctx context.Context, n Node, now time.Time, ttl time.Duration) (epoch string, err error)
	// Nodes returns the nodes whose heartbeat has not lapsed by now,
	// ordered by ID.
	Nodes(ctx context.Context, now time.Time) ([]Node, error)
	// Remove takes a node out at once (a clean exit).
	Remove(ctx context.Context, id NodeID) error
	// HoldRoom records that node holds members of room until now+ttl, and
	// whether audio enters the room there.
	HoldRoom(ctx context.Context, room RoomID, node NodeID, publishing bool, now time.Time, ttl time.Duration) error
	// ReleaseRoom forgets that node holds room.
	ReleaseRoom(ctx context.Context, room RoomID, node NodeID) error
	// RoomNodes returns the nodes holding room whose hold has not lapsed
	// by now, ordered by node ID.
	RoomNodes(ctx context.Context, room RoomID, now time.Time) ([]RoomNode, error)
}

// validNodeURL refuses what cannot be a node's base URL.
func validNodeURL(u string) error {
	if !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
		return fmt.Errorf("%w: node URL %q must start with http:// or https://", ErrInvalid, truncate(u, 80))
	}
	return nil
}

func sortNodes(ns []Node) {
	slices.SortFunc(ns, func(a, b Node) int { return cmp.Compare(a.ID, b.ID) })
}

func sortRoomNodes(ns []RoomNode) {
	slices.SortFunc(ns, func(a, b RoomNode) int { return cmp.Compare(a.Node, b.Node) })
}
