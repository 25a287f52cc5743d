package rooms

import (
	"context"
	"fmt"
	"time"
)

// RateLimiter says whether one more event of key may happen at now, and
// if not, when to try again. internal/ratelimit's limiters are
// RateLimiters; rooms only needs this much of them.
type RateLimiter interface {
	Allow(ctx context.Context, key string, now time.Time) (ok bool, retryAfter time.Duration, err error)
}

// ReasonMoved is why someone left a room when they joined another: a
// member is in one room at a time.
const ReasonMoved = "moved"

// claim makes here the member's whereabouts and returns where they were.
// Joining a room other than the one the member is in spends one of their
// joins: a member cannot hop from room to room faster than the limit (the
// 2021 lesson: one account fed outsiders by joining every room), while
// reconnecting to their room is free.
func (s *Service) claim(ctx context.Context, user UserID, here Whereabouts, now time.Time) (Whereabouts, error) {
	if s.joins != nil {
		cur, err := s.live.Presence(ctx, user, now)
		if err != nil {
			return Whereabouts{}, err
		}
		if cur.Room != here.Room {
			ok, wait, err := s.joins.Allow(ctx, string(user), now)
			if err != nil {
				return Whereabouts{}, fmt.Errorf("%w: join rate limit: %w", ErrUnavailable, err)
			}
			if !ok {
				return Whereabouts{}, &RateLimitError{RetryAfter: wait}
			}
		}
	}
	return s.live.ClaimPresence(ctx, user, here, presenceTTL(s.limits), now)
}

// unclaim forgets here as the member's whereabouts, if it still is.
// Failing to only leaves a record that lapses by itself.
func (s *Service) unclaim(ctx context.Context, user UserID, here Whereabouts) {
	if user.IsGuest() {
		return
	}
	if err := s.live.ReleasePresence(ctx, user, here); err != nil {
		s.log.WarnContext(ctx, "release whereabouts", "user", user, "room", here.Room, "err", err)
	}
}

// moveOut takes a member who has just joined here out of the room they
// were in before, if another. Then it looks again: if a newer join of the
// same member, elsewhere, claimed them meanwhile, it may have tried to take
// them out of here before they were in, so this join takes itself out, and
// the member is left where their newest join put them. Every interleaving
// of two joins thus leaves the member in one room.
func (s *Service) moveOut(ctx context.Context, user UserID, here, prev Whereabouts, now time.Time) {
	if !prev.IsZero() && prev.Room != here.Room {
		if err := s.live.Leave(ctx, prev.Room, user, prev.Session, ReasonMoved, now, s.limits); err != nil {
			s.log.WarnContext(ctx, "leave the previous room", "user", user, "room", prev.Room, "err", err)
		}
	}
	cur, err := s.live.Presence(ctx, user, now)
	if err != nil {
		s.log.WarnContext(ctx, "check whereabouts", "user", user, "err", err)
		return
	}
	if !cur.IsZero() && cur.Room != here.Room {
		if err := s.live.Leave(ctx, here.Room, user, here.Session, ReasonMoved, now, s.limits); err != nil {
			s.log.WarnContext(ctx, "leave after a newer join", "user", user, "room", here.Room, "err", err)
		}
	}
}

// renewPresence extends, or records again, the whereabouts of the members
// whose sessions the caller holds in room, with their leases.
func (s *Service) renewPresence(ctx context.Context, room RoomID, held []Held, now time.Time) error {
	members := make([]Held, 0, len(held))
	for _, h := range held {
		if !h.User.IsGuest() {
			members = append(members, h)
		}
	}
	if err := s.live.RenewPresence(ctx, room, members, presenceTTL(s.limits), now); err != nil {
		return fmt.Errorf("renew whereabouts: %w", err)
	}
	return nil
}

// joinGuest puts a guest into an open room, as a listener, when the
// instance allows guests. A guest pass is for one room, so guests have no
// whereabouts to keep.
func (s *Service) joinGuest(ctx context.Context, r Room, guest UserID, session SessionID) (Joined, error) {
	if !s.guests {
		return Joined{}, fmt.Errorf("join %s: %w", r.ID, ErrGuestsDisabled)
	}
	if r.Visibility != VisibilityOpen {
		return Joined{}, fmt.Errorf("join: %w", errHidden(r.ID))
	}
	now := s.now().UTC().Truncate(time.Millisecond)
	p := Participant{UserID: guest, DisplayName: GuestName, JoinedAt: now, Session: session}
	return s.joinLive(ctx, r, p, now)
}

// guestRules refuses what guests may not do: anything at all, as actors
// (they only listen), and being invited to speak (so they are never on
// stage). Whether someone is a guest is in their ID, which never changes,
// so checking it here, before the store applies the action, is as good as
// checking it inside.
func guestRules(a Action) error {
	if a.Actor.IsGuest() {
		return fmt.Errorf("%s: guests can only listen: %w", a.Kind, ErrForbidden)
	}
	if a.Kind == ActInvite && a.Target.IsGuest() {
		return fmt.Errorf("%s: guests cannot be invited to speak: %w", a.Kind, ErrForbidden)
	}
	return nil
}
