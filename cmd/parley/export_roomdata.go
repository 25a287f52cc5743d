package main

import (
	"context"
	"time"

	"github.com/parley-audio/parley/members"
	"github.com/parley-audio/parley/rooms"
)

// The export's files of what a member did around rooms: the rooms they
// were in (and spoke in), their chat messages, their events and RSVPs,
// the reports they made, and the moderation actions taken on them. Each
// is read from the rooms store a page at a time, so any amount exports in
// the memory of one page.

// exportPage is how many items each read of the store fetches.
const exportPage = 500

// eachPage calls fn with every item of a keyset-paged list.
func eachPage[T any](ctx context.Context, page func(ctx context.Context, after rooms.Cursor, limit int) ([]T, error), key func(T) rooms.Cursor, fn func(T) error) error {
	var after rooms.Cursor
	for {
		list, err := page(ctx, after, exportPage)
		if err != nil {
			return err
		}
		for _, v := range list {
			if err := fn(v); err != nil {
				return err
			}
		}
		if len(list) < exportPage {
			return nil
		}
		after = key(list[len(list)-1])
	}
}

type exportAttendance struct {
	RoomID    rooms.RoomID `json:"room_id"`
	Title     string       `json:"title"`
	CreatedBy rooms.UserID `json:"created_by"`
	JoinedAt  time.Time    `json:"joined_at"`
	// OnStageAt is when they first went on stage: null if they never did.
	OnStageAt *time.Time `json:"on_stage_at"`
}

type exportChat struct {
	ID        rooms.MessageID `json:"id"`
	RoomID    rooms.RoomID    `json:"room_id"`
	Seq       uint64          `json:"seq"`
	Body      string          `json:"body"`
	CreatedAt time.Time       `json:"created_at"`
}

type exportEvent struct {
	ID          rooms.EventID     `json:"id"`
	Title       string            `json:"title"`
	Description string            `json:"description"`
	StartsAt    time.Time         `json:"starts_at"`
	Cohosts     []rooms.UserID    `json:"cohosts"`
	Status      rooms.EventStatus `json:"status"`
	RoomID      *rooms.RoomID     `json:"room_id"`
	CreatedAt   time.Time         `json:"created_at"`
}

type exportRSVP struct {
	EventID   rooms.EventID `json:"event_id"`
	CreatedAt time.Time     `json:"created_at"`
}

type exportReport struct {
	ID        rooms.ReportID `json:"id"`
	MemberID  *rooms.UserID  `json:"member_id"`
	RoomID    *rooms.RoomID  `json:"room_id"`
	Reason    string         `json:"reason"`
	CreatedAt time.Time      `json:"created_at"`
}

type exportModAction struct {
	ID      rooms.ModActionID `json:"id"`
	RoomID  rooms.RoomID      `json:"room_id"`
	Action  rooms.ModKind     `json:"action"`
	ActorID rooms.UserID      `json:"actor_id"`
	Detail  string            `json:"detail"`
	At      time.Time         `json:"at"`
}

func nonZero[T comparable](v T) *T {
	var zero T
	if v == zero {
		return nil
	}
	return &v
}

// roomDataSections are the export's files from the rooms store's events,
// history, chat, moderation log and reports. flush, when not nil, writes
// the history the service has buffered first.
func roomDataSections(st *rooms.SQLStore, flush func(context.Context)) []members.Section {
	return []members.Section{
		{File: "rooms_joined.json", About: "the rooms you were in, latest first: when you first joined, and when you first went on stage (the rooms you spoke in)",
			Items: func(ctx context.Context, user rooms.UserID, emit members.Emit) error {
				if flush != nil {
					flush(ctx)
				}
				return eachPage(ctx, func(ctx context.Context, after rooms.Cursor, n int) ([]rooms.Attendance, error) {
					return st.RoomsJoinedBy(ctx, user, after, n)
				}, func(a rooms.Attendance) rooms.Cursor { return rooms.Cursor{At: a.JoinedAt, ID: string(a.Room.ID)} },
					func(a rooms.Attendance) error {
						return emit(exportAttendance{RoomID: a.Room.ID, Title: a.Room.Title, CreatedBy: a.Room.CreatedBy, JoinedAt: a.JoinedAt, OnStageAt: nonZero(a.OnStageAt)})
					})
			}},
		{File: "chat_messages.json", About: "the chat messages you wrote and did not delete, latest first",
			Items: func(ctx context.Context, user rooms.UserID, emit members.Emit) error {
				return eachPage(ctx, func(ctx context.Context, after rooms.Cursor, n int) ([]rooms.ChatMessage, error) {
					return st.ChatBy(ctx, user, after, n)
				}, func(m rooms.ChatMessage) rooms.Cursor { return rooms.Cursor{At: m.CreatedAt, ID: string(m.ID)} },
					func(m rooms.ChatMessage) error {
						return emit(exportChat{ID: m.ID, RoomID: m.Room, Seq: m.Seq, Body: m.Body, CreatedAt: m.CreatedAt})
					})
			}},
		{File: "events_hosted.json", About: "the events (scheduled rooms) you host, latest scheduled first",
			Items: func(ctx context.Context, user rooms.UserID, emit members.Emit) error {
				return eachPage(ctx, func(ctx context.Context, after rooms.Cursor, n int) ([]rooms.ScheduledEvent, error) {
					return st.EventsHostedBy(ctx, user, after, n)
				}, func(e rooms.ScheduledEvent) rooms.Cursor { return rooms.Cursor{At: e.CreatedAt, ID: string(e.ID)} },
					func(e rooms.ScheduledEvent) error {
						return emit(exportEvent{ID: e.ID, Title: e.Title, Description: e.Description, StartsAt: e.StartsAt,
							Cohosts: append([]rooms.UserID{}, e.Cohosts...), Status: e.Status(), RoomID: nonZero(e.Room), CreatedAt: e.CreatedAt})
					})
			}},
		{File: "event_rsvps.json", About: "the events you RSVPed to, latest first",
			Items: func(ctx context.Context, user rooms.UserID, emit members.Emit) error {
				return eachPage(ctx, func(ctx context.Context, after rooms.Cursor, n int) ([]rooms.RSVP, error) {
					return st.RSVPsBy(ctx, user, after, n)
				}, func(r rooms.RSVP) rooms.Cursor { return rooms.Cursor{At: r.CreatedAt, ID: string(r.Event)} },
					func(r rooms.RSVP) error { return emit(exportRSVP{EventID: r.Event, CreatedAt: r.CreatedAt}) })
			}},
		{File: "reports_made.json", About: "the reports you made, latest first",
			Items: func(ctx context.Context, user rooms.UserID, emit members.Emit) error {
				return eachPage(ctx, func(ctx context.Context, after rooms.Cursor, n int) ([]rooms.Report, error) {
					return st.ReportsBy(ctx, user, after, n)
				}, func(r rooms.Report) rooms.Cursor { return rooms.Cursor{At: r.CreatedAt, ID: string(r.ID)} },
					func(r rooms.Report) error {
						return emit(exportReport{ID: r.ID, MemberID: nonZero(r.Member), RoomID: nonZero(r.Room), Reason: r.Reason, CreatedAt: r.CreatedAt})
					})
			}},
		{File: "moderation_received.json", About: "the moderation actions taken on you (muted, removed, moved, invited...), latest first, with who took them",
			Items: func(ctx context.Context, user rooms.UserID, emit members.Emit) error {
				return eachPage(ctx, func(ctx context.Context, after rooms.Cursor, n int) ([]rooms.ModAction, error) {
					return st.ModActionsOn(ctx, user, after, n)
				}, func(a rooms.ModAction) rooms.Cursor { return rooms.Cursor{At: a.At, ID: string(a.ID)} },
					func(a rooms.ModAction) error {
						return emit(exportModAction{ID: a.ID, RoomID: a.Room, Action: a.Kind, ActorID: a.Actor, Detail: a.Detail, At: a.At})
					})
			}},
	}
}
