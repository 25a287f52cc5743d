package rooms

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// Restore implements LiveStore. The memory store never loses a room while
// its process lives, but it keeps the same contract as the Redis one.
func (m *MemoryLive) Restore(_ context.Context, room RoomID, creator UserID, cohosts []UserID, ps []Participant, minSeq uint64, now time.Time, l Limits) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	st := m.rooms[room]
	if st == nil {
		st = newStage(room, creator, cohosts, now, l)
		m.rooms[room] = st
	}
	if st.ended {
		return fmt.Errorf("restore %s: %w", room, ErrRoomEnded)
	}
	for _, p := range restorable(ps) {
		if _, ok := st.parts[p.UserID]; ok || st.blocked[p.UserID] {
			continue
		}
		o := restoreOrder(p)
		st.order = max(st.order, o)
		st.parts[p.UserID] = &member{Participant: p, order: o, leaseUntil: now.Add(l.LeaseTTL)}
	}
	st.seq = max(st.seq, minSeq) + 1 // the gap that sends every client for a snapshot
	mods, speakers := st.onStage()
	switch {
	case mods+speakers > 0:
		st.emptyDeadline = time.Time{}
	case st.emptyDeadline.IsZero():
		st.emptyDeadline = now.Add(l.EmptyStageGrace)
	}
	c := &change{st: st, now: now}
	c.add(Event{Type: EventRoomUpdated, HandsEnabled: !st.handsOff})
	m.bus.emit(room, c.events...)
	return nil
}

// restoreOrder is a restored participant's place in the join order: their
// join time, which keeps the order of everyone restored, by any process.
func restoreOrder(p Participant) uint64 { return uint64(max(0, redisMillis(p.JoinedAt))) }

// restorable cleans records that come back from a process's memory so
// that they obey the rules: a listener has no mute and no stage time,
// someone on stage has no invitation and no raised hand.
func restorable(ps []Participant) []Participant {
	out := make([]Participant, 0, len(ps))
	for _, p := range ps {
		if p.UserID == "" {
			continue
		}
		switch {
		case p.Role.OnStage():
			p.Invited, p.HandSeq = false, 0
		default:
			p.Role, p.Muted, p.StageSince = RoleListener, false, time.Time{}
		}
		out = append(out, p)
	}
	return out
}

// Restore implements LiveStore.
func (r *RedisLive) Restore(ctx context.Context, room RoomID, creator UserID, cohosts []UserID, ps []Participant, minSeq uint64, now time.Time, l Limits) error {
	args := make([]any, 0, 3+len(ps))
	args = append(args, string(creator), joinIDs(cohosts), minSeq)
	for _, p := range restorable(ps) {
		rec := recordOf(p)
		rec.Order = luaInt(restoreOrder(p))
		b, err := json.Marshal(rec)
		if err != nil {
			return fmt.Errorf("restore %s: %w", room, err)
		}
		args = append(args, string(b))
	}
	_, ref, err := r.run(ctx, redisRestore, room, now, l, args...)
	switch {
	case err != nil:
		return fmt.Errorf("restore %s: %w", room, err)
	case ref != nil:
		return fmt.Errorf("restore %s: %w", room, ref.err)
	}
	return nil
}

// Restore puts back the participants this process holds in a room, after
// the live store lost the room (see LiveStore.Restore). minSeq is the
// highest seq this process has seen in the room.
func (s *Service) Restore(ctx context.Context, id RoomID, ps []Participant, minSeq uint64) error {
	r, err := s.rooms.Room(ctx, id)
	if err != nil {
		return fmt.Errorf("restore %s: %w", id, err)
	}
	if !r.Live() {
		return fmt.Errorf("restore %s: %w", id, ErrRoomEnded)
	}
	if err := s.live.Restore(ctx, id, r.CreatedBy, r.Cohosts, ps, minSeq, s.now().UTC().Truncate(time.Millisecond), s.limits); err != nil {
		return fmt.Errorf("restore %s: %w", id, err)
	}
	s.log.InfoContext(ctx, "room restored", "room", id, "participants", len(ps), "after_seq", minSeq)
	return nil
}

// AnnounceMediaSource tells the cluster that audio of the room enters at
// node (EventMediaSource). It changes no stored state.
func (s *Service) AnnounceMediaSource(ctx context.Context, id RoomID, node NodeID) error {
	ev := Event{Type: EventMediaSource, Room: id, At: s.now().UTC(), Node: node}
	if err := s.bus.Publish(ctx, ev); err != nil {
		return fmt.Errorf("announce media source in %s: %w", id, err)
	}
	return nil
}
