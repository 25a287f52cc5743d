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
	sections := d.members.ExportSections()
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
	sections = append(sections, roomDataSections(d.rooms, flush)...)
	return members.NewExporter(nil, sections...)
}
