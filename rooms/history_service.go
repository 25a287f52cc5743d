package rooms

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// Room history is recorded as rooms run: who joined, who went on stage,
// and the most listeners at once. Joins come by the thousand when a room
// is busy, so they are not written one by one on the join path: they are
// buffered here and written in one transaction per tick of the janitor
// (Sweep), when history is read, and when the service stops. A process
// that dies loses at most one tick of it. Nothing here is on the media
// path.

// historyBuffer holds what has not been written yet.
type historyBuffer struct {
	mu       sync.Mutex // guards everything below
	presence map[presenceKey]Presence
	peaks    map[RoomID]int
	// written is the highest peak written per room, so that a join that
	// does not beat it costs nothing. Reset when it grows past maxPending.
	written map[RoomID]int
}

type presenceKey struct {
	room RoomID
	user UserID
}

// maxPending bounds the buffer while the store cannot be written (it keeps
// what it has and drops what comes beyond).
const maxPendingHistory = 100_000

func newHistoryBuffer() *historyBuffer {
	return &historyBuffer{presence: make(map[presenceKey]Presence), peaks: make(map[RoomID]int), written: make(map[RoomID]int)}
}

// addPresence merges p into the buffer: the earliest join and the earliest
// time on stage win.
func (b *historyBuffer) addPresence(p Presence) {
	b.mu.Lock()
	defer b.mu.Unlock()
	k := presenceKey{p.Room, p.User}
	old, ok := b.presence[k]
	if !ok {
		if len(b.presence) >= maxPendingHistory {
			return
		}
		b.presence[k] = p
		return
	}
	if p.JoinedAt.Before(old.JoinedAt) {
		old.JoinedAt = p.JoinedAt
	}
	if !p.OnStageAt.IsZero() && (old.OnStageAt.IsZero() || p.OnStageAt.Before(old.OnStageAt)) {
		old.OnStageAt = p.OnStageAt
	}
	b.presence[k] = old
}

// addPeak notes that the room had n listeners at once.
func (b *historyBuffer) addPeak(room RoomID, n int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if n <= b.written[room] || n <= b.peaks[room] {
		return
	}
	if _, ok := b.peaks[room]; !ok && len(b.peaks) >= maxPendingHistory {
		return
	}
	b.peaks[room] = n
}

// take empties the buffer and returns what it held.
func (b *historyBuffer) take() ([]Presence, map[RoomID]int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	ps := make([]Presence, 0, len(b.presence))
	for _, p := range b.presence {
		ps = append(ps, p)
	}
	peaks := b.peaks
	clear(b.presence)
	b.peaks = make(map[RoomID]int)
	return ps, peaks
}

// putBack returns what could not be written, to be tried again.
func (b *historyBuffer) putBack(ps []Presence, peaks map[RoomID]int) {
	for _, p := range ps {
		b.addPresence(p)
	}
	for room, n := range peaks {
		b.addPeak(room, n)
	}
}

// markWritten remembers the peaks now in the store.
func (b *historyBuffer) markWritten(peaks map[RoomID]int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.written) > maxPendingHistory {
		clear(b.written)
	}
	for room, n := range peaks {
		b.written[room] = max(b.written[room], n)
	}
}

// afterJoin records a join: the member's presence (on stage, for hosts
// who join as moderators) and the room's listeners.
func (s *Service) afterJoin(room RoomID, res JoinResult, now time.Time) {
	if s.data.store == nil {
		return
	}
	p := Presence{Room: room, User: res.Participant.UserID, JoinedAt: now}
	if res.Participant.Role.OnStage() {
		p.OnStageAt = now
	}
	s.data.history.addPresence(p)
	listeners := 0
	for _, q := range res.Snapshot.Participants {
		if !q.Role.OnStage() {
			listeners++
		}
	}
	s.data.history.addPeak(room, listeners)
}

// notePeak reads the room's counts after a change that may have added a
// listener (someone stepping down or moved to the audience).
func (s *Service) notePeak(ctx context.Context, room RoomID) {
	c, err := s.live.Counts(ctx, room)
	if err != nil {
		s.log.WarnContext(ctx, "count listeners for history", "room", room, "err", err)
		return
	}
	s.data.history.addPeak(room, c.Listeners)
}

// flushHistory writes what the buffer holds. A failure keeps it for the
// next try.
func (s *Service) flushHistory(ctx context.Context) {
	if s.data.store == nil {
		return
	}
	ps, peaks := s.data.history.take()
	if len(ps) == 0 && len(peaks) == 0 {
		return
	}
	if err := s.data.store.RecordPresence(ctx, ps); err != nil {
		s.log.WarnContext(ctx, "record room history", "err", err)
		s.data.history.putBack(ps, peaks)
		return
	}
	if err := s.data.store.RecordPeaks(ctx, peaks); err != nil {
		s.log.WarnContext(ctx, "record peak listeners", "err", err)
		s.data.history.putBack(nil, peaks)
		return
	}
	s.data.history.markWritten(peaks)
}

// FlushHistory writes what history has buffered, so that a read of the
// store straight after (a data export) sees everything up to now.
func (s *Service) FlushHistory(ctx context.Context) { s.flushHistory(ctx) }

// flushOnStop writes the buffer one last time when Run ends, with a
// context of its own: Run's has ended.
func (s *Service) flushOnStop(ctx context.Context) {
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	s.flushHistory(fctx)
}

// RoomHistory returns what a room left behind: when it started and ended,
// its peak listeners, and who was on stage, with their names.
func (s *Service) RoomHistory(ctx context.Context, id RoomID) (History, map[UserID]string, error) {
	st, err := s.dataStore()
	if err != nil {
		return History{}, nil, err
	}
	s.flushHistory(ctx)
	h, err := st.RoomHistory(ctx, id)
	if err != nil {
		return History{}, nil, fmt.Errorf("history of %s: %w", id, err)
	}
	ids := []UserID{h.Room.CreatedBy}
	for _, p := range h.Speakers {
		ids = append(ids, p.User)
	}
	names, err := s.names(ctx, ids...)
	if err != nil {
		return History{}, nil, err
	}
	h.Room.HostName = names[h.Room.CreatedBy]
	return h, names, nil
}
