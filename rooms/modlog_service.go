package rooms

import (
	"context"
	"fmt"
	"time"
)

// afterAct records what a successful action did, for history and the
// moderation log. It runs after the change; a failure to record is
// logged, never turned into a failure of the action, which happened.
func (s *Service) afterAct(ctx context.Context, room RoomID, a Action, now time.Time) {
	if s.data.store == nil {
		return
	}
	entry := ModAction{Room: room, Actor: a.Actor, Target: a.Target, At: now}
	switch a.Kind {
	case ActInvite:
		entry.Kind = ModInvited
	case ActAcceptInvite:
		entry.Kind, entry.Target = ModInviteAccepted, a.Actor
		s.data.history.addPresence(Presence{Room: room, User: a.Actor, JoinedAt: now, OnStageAt: now})
	case ActMoveToAudience:
		entry.Kind = ModMovedToAudience
		s.notePeak(ctx, room)
	case ActMakeModerator:
		entry.Kind = ModMadeModerator
	case ActStepDown:
		entry.Kind, entry.Target = ModSteppedDown, a.Actor
		s.notePeak(ctx, room)
	case ActMute:
		if a.Target == "" || a.Target == a.Actor {
			return // muting oneself is no one's moderation
		}
		entry.Kind = ModMuted
	case ActMuteAll:
		entry.Kind, entry.Target = ModMutedAll, ""
	case ActRemove:
		entry.Kind = ModRemoved
		if a.Block {
			entry.Kind = ModBlocked
		}
	case ActSetHands:
		entry.Kind, entry.Target = ModHandsDisabled, ""
		if a.Enabled {
			entry.Kind = ModHandsEnabled
		}
	default:
		return
	}
	s.logMod(ctx, entry)
}

// logMod appends an entry to the moderation log, with its ID and, when
// unset, the time now.
func (s *Service) logMod(ctx context.Context, a ModAction) {
	if s.data.store == nil {
		return
	}
	a.ID = NewModActionID()
	if a.At.IsZero() {
		a.At = s.now().UTC().Truncate(time.Millisecond)
	}
	// The action is done; its entry must be kept even if the request
	// that made it is gone.
	lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := s.data.store.RecordModAction(lctx, a); err != nil {
		s.log.ErrorContext(ctx, "record moderation action", "room", a.Room, "user", a.Actor, "action", a.Kind, "err", err)
	}
}

// ModLog returns a page of a room's moderation log, newest first, with the
// names of the people in it. The room's creator and co-hosts may read it,
// its moderators while they are in it, and instance admins (admin: the
// caller checked that viewer is one).
func (s *Service) ModLog(ctx context.Context, room RoomID, viewer UserID, admin bool, limit int, cursor string) ([]ModAction, map[UserID]string, string, error) {
	st, err := s.dataStore()
	if err != nil {
		return nil, nil, "", err
	}
	if limit, err = pageLimit(limit); err != nil {
		return nil, nil, "", err
	}
	after, err := ParseCursor(cursor)
	if err != nil {
		return nil, nil, "", err
	}
	r, err := s.rooms.Room(ctx, room)
	if err != nil {
		return nil, nil, "", fmt.Errorf("moderation log of %s: %w", room, err)
	}
	if !admin {
		ok, err := s.mayModerate(ctx, r, viewer)
		if err != nil {
			return nil, nil, "", err
		}
		if !ok {
			return nil, nil, "", fmt.Errorf("moderation log of %s: only its hosts, moderators and admins read it: %w", room, ErrForbidden)
		}
	}
	list, err := st.ModLog(ctx, room, after, limit+1)
	if err != nil {
		return nil, nil, "", fmt.Errorf("moderation log of %s: %w", room, err)
	}
	list, next := pageOf(list, limit, ModAction.cursor)
	var ids []UserID
	for _, a := range list {
		ids = append(ids, a.Actor, a.Target)
	}
	names, err := s.names(ctx, ids...)
	if err != nil {
		return nil, nil, "", err
	}
	return list, names, next, nil
}
