package rooms

import (
	"context"
	"errors"
	"fmt"

	"github.com/parley-audio/parley/internal/ratelimit"
)

// DataRecords are the durable stores of what happens around rooms. The
// Service needs all of them, from one database: starting an event stores
// its room, so Data must be the store of ServiceParams.Rooms. *SQLStore
// is both.
type DataRecords interface {
	EventRecords
	HistoryRecords
	ChatRecords
	ModLogRecords
	ReportRecords
}

// roomData is the Service's part for events, history, chat, the
// moderation log and reports.
type roomData struct {
	store   DataRecords // nil: the features are off
	limiter RateLimiter
	history *historyBuffer
}

// errNoData answers calls to features whose store was not configured.
var errNoData = fmt.Errorf("rooms: no store for events, chat and history configured: %w", ErrUnavailable)

func newRoomData(p ServiceParams) roomData {
	d := roomData{store: p.Data, limiter: p.ChatLimiter, history: newHistoryBuffer()}
	if d.store != nil && p.Rooms != nil && any(d.store) != any(p.Rooms) {
		panic("rooms: ServiceParams.Data must be the store of ServiceParams.Rooms (starting an event stores its room)")
	}
	if d.limiter == nil {
		r := p.ChatRate
		if r.PerMinute <= 0 || r.Burst <= 0 {
			r = DefaultChatRate()
		}
		d.limiter = ratelimit.NewMemory(r.Rate())
	}
	return d
}

// store returns the data store, or errNoData.
func (s *Service) dataStore() (DataRecords, error) {
	if s.data.store == nil {
		return nil, errNoData
	}
	return s.data.store, nil
}

// names looks up the display names of members, for the JSON of a page.
// A member the members store no longer knows has no name ("").
func (s *Service) names(ctx context.Context, ids ...UserID) (map[UserID]string, error) {
	out := make(map[UserID]string, len(ids))
	for _, id := range ids {
		if _, ok := out[id]; ok || id == "" {
			continue
		}
		m, err := s.members.Member(ctx, id)
		switch {
		case errors.Is(err, ErrMemberNotFound):
			out[id] = ""
		case err != nil:
			return nil, fmt.Errorf("name of %s: %w", id, err)
		default:
			out[id] = m.DisplayName
		}
	}
	return out, nil
}

// mayModerate reports whether user may moderate room r: its creator and
// co-hosts may from anywhere (the room may have ended), anyone else while
// they are a moderator in it.
func (s *Service) mayModerate(ctx context.Context, r Room, user UserID) (bool, error) {
	if r.IsHost(user) {
		return true, nil
	}
	if !r.Live() {
		return false, nil
	}
	p, err := s.live.Participant(ctx, r.ID, user)
	switch {
	case errors.Is(err, ErrNotParticipant), errors.Is(err, ErrRoomNotFound), errors.Is(err, ErrRoomEnded):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("role of %s in %s: %w", user, r.ID, err)
	}
	return p.Role == RoleModerator, nil
}

// checkMember turns an unknown member named in input into a validation
// error of its field.
func (s *Service) checkMember(ctx context.Context, field string, id UserID) error {
	_, err := s.members.Member(ctx, id)
	if errors.Is(err, ErrMemberNotFound) {
		return &ValidationError{Field: field, Reason: "no member has this ID"}
	}
	return err
}
