package rooms

import (
	"cmp"
	"context"
	"slices"
	"sync"
	"time"
)

// memoryPresence is MemoryLive's PresenceStore: each member's whereabouts,
// under a lock of its own (a member's whereabouts and a room's state never
// change in one step).
type memoryPresence struct {
	mu    sync.Mutex // guards at and swept
	at    map[UserID]presenceEntry
	swept time.Time
}

type presenceEntry struct {
	w     Whereabouts
	until time.Time
}

// liveLocked returns the member's entry if it has not lapsed by now.
func (p *memoryPresence) liveLocked(user UserID, now time.Time) (presenceEntry, bool) {
	e, ok := p.at[user]
	if !ok || !now.Before(e.until) {
		return presenceEntry{}, false
	}
	return e, true
}

// sweepLocked drops lapsed entries, at most once per TTL, so that members
// who dropped off without leaving do not pile up.
func (p *memoryPresence) sweepLocked(now time.Time, ttl time.Duration) {
	if now.Sub(p.swept) < ttl {
		return
	}
	p.swept = now
	for u, e := range p.at {
		if !now.Before(e.until) {
			delete(p.at, u)
		}
	}
}

// ClaimPresence implements PresenceStore.
func (m *MemoryLive) ClaimPresence(_ context.Context, user UserID, w Whereabouts, ttl time.Duration, now time.Time) (Whereabouts, error) {
	p := &m.presence
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.at == nil {
		p.at = make(map[UserID]presenceEntry)
	}
	p.sweepLocked(now, ttl)
	prev, _ := p.liveLocked(user, now)
	p.at[user] = presenceEntry{w: w, until: now.Add(ttl)}
	return prev.w, nil
}

// Presence implements PresenceStore.
func (m *MemoryLive) Presence(_ context.Context, user UserID, now time.Time) (Whereabouts, error) {
	p := &m.presence
	p.mu.Lock()
	defer p.mu.Unlock()
	e, _ := p.liveLocked(user, now)
	return e.w, nil
}

// ReleasePresence implements PresenceStore.
func (m *MemoryLive) ReleasePresence(_ context.Context, user UserID, w Whereabouts) error {
	p := &m.presence
	p.mu.Lock()
	defer p.mu.Unlock()
	if e, ok := p.at[user]; ok && e.w == w {
		delete(p.at, user)
	}
	return nil
}

// RenewPresence implements PresenceStore.
func (m *MemoryLive) RenewPresence(_ context.Context, room RoomID, held []Held, ttl time.Duration, now time.Time) error {
	p := &m.presence
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.at == nil {
		p.at = make(map[UserID]presenceEntry)
	}
	for _, h := range held {
		w := Whereabouts{Room: room, Session: h.Session}
		if e, ok := p.liveLocked(h.User, now); ok && e.w != w {
			continue // a newer join put them elsewhere
		}
		p.at[h.User] = presenceEntry{w: w, until: now.Add(ttl)}
	}
	return nil
}

// Lineup implements LiveStore.
func (m *MemoryLive) Lineup(_ context.Context, room RoomID) (Lineup, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	st := m.rooms[room]
	if st == nil || st.ended {
		return Lineup{}, nil
	}
	var on []*member
	var l Lineup
	for _, p := range st.parts {
		switch {
		case p.Role.OnStage():
			on = append(on, p)
		case p.UserID.IsGuest():
			l.Guests++
		}
	}
	slices.SortFunc(on, func(a, b *member) int { return cmp.Compare(a.order, b.order) })
	l.OnStage = make([]Participant, len(on))
	for i, p := range on {
		l.OnStage[i] = p.Participant
	}
	l.Speakers = len(on)
	l.Listeners = len(st.parts) - len(on)
	return l, nil
}
