package main

import (
	"context"
	"time"

	"github.com/parley-audio/parley/members"
	"github.com/parley-audio/parley/rooms"
)

// exportRoom is one item of rooms_hosted.json.
type exportRoom struct {
	ID          rooms.RoomID `json:"id"`
	Title       string       `json:"title"`
	Description string       `json:"description"`
	CreatedAt   time.Time    `json:"created_at"`
	EndedAt     *time.Time   `json:"ended_at"`
	LoudestN    int          `json:"loudest_n"`
}

// newExporter gathers the files of a member's data export from every
// store that keeps something about members. A store that gains such data
// adds its section here, or the export would no longer hold everything.
// flush, when not nil, writes what the rooms service buffers (history)
// before a section reads the store.
func newExporter(d *durable, flush func(context.Context)) (*members.Exporter, error) {
	sections := append(d.members.ExportSections(), d.members.SocialExportSections()...)
	sections = append(sections, members.Section{
		File: "rooms_hosted.json", About: "the rooms you created, oldest first",
		Items: func(ctx context.Context, user rooms.UserID, emit members.Emit) error {
			return d.rooms.RoomsCreatedBy(ctx, user, func(r rooms.Room) error {
				e := exportRoom{ID: r.ID, Title: r.Title, Description: r.Description, CreatedAt: r.CreatedAt, LoudestN: r.LoudestN}
				if !r.Live() {
					e.EndedAt = &r.EndedAt
				}
				return emit(e)
			})
		},
	})
	sections = append(sections, members.Section{
		File: "room_invitations.json", About: "the rooms you were invited into (the way in to a closed room), newest first",
		Items: func(ctx context.Context, user rooms.UserID, emit members.Emit) error {
			return exportInvitations(ctx, d.rooms, user, emit)
		},
	})
	sections = append(sections, roomDataSections(d.rooms, flush)...)
	return members.NewExporter(nil, sections...)
}

// exportInvitation is one item of room_invitations.json.
type exportInvitation struct {
	Room      rooms.RoomID `json:"room_id"`
	Title     string       `json:"room_title"`
	InvitedBy rooms.UserID `json:"invited_by"`
	InvitedAt time.Time    `json:"invited_at"`
}

// exportInvitations emits the member's room invitations a page at a time.
func exportInvitations(ctx context.Context, rs *rooms.SQLStore, user rooms.UserID, emit members.Emit) error {
	const page = 500
	var after rooms.InviteeCursor
	for {
		list, err := rs.InvitationsOf(ctx, user, after, page)
		if err != nil {
			return err
		}
		for _, inv := range list {
			e := exportInvitation{Room: inv.Room, InvitedBy: inv.InvitedBy, InvitedAt: inv.At}
			if r, err := rs.Room(ctx, inv.Room); err == nil {
				e.Title = r.Title
			}
			if err := emit(e); err != nil {
				return err
			}
		}
		if len(list) < page {
			return nil
		}
		last := list[len(list)-1]
		after = rooms.InviteeCursor{At: last.At, ID: string(last.Room)}
	}
}
