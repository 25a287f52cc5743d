package rooms

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// EventInput is what a host gives to schedule an event, or to edit one:
// for an edit, nil fields are left as they are. StartsAt is RFC 3339 and
// Cohosts are member IDs, as the client sent them: checking them is the
// service's, with every other field.
type EventInput struct {
	Title       *string
	Description *string
	StartsAt    *string
	Cohosts     *[]string
}

// EventView is an event with the names of its host and co-hosts.
type EventView struct {
	ScheduledEvent
	Names map[UserID]string
}

// apply validates in over e (the event as it is, or a new one) and
// returns the result, or every wrong field at once.
func (s *Service) applyEventInput(ctx context.Context, e ScheduledEvent, in EventInput, now time.Time) (ScheduledEvent, error) {
	var errs []error
	if in.Title != nil {
		t, err := cleanText("title", *in.Title, 1, MaxTitleLen, false)
		errs = append(errs, err)
		e.Title = t
	}
	if in.Description != nil {
		d, err := cleanText("description", *in.Description, 0, MaxDescriptionLen, true)
		errs = append(errs, err)
		e.Description = d
	}
	if in.StartsAt != nil {
		t, err := time.Parse(time.RFC3339Nano, *in.StartsAt)
		t = t.UTC().Truncate(time.Millisecond)
		switch {
		case err != nil:
			errs = append(errs, &ValidationError{Field: "starts_at", Reason: "must be a time in RFC 3339 form, such as 2026-11-21T18:00:00Z"})
		case t.IsZero():
			errs = append(errs, &ValidationError{Field: "starts_at", Reason: "is required"})
		case !t.After(now):
			errs = append(errs, &ValidationError{Field: "starts_at", Reason: "must be in the future"})
		case t.After(now.Add(MaxEventLead)):
			errs = append(errs, &ValidationError{Field: "starts_at", Reason: "must be within a year"})
		}
		e.StartsAt = t
	}
	if in.Cohosts != nil {
		cohosts, cerrs := s.checkCohosts(ctx, e.Host, *in.Cohosts)
		errs = append(errs, cerrs...)
		e.Cohosts = cohosts
	}
	if err := errors.Join(errs...); err != nil {
		return ScheduledEvent{}, err
	}
	return e, nil
}

// checkCohosts validates the co-host list: members, not the host, each
// once, at most MaxCohosts.
func (s *Service) checkCohosts(ctx context.Context, host UserID, ids []string) ([]UserID, []error) {
	if len(ids) > MaxCohosts {
		return nil, []error{&ValidationError{Field: "cohosts", Reason: "may list at most " + strconv.Itoa(MaxCohosts) + " members"}}
	}
	var errs []error
	out := make([]UserID, 0, len(ids))
	seen := make(map[UserID]bool, len(ids))
	for i, raw := range ids {
		field := "cohosts[" + strconv.Itoa(i) + "]"
		id, err := ParseUserID(raw)
		switch {
		case err != nil:
			errs = append(errs, &ValidationError{Field: field, Reason: "is not a member ID"})
			continue
		case id == host:
			errs = append(errs, &ValidationError{Field: field, Reason: "is the host, who needs no co-hosting"})
			continue
		case seen[id]:
			errs = append(errs, &ValidationError{Field: field, Reason: "is listed twice"})
			continue
		}
		if err := s.checkMember(ctx, field, id); err != nil {
			errs = append(errs, err)
			continue
		}
		seen[id] = true
		out = append(out, id)
	}
	return out, errs
}

// eventView adds the names of the event's people.
func (s *Service) eventView(ctx context.Context, e ScheduledEvent, names map[UserID]string) (EventView, error) {
	var missing []UserID
	for _, id := range append([]UserID{e.Host}, e.Cohosts...) {
		if _, ok := names[id]; !ok {
			missing = append(missing, id)
		}
	}
	found, err := s.names(ctx, missing...)
	if err != nil {
		return EventView{}, err
	}
	for id, n := range found {
		names[id] = n
	}
	return EventView{ScheduledEvent: e, Names: names}, nil
}

// CreateEvent schedules an event hosted by host.
func (s *Service) CreateEvent(ctx context.Context, host UserID, in EventInput) (EventView, error) {
	st, err := s.dataStore()
	if err != nil {
		return EventView{}, err
	}
	now := s.now().UTC().Truncate(time.Millisecond)
	var errs []error
	if in.Title == nil {
		errs = append(errs, &ValidationError{Field: "title", Reason: "is required"})
	}
	if in.StartsAt == nil {
		errs = append(errs, &ValidationError{Field: "starts_at", Reason: "is required"})
	}
	e, err := s.applyEventInput(ctx, ScheduledEvent{ID: NewEventID(), Host: host, CreatedAt: now, UpdatedAt: now}, in, now)
	if err := errors.Join(append(errs, err)...); err != nil {
		return EventView{}, err
	}
	if _, err := s.members.Member(ctx, host); err != nil {
		return EventView{}, fmt.Errorf("create event: host %s: %w", host, err)
	}
	if err := st.CreateEvent(ctx, e); err != nil {
		return EventView{}, fmt.Errorf("create event: %w", err)
	}
	s.log.InfoContext(ctx, "event scheduled", "event", e.ID, "user", host)
	return s.eventView(ctx, e, map[UserID]string{})
}

// hostedEvent reads an event for a change only its host may make.
func (s *Service) hostedEvent(ctx context.Context, st DataRecords, actor UserID, id EventID, what string) (ScheduledEvent, error) {
	e, err := st.Event(ctx, id, actor)
	if err != nil {
		return ScheduledEvent{}, fmt.Errorf("%s: %w", what, err)
	}
	if e.Host != actor {
		return ScheduledEvent{}, fmt.Errorf("%s %s: only its host may: %w", what, id, ErrForbidden)
	}
	return e, nil
}

// UpdateEvent edits a scheduled event; only its host may.
func (s *Service) UpdateEvent(ctx context.Context, actor UserID, id EventID, in EventInput) (EventView, error) {
	st, err := s.dataStore()
	if err != nil {
		return EventView{}, err
	}
	e, err := s.hostedEvent(ctx, st, actor, id, "edit event")
	if err != nil {
		return EventView{}, err
	}
	if err := scheduledOnly(e); err != nil {
		return EventView{}, err
	}
	now := s.now().UTC().Truncate(time.Millisecond)
	e, err = s.applyEventInput(ctx, e, in, now)
	if err != nil {
		return EventView{}, err
	}
	e.UpdatedAt = now
	if e, err = st.UpdateEvent(ctx, e); err != nil {
		return EventView{}, err
	}
	return s.withViewer(ctx, st, e, actor)
}

// withViewer reads the event again for viewer's RSVP and adds names.
func (s *Service) withViewer(ctx context.Context, st DataRecords, e ScheduledEvent, viewer UserID) (EventView, error) {
	e, err := st.Event(ctx, e.ID, viewer)
	if err != nil {
		return EventView{}, err
	}
	return s.eventView(ctx, e, map[UserID]string{})
}

// CancelEvent cancels a scheduled event; only its host may.
func (s *Service) CancelEvent(ctx context.Context, actor UserID, id EventID) (EventView, error) {
	st, err := s.dataStore()
	if err != nil {
		return EventView{}, err
	}
	if _, err := s.hostedEvent(ctx, st, actor, id, "cancel event"); err != nil {
		return EventView{}, err
	}
	e, err := st.CancelEvent(ctx, id, s.now().UTC().Truncate(time.Millisecond))
	if err != nil {
		return EventView{}, err
	}
	s.log.InfoContext(ctx, "event cancelled", "event", id, "user", actor)
	return s.withViewer(ctx, st, e, actor)
}

// StartEvent opens an event's live room, whose creator is the event's
// host and whose co-hosts are its co-hosts: they all join it as
// moderators. Its host or a co-host may start it, early or late, once.
func (s *Service) StartEvent(ctx context.Context, actor UserID, id EventID) (EventView, Room, error) {
	st, err := s.dataStore()
	if err != nil {
		return EventView{}, Room{}, err
	}
	e, err := st.Event(ctx, id, actor)
	if err != nil {
		return EventView{}, Room{}, fmt.Errorf("start event: %w", err)
	}
	if !e.IsHost(actor) {
		return EventView{}, Room{}, fmt.Errorf("start event %s: only its host and co-hosts may: %w", id, ErrForbidden)
	}
	if err := scheduledOnly(e); err != nil {
		return EventView{}, Room{}, err
	}
	now := s.now().UTC().Truncate(time.Millisecond)
	if e, err = st.StartEvent(ctx, id, actor, Room{ID: NewRoomID(), CreatedAt: now}); err != nil {
		return EventView{}, Room{}, err
	}
	r, err := s.room(ctx, e.Room)
	if err != nil {
		return EventView{}, Room{}, fmt.Errorf("start event %s: %w", id, err)
	}
	// Should this fail, the room is still live in the records, and the
	// first join (or Recover) opens it, with its co-hosts.
	if err := s.live.Open(ctx, r.ID, r.CreatedBy, r.Cohosts, now, s.limits); err != nil {
		return EventView{}, Room{}, fmt.Errorf("start event %s: live state: %w", id, err)
	}
	s.log.InfoContext(ctx, "event started", "event", id, "room", r.ID, "user", actor)
	v, err := s.withViewer(ctx, st, e, actor)
	return v, r, err
}

// Event returns one event as viewer sees it (their RSVP).
func (s *Service) Event(ctx context.Context, viewer UserID, id EventID) (EventView, error) {
	st, err := s.dataStore()
	if err != nil {
		return EventView{}, err
	}
	e, err := st.Event(ctx, id, viewer)
	if err != nil {
		return EventView{}, fmt.Errorf("get event: %w", err)
	}
	return s.eventView(ctx, e, map[UserID]string{})
}

// UpcomingEvents returns a page of the events that have not started, soonest
// first, from UpcomingGrace ago on, and the cursor of the next page.
func (s *Service) UpcomingEvents(ctx context.Context, viewer UserID, limit int, cursor string) ([]EventView, string, error) {
	st, err := s.dataStore()
	if err != nil {
		return nil, "", err
	}
	if limit, err = pageLimit(limit); err != nil {
		return nil, "", err
	}
	after, err := ParseCursor(cursor)
	if err != nil {
		return nil, "", err
	}
	from := s.now().UTC().Truncate(time.Millisecond).Add(-UpcomingGrace)
	list, err := st.UpcomingEvents(ctx, EventQuery{From: from, After: after, Limit: limit + 1, Viewer: viewer})
	if err != nil {
		return nil, "", fmt.Errorf("upcoming events: %w", err)
	}
	list, next := pageOf(list, limit, ScheduledEvent.cursor)
	out := make([]EventView, 0, len(list))
	names := map[UserID]string{}
	for _, e := range list {
		v, err := s.eventView(ctx, e, names)
		if err != nil {
			return nil, "", err
		}
		out = append(out, v)
	}
	return out, next, nil
}

// RSVP records (going) or withdraws user's RSVP to a scheduled event, and
// returns the event as they now see it. With an Audience configured, only
// followers of its host or a co-host may RSVP (hosts may too).
func (s *Service) RSVP(ctx context.Context, user UserID, id EventID, going bool) (EventView, error) {
	st, err := s.dataStore()
	if err != nil {
		return EventView{}, err
	}
	e, err := st.Event(ctx, id, user)
	if err != nil {
		return EventView{}, fmt.Errorf("rsvp: %w", err)
	}
	if going && s.audience != nil && !e.IsHost(user) {
		ok, err := s.followsHost(ctx, user, e)
		if err != nil {
			return EventView{}, err
		}
		if !ok {
			return EventView{}, fmt.Errorf("rsvp to %s: only followers of its hosts may: %w", id, ErrForbidden)
		}
	}
	if err := st.SetRSVP(ctx, id, user, going, s.now().UTC().Truncate(time.Millisecond)); err != nil {
		return EventView{}, err
	}
	return s.withViewer(ctx, st, e, user)
}

func (s *Service) followsHost(ctx context.Context, user UserID, e ScheduledEvent) (bool, error) {
	followed, err := s.audience.Followed(ctx, user, append([]UserID{e.Host}, e.Cohosts...))
	if err != nil {
		return false, fmt.Errorf("rsvp: whom %s follows: %w", user, err)
	}
	return len(followed) > 0, nil
}
