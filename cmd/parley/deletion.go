package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/parley-audio/parley/members"
	"github.com/parley-audio/parley/rooms"
)

// erasers gathers the parts of an account deletion from every store that
// keeps something about members, as newExporter gathers the export's
// sections. A store that gains such data adds its eraser here, and
// declares its member columns: TestEveryMemberColumnIsErasedOrKept fails
// for a table that no eraser accounts for. live takes the member out of
// their room; nil leaves that out (tests of the stores alone).
func erasers(d *durable, live *rooms.Service) []members.Eraser {
	var out []members.Eraser
	if live != nil {
		// First: the member leaves their room before anything else of
		// theirs goes, so that the room's people see them leave.
		out = append(out, members.Eraser{
			Name: "rooms: leave the live room",
			Erase: func(ctx context.Context, user rooms.UserID, _ time.Time) error {
				return live.Evict(ctx, user, rooms.ReasonAccountDeleted)
			},
		})
	}
	out = append(out, d.members.Erasers()...)
	out = append(out,
		members.Eraser{
			Name: "rooms: rooms created",
			Columns: []members.MemberColumn{{Table: "rooms", Column: "created_by", Fate: members.Kept,
				Why: `the room is everyone's history; it shows as hosted by "Deleted member"`}},
		},
		members.Eraser{
			Name: "rooms: chat messages",
			Columns: []members.MemberColumn{
				{Table: "chat_messages", Column: "author_id", Fate: members.Erased},
				{Table: "chat_messages", Column: "deleted_by", Fate: members.Kept,
					Why: "which moderator deleted someone else's message: the room's moderation record"},
			},
			Erase: func(ctx context.Context, user rooms.UserID, _ time.Time) error {
				_, err := d.rooms.DeleteChatBy(ctx, user)
				return err
			},
		},
		members.Eraser{
			Name:    "rooms: attendance (who was in each room, who spoke)",
			Columns: []members.MemberColumn{{Table: "room_participants", Column: "user_id", Fate: members.Erased}},
			Erase: func(ctx context.Context, user rooms.UserID, _ time.Time) error {
				if live != nil {
					// What the service still buffers would come back.
					live.FlushHistory(ctx)
				}
				return d.rooms.RemoveAttendanceOf(ctx, user)
			},
		},
		members.Eraser{
			Name: "rooms: events, co-hosting and RSVPs",
			Columns: []members.MemberColumn{
				{Table: "events", Column: "host_id", Fate: members.Kept,
					Why: `events that started or were cancelled are rooms' history, hosted by "Deleted member"; scheduled ones are cancelled`},
				{Table: "events", Column: "started_by", Fate: members.Kept, Why: "part of a started event's history"},
				{Table: "event_cohosts", Column: "user_id", Fate: members.Erased},
				{Table: "event_rsvps", Column: "user_id", Fate: members.Erased},
				{Table: "rooms", Column: "cohosts", Fate: members.Erased},
			},
			Erase: d.rooms.RemoveFromEvents,
		},
		members.Eraser{
			Name: "rooms: moderation log and reports",
			Columns: []members.MemberColumn{
				{Table: "moderation_log", Column: "actor_id", Fate: members.Kept,
					Why: "the moderation log is the instance's record of conduct; it names the member by ID only"},
				{Table: "moderation_log", Column: "target_id", Fate: members.Kept,
					Why: "the moderation log is the instance's record of conduct; it names the member by ID only"},
				{Table: "reports", Column: "reporter_id", Fate: members.Kept,
					Why: "a report is the admins' record, kept for the safety of the others; it names the reporter by ID only"},
				{Table: "reports", Column: "member_id", Fate: members.Kept,
					Why: "a report about the member is the admins' record of their conduct"},
			},
		},
		members.Eraser{
			Name: "rooms: room invitations",
			Columns: []members.MemberColumn{
				{Table: "room_invitees", Column: "member_id", Fate: members.Erased},
				{Table: "room_invitees", Column: "invited_by", Fate: members.Kept,
					Why: "an invitation the member gave as a host is the invitee's way in"},
			},
			Erase: func(ctx context.Context, user rooms.UserID, _ time.Time) error {
				return d.rooms.RemoveInvitationsOf(ctx, user)
			},
		},
	)
	return out
}

// newDeleter returns the account deleter with every store's erasers.
func newDeleter(d *durable, accounts *members.Service, live *rooms.Service, log *slog.Logger) (*members.Deleter, error) {
	return members.NewDeleter(members.DeleterParams{Accounts: accounts, Erasers: erasers(d, live), Logger: log})
}

// erasureSweep is how often the server finishes the erasures of deleted
// accounts: those that failed half way, and the final pass a minute
// (members.DefaultSettle) after each deletion.
const erasureSweep = 30 * time.Second
