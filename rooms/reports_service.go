package rooms

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// ReportInput is a report as a member makes it: a member, a room, or a
// member in a room, by ID as the client sent them, and a reason.
type ReportInput struct {
	Member string
	Room   string
	Reason string
}

// ReportView is a report with the names of the people and the title of
// the room it names.
type ReportView struct {
	Report
	Names     map[UserID]string
	RoomTitle string
}

// CreateReport stores reporter's report, checking every field at once.
func (s *Service) CreateReport(ctx context.Context, reporter UserID, in ReportInput) (ReportView, error) {
	st, err := s.dataStore()
	if err != nil {
		return ReportView{}, err
	}
	r := Report{ID: NewReportID(), Reporter: reporter, CreatedAt: s.now().UTC().Truncate(time.Millisecond)}
	var errs []error
	reason, err := cleanText("reason", in.Reason, 1, MaxReasonLen, true)
	errs = append(errs, err)
	r.Reason = reason
	if in.Member == "" && in.Room == "" {
		errs = append(errs, &ValidationError{Field: "member_id", Reason: "is required when room_id is not given: a report names a member, a room, or both"})
	}
	if in.Member != "" {
		id, err := ParseUserID(in.Member)
		switch {
		case err != nil:
			errs = append(errs, &ValidationError{Field: "member_id", Reason: "is not a member ID"})
		case id == reporter:
			errs = append(errs, &ValidationError{Field: "member_id", Reason: "is you"})
		default:
			errs = append(errs, s.checkMember(ctx, "member_id", id))
			r.Member = id
		}
	}
	var title string
	if in.Room != "" {
		id, err := ParseRoomID(in.Room)
		if err == nil {
			var room Room
			room, err = s.rooms.Room(ctx, id)
			title = room.Title
		}
		switch {
		case errors.Is(err, ErrRoomNotFound):
			errs = append(errs, &ValidationError{Field: "room_id", Reason: "no room has this ID"})
		case err != nil:
			return ReportView{}, fmt.Errorf("report: %w", err)
		default:
			r.Room = id
		}
	}
	if err := errors.Join(errs...); err != nil {
		return ReportView{}, err
	}
	if err := st.CreateReport(ctx, r); err != nil {
		return ReportView{}, fmt.Errorf("report: %w", err)
	}
	s.log.InfoContext(ctx, "report made", "report", r.ID, "user", reporter)
	names, err := s.names(ctx, r.Reporter, r.Member)
	if err != nil {
		return ReportView{}, err
	}
	return ReportView{Report: r, Names: names, RoomTitle: title}, nil
}

// Reports returns a page of every report, newest first. Only instance
// admins may read them: the caller checks that.
func (s *Service) Reports(ctx context.Context, limit int, cursor string) ([]ReportView, string, error) {
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
	list, err := st.Reports(ctx, after, limit+1)
	if err != nil {
		return nil, "", fmt.Errorf("reports: %w", err)
	}
	list, next := pageOf(list, limit, Report.cursor)
	var ids []UserID
	for _, r := range list {
		ids = append(ids, r.Reporter, r.Member)
	}
	names, err := s.names(ctx, ids...)
	if err != nil {
		return nil, "", err
	}
	titles := map[RoomID]string{}
	out := make([]ReportView, 0, len(list))
	for _, r := range list {
		if _, ok := titles[r.Room]; r.Room != "" && !ok {
			room, err := s.rooms.Room(ctx, r.Room)
			if err != nil {
				return nil, "", fmt.Errorf("reports: %w", err)
			}
			titles[r.Room] = room.Title
		}
		out = append(out, ReportView{Report: r, Names: names, RoomTitle: titles[r.Room]})
	}
	return out, next, nil
}
