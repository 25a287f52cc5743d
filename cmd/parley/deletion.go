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
