package rooms

import (
	"context"
	"sync"
	"time"
)

// MemoryNodes is the NodeRegistry of one process: the default when there
// is no Redis, where the only node is this one, and the registry that
// in-process cluster tests share between their servers. Its epoch never
// changes. The zero value is not usable; call NewMemoryNodes.
type MemoryNodes struct {
	mu    sync.Mutex // guards nodes and rooms
	nodes map[NodeID]memoryNode
	rooms map[RoomID]map[NodeID]memoryHold
}

type memoryNode struct {
	n     Node
	until time.Time
}

type memoryHold struct {
	publishing bool
	until      time.Time
}

var _ NodeRegistry = (*MemoryNodes)(nil)

// NewMemoryNodes returns an empty registry.
func NewMemoryNodes() *MemoryNodes {
	return &MemoryNodes{nodes: make(map[NodeID]memoryNode), rooms: make(map[RoomID]map[NodeID]memoryHold)}
}

// memoryEpoch is the epoch of every MemoryNodes: its data lives as long as
// the process.
const memoryEpoch = "memory"

// Heartbeat implements NodeRegistry.
func (m *MemoryNodes) Heartbeat(_ context.Context, n Node, now time.Time, ttl time.Duration) (string, error) {
	if err := validNodeURL(n.URL); err != nil {
		return "", err
	}
	n.Seen = now
	m.mu.Lock()
	defer m.mu.Unlock()
	m.nodes[n.ID] = memoryNode{n: n, until: now.Add(ttl)}
	return memoryEpoch, nil
}

// Nodes implements NodeRegistry.
func (m *MemoryNodes) Nodes(_ context.Context, now time.Time) ([]Node, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]Node, 0, len(m.nodes))
	for id, e := range m.nodes {
		if !now.Before(e.until) {
			delete(m.nodes, id)
			continue
		}
		out = append(out, e.n)
	}
	sortNodes(out)
	return out, nil
}

// Remove implements NodeRegistry.
func (m *MemoryNodes) Remove(_ context.Context, id NodeID) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.nodes, id)
	return nil
}

// HoldRoom implements NodeRegistry.
func (m *MemoryNodes) HoldRoom(_ context.Context, room RoomID, node NodeID, publishing bool, now time.Time, ttl time.Duration) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	holds := m.rooms[room]
	if holds == nil {
		holds = make(map[NodeID]memoryHold)
		m.rooms[room] = holds
	}
	holds[node] = memoryHold{publishing: publishing, until: now.Add(ttl)}
	return nil
}

// ReleaseRoom implements NodeRegistry.
func (m *MemoryNodes) ReleaseRoom(_ context.Context, room RoomID, node NodeID) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if holds := m.rooms[room]; holds != nil {
		delete(holds, node)
		if len(holds) == 0 {
			delete(m.rooms, room)
		}
	}
	return nil
}

// RoomNodes implements NodeRegistry.
func (m *MemoryNodes) RoomNodes(_ context.Context, room RoomID, now time.Time) ([]RoomNode, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []RoomNode
	for id, h := range m.rooms[room] {
		if !now.Before(h.until) {
			delete(m.rooms[room], id)
			continue
		}
		out = append(out, RoomNode{Node: id, Publishing: h.publishing})
	}
	sortRoomNodes(out)
	return out, nil
}
