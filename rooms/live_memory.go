package rooms

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// MemoryLive is the in-process LiveStore, the default on a single machine.
// It emits its events on the MemoryBus it was made with. Its zero value is
// not usable; call NewMemoryLive.
type MemoryLive struct {
	bus *MemoryBus

	mu    sync.Mutex // guards rooms, and every stage in it
	rooms map[RoomID]*stage

	presence memoryPresence // each member's whereabouts; its own lock
}

var _ LiveStore = (*MemoryLive)(nil)

// NewMemoryLive returns an empty in-memory live store that emits on bus.
func NewMemoryLive(bus *MemoryBus) *MemoryLive {
	return &MemoryLive{bus: bus, rooms: make(map[RoomID]*stage)}
}

// withRoom runs fn on the room's state under the lock, and queues the
// events fn returns before unlocking, so events leave in sequence order.
func (m *MemoryLive) withRoom(room RoomID, fn func(*stage) ([]Event, error)) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	st := m.rooms[room]
	if st == nil {
		return fmt.Errorf("room %s: %w", room, ErrRoomNotFound)
	}
	evs, err := fn(st)
	m.bus.emit(room, evs...)
	return err
}

// Open implements LiveStore.
func (m *MemoryLive) Open(_ context.Context, room RoomID, creator UserID, cohosts []UserID, now time.Time, l Limits) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.rooms[room] == nil {
		m.rooms[room] = newStage(room, creator, cohosts, now, l)
	}
	return nil
}

// Join implements LiveStore.
func (m *MemoryLive) Join(_ context.Context, room RoomID, p Participant, now time.Time, l Limits) (JoinResult, error) {
	var res JoinResult
	err := m.withRoom(room, func(st *stage) ([]Event, error) {
		r, evs, err := st.join(p, now, l)
		res = r
		return evs, err
	})
	return res, err
}

// Leave implements LiveStore.
func (m *MemoryLive) Leave(_ context.Context, room RoomID, user UserID, session SessionID, reason string, now time.Time, l Limits) error {
	err := m.withRoom(room, func(st *stage) ([]Event, error) {
		return st.leave(user, session, reason, now, l), nil
	})
	if errorsIsNotFound(err) {
		return nil // nothing to leave
	}
	return err
}

// Disconnect implements LiveStore.
func (m *MemoryLive) Disconnect(_ context.Context, room RoomID, user UserID, session SessionID, now time.Time, l Limits) error {
	err := m.withRoom(room, func(st *stage) ([]Event, error) {
		if p, ok := st.parts[user]; ok && p.Session == session {
			p.dropped, p.leaseUntil = true, now.Add(l.ReconnectGrace)
		}
		return nil, nil
	})
	if errorsIsNotFound(err) {
		return nil
	}
	return err
}

// Renew implements LiveStore.
func (m *MemoryLive) Renew(_ context.Context, room RoomID, held []Held, now time.Time, l Limits) error {
	err := m.withRoom(room, func(st *stage) ([]Event, error) {
		for _, h := range held {
			if p, ok := st.parts[h.User]; ok && p.Session == h.Session && !p.dropped {
				p.leaseUntil = now.Add(l.LeaseTTL)
			}
		}
		return nil, nil
	})
	if errorsIsNotFound(err) {
		return nil
	}
	return err
}

// Act implements LiveStore.
func (m *MemoryLive) Act(_ context.Context, room RoomID, a Action, now time.Time, l Limits) error {
	return m.withRoom(room, func(st *stage) ([]Event, error) { return st.act(a, now, l) })
}

// Snapshot implements LiveStore.
func (m *MemoryLive) Snapshot(_ context.Context, room RoomID) (Snapshot, error) {
	var s Snapshot
	err := m.withRoom(room, func(st *stage) ([]Event, error) {
		if st.ended {
			return nil, fmt.Errorf("room %s: %w", room, ErrRoomEnded)
		}
		s = st.snapshot()
		return nil, nil
	})
	return s, err
}

// Participant implements LiveStore.
func (m *MemoryLive) Participant(_ context.Context, room RoomID, user UserID) (Participant, error) {
	var p Participant
	err := m.withRoom(room, func(st *stage) ([]Event, error) {
		if st.ended {
			return nil, fmt.Errorf("room %s: %w", room, ErrRoomEnded)
		}
		mb, ok := st.parts[user]
		if !ok {
			return nil, fmt.Errorf("%s: %w", user, ErrNotParticipant)
		}
		p = mb.Participant
		return nil, nil
	})
	return p, err
}

// Counts implements LiveStore.
func (m *MemoryLive) Counts(_ context.Context, room RoomID) (Counts, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var c Counts
	if st := m.rooms[room]; st != nil {
		mods, speakers := st.onStage()
		c.Speakers = mods + speakers
		c.Listeners = len(st.parts) - c.Speakers
		for u := range st.parts {
			if u.IsGuest() {
				c.Guests++
			}
		}
	}
	return c, nil
}

// End implements LiveStore. The room stays as a tombstone so that a late
// join cannot bring it back.
func (m *MemoryLive) End(_ context.Context, room RoomID, reason string, now time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	st := m.rooms[room]
	if st == nil {
		st = &stage{room: room, parts: map[UserID]*member{}, blocked: map[UserID]bool{}}
		m.rooms[room] = st
	}
	if st.ended {
		return nil
	}
	st.ended = true
	clear(st.parts)
	clear(st.blocked)
	c := &change{st: st, now: now}
	c.add(Event{Type: EventRoomEnded, Reason: reason})
	m.bus.emit(room, c.events...)
	return nil
}

// Expire implements LiveStore.
func (m *MemoryLive) Expire(_ context.Context, room RoomID, now time.Time, l Limits) (bool, error) {
	var end bool
	err := m.withRoom(room, func(st *stage) ([]Event, error) {
		evs, e := st.expire(now, l)
		end = e
		return evs, nil
	})
	if errorsIsNotFound(err) {
		return false, nil
	}
	return end, err
}

// Due implements LiveStore.
func (m *MemoryLive) Due(_ context.Context, now time.Time, limit int) ([]RoomID, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []RoomID
	for id, st := range m.rooms {
		if d := st.nextDue(); !d.IsZero() && !now.Before(d) {
			out = append(out, id)
			if len(out) == limit {
				break
			}
		}
	}
	return out, nil
}

// Ping implements LiveStore; memory is always reachable.
func (m *MemoryLive) Ping(context.Context) error { return nil }
