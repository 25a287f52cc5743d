package rooms

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Limits returns the rules' numbers the service applies.
func (s *Service) Limits() Limits { return s.limits }

// EndRoom ends a live room. Its creator may, from anywhere, and so may a
// moderator in it.
func (s *Service) EndRoom(ctx context.Context, actor UserID, id RoomID) (Room, error) {
	r, err := s.rooms.Room(ctx, id)
	if err != nil {
		return Room{}, fmt.Errorf("end room %s: %w", id, err)
	}
	if r.CreatedBy != actor && r.Live() {
		snap, err := s.live.Snapshot(ctx, id)
		if err != nil && !errors.Is(err, ErrRoomNotFound) {
			return Room{}, fmt.Errorf("end room %s: %w", id, err)
		}
		if !isModerator(snap, actor) {
			return Room{}, fmt.Errorf("end room %s: only its creator or a moderator may end it: %w", id, ErrForbidden)
		}
	}
	ended, err := s.endRoom(ctx, id, ReasonEndedByHost)
	if err != nil {
		return Room{}, err
	}
	s.logMod(ctx, ModAction{Room: id, Actor: actor, Kind: ModRoomEnded})
	s.log.InfoContext(ctx, "room ended", "room", id, "user", actor)
	return s.withHost(ctx, ended, nil)
}

func isModerator(snap Snapshot, user UserID) bool {
	for _, p := range snap.Participants {
		if p.UserID == user {
			return p.Role == RoleModerator
		}
	}
	return false
}

// endRoom ends the record and the live state. If an earlier attempt ended
// the record but failed to clear the live state, this finishes the job
// (clearing is idempotent) and still reports ErrRoomEnded.
func (s *Service) endRoom(ctx context.Context, id RoomID, reason string) (Room, error) {
	now := s.now().UTC().Truncate(time.Millisecond)
	ended, err := s.rooms.EndRoom(ctx, id, now)
	if err != nil && !errors.Is(err, ErrRoomEnded) {
		return Room{}, fmt.Errorf("end room %s: %w", id, err)
	}
	if lerr := s.live.End(ctx, id, reason, now); lerr != nil {
		return Room{}, fmt.Errorf("end room %s: live state: %w", id, lerr)
	}
	if err != nil {
		return Room{}, fmt.Errorf("end room %s: %w", id, err)
	}
	return ended, nil
}

// Joined is what a participant learns on joining.
type Joined struct {
	Room Room
	Self Participant
	Snapshot
}

// Join puts a member into a live room: the room's creator as a moderator,
// on stage; everyone else as a listener. A member already in the room (a
// reconnection within the grace) keeps their place, role, hand and all,
// which moves to the new session. Only those who may see the room may join
// it (visibility.go); others are told it does not exist. Joining takes the
// member out of any other room they are in, and joins of other rooms than
// the member's own are rate-limited (service_join.go). A guest (a guest
// ID) joins an open room as a listener, when the instance allows guests.
func (s *Service) Join(ctx context.Context, id RoomID, user UserID, session SessionID) (Joined, error) {
	r, err := s.room(ctx, id)
	if err != nil {
		return Joined{}, fmt.Errorf("join %s: %w", id, err)
	}
	if !r.Live() {
		return Joined{}, fmt.Errorf("join %s: %w", id, ErrRoomEnded)
	}
	if user.IsGuest() {
		return s.joinGuest(ctx, r, user, session)
	}
	if err := s.mayEnterLive(ctx, r, user); err != nil {
		return Joined{}, fmt.Errorf("join %s: %w", id, err)
	}
	m, err := s.members.Member(ctx, user)
	if err != nil {
		return Joined{}, fmt.Errorf("join %s: %w", id, err)
	}
	now := s.now().UTC().Truncate(time.Millisecond)
	here := Whereabouts{Room: id, Session: session}
	prev, err := s.claim(ctx, user, here, now)
	if err != nil {
		return Joined{}, fmt.Errorf("join %s: %w", id, err)
	}
	p := Participant{UserID: user, DisplayName: m.DisplayName, JoinedAt: now, Session: session}
	j, err := s.joinLive(ctx, r, p, now)
	if err != nil {
		s.unclaim(ctx, user, here)
		return Joined{}, err
	}
	s.moveOut(ctx, user, here, prev, now)
	return j, nil
}

// joinLive adds p to the live state of r, opening it first if this
// process (or Redis) has not seen the room since it started.
func (s *Service) joinLive(ctx context.Context, r Room, p Participant, now time.Time) (Joined, error) {
	res, err := s.live.Join(ctx, r.ID, p, now, s.limits)
	if errors.Is(err, ErrRoomNotFound) {
		// A live record without live state: it was created before this
		// process (or Redis) started. Open it and try again.
		if err = s.live.Open(ctx, r.ID, r.CreatedBy, r.Cohosts, now, s.limits); err == nil {
			res, err = s.live.Join(ctx, r.ID, p, now, s.limits)
		}
	}
	if err != nil {
		return Joined{}, fmt.Errorf("join %s: %w", r.ID, err)
	}
	s.afterJoin(r.ID, res, now)
	return Joined{Room: r, Self: res.Participant, Snapshot: res.Snapshot}, nil
}

// Snapshot returns the live state of a room.
func (s *Service) Snapshot(ctx context.Context, id RoomID) (Snapshot, error) {
	snap, err := s.live.Snapshot(ctx, id)
	if err != nil {
		return Snapshot{}, fmt.Errorf("snapshot of %s: %w", id, err)
	}
	return snap, nil
}

// Leave takes a member's session out of a room. It does nothing when a
// newer session holds the member's place.
func (s *Service) Leave(ctx context.Context, id RoomID, user UserID, session SessionID, reason string) error {
	if err := s.live.Leave(ctx, id, user, session, reason, s.now().UTC().Truncate(time.Millisecond), s.limits); err != nil {
		return fmt.Errorf("leave %s: %w", id, err)
	}
	s.unclaim(ctx, user, Whereabouts{Room: id, Session: session})
	return nil
}

// Disconnect keeps the place of a session whose connection dropped for the
// reconnect grace; after it, the member is gone from the room.
func (s *Service) Disconnect(ctx context.Context, id RoomID, user UserID, session SessionID) error {
	if err := s.live.Disconnect(ctx, id, user, session, s.now().UTC().Truncate(time.Millisecond), s.limits); err != nil {
		return fmt.Errorf("disconnect %s: %w", id, err)
	}
	return nil
}

// Renew extends the leases of sessions this process holds in a room.
func (s *Service) Renew(ctx context.Context, id RoomID, held []Held) error {
	now := s.now().UTC().Truncate(time.Millisecond)
	if err := s.live.Renew(ctx, id, held, now, s.limits); err != nil {
		return fmt.Errorf("renew leases in %s: %w", id, err)
	}
	return s.renewPresence(ctx, id, held, now)
}

// Act applies an action of docs/stage.md, or refuses it with a sentinel
// error and changes nothing.
func (s *Service) Act(ctx context.Context, id RoomID, a Action) error {
	if !a.Kind.Valid() {
		return &ValidationError{Field: "action", Reason: fmt.Sprintf("%q is not an action", a.Kind)}
	}
	if a.Kind.NeedsTarget() && a.Target == "" {
		return &ValidationError{Field: "user_id", Reason: "is required for " + string(a.Kind)}
	}
	if err := guestRules(a); err != nil {
		return fmt.Errorf("room %s: %w", id, err)
	}
	now := s.now().UTC().Truncate(time.Millisecond)
	if err := s.live.Act(ctx, id, a, now, s.limits); err != nil {
		return fmt.Errorf("room %s: %w", id, err)
	}
	s.afterAct(ctx, id, a, now)
	return nil
}

// SetSpeaking tells the room that a participant started or stopped
// speaking. It changes no stored state.
func (s *Service) SetSpeaking(ctx context.Context, id RoomID, user UserID, speaking bool) {
	ev := Event{Type: EventSpeaking, Room: id, At: s.now().UTC(), Participant: Participant{UserID: user}, Speaking: speaking}
	if err := s.bus.Publish(ctx, ev); err != nil {
		s.log.WarnContext(ctx, "publish speaking", "room", id, "err", err)
	}
}

// Subscribe calls fn for every event of the room, in order, until
// unsubscribe is called. fn must not block.
func (s *Service) Subscribe(id RoomID, fn func(Event)) (unsubscribe func()) {
	return s.bus.Subscribe(id, fn)
}

// Run expires what is due, once a tick, until ctx ends: participants whose
// connection is gone for longer than the grace, or whose server stopped
// renewing their lease, and rooms whose stage has stayed empty. Every
// process may run it; the stores make each expiry happen once.
func (s *Service) Run(ctx context.Context, ticks <-chan time.Time) {
	for {
		select {
		case <-ctx.Done():
			s.flushOnStop(ctx)
			return
		case <-ticks:
			s.Sweep(ctx)
		}
	}
}

// Sweep runs one round of Run.
func (s *Service) Sweep(ctx context.Context) {
	// Milliseconds, like every time the stores keep (Redis keeps ms).
	now := s.now().UTC().Truncate(time.Millisecond)
	s.flushHistory(ctx)
	due, err := s.live.Due(ctx, now, 256)
	if err != nil {
		s.log.WarnContext(ctx, "find rooms due", "err", err)
		return
	}
	for _, id := range due {
		endNow, err := s.live.Expire(ctx, id, now, s.limits)
		if err != nil {
			s.log.WarnContext(ctx, "expire", "room", id, "err", err)
			continue
		}
		if endNow {
			if _, err := s.endRoom(ctx, id, ReasonEmptyStage); err != nil && !errors.Is(err, ErrRoomEnded) {
				s.log.WarnContext(ctx, "end empty room", "room", id, "err", err)
				continue
			}
			s.log.InfoContext(ctx, "room ended: nobody on stage", "room", id)
		}
	}
}

// Recover opens the live state of every room the records say is live but
// the live store does not know (after a restart of the process, or of
// Redis), so that each ends after the empty-stage grace unless someone
// takes the stage.
func (s *Service) Recover(ctx context.Context) error {
	now := s.now().UTC().Truncate(time.Millisecond)
	q := ListQuery{Limit: 500}
	for {
		list, err := s.rooms.LiveRooms(ctx, q)
		if err != nil {
			return fmt.Errorf("recover live rooms: %w", err)
		}
		for _, r := range list {
			if err := s.live.Open(ctx, r.ID, r.CreatedBy, r.Cohosts, now, s.limits); err != nil {
				return fmt.Errorf("recover room %s: %w", r.ID, err)
			}
		}
		if len(list) < q.Limit {
			return nil
		}
		last := list[len(list)-1]
		q.AfterTime, q.AfterRoomID = last.CreatedAt, last.ID
	}
}
