package rooms

import (
	"context"
	"time"
)

// Presence is one member's time in one room, as history keeps it.
type Presence struct {
	Room RoomID
	User UserID
	// JoinedAt is when they first joined.
	JoinedAt time.Time
	// OnStageAt is when they first went on stage; zero if they never did.
	OnStageAt time.Time
}

// History is what a room leaves behind: when it started (Room.CreatedAt)
// and ended, the most listeners it had at once, and everyone who was on
// stage, first on stage first.
type History struct {
	Room          Room
	PeakListeners int
	Speakers      []Presence
}

// Attendance is a room a member was in, for their data export.
type Attendance struct {
	Room Room
	Presence
}

// HistoryRecords is the durable store of who was in each room. Written
// in batches as rooms run (the Service buffers between flushes).
type HistoryRecords interface {
	// RecordPresence stores first joins and first times on stage. A later
	// time never replaces an earlier one, and a zero OnStageAt leaves the
	// stored one. The rooms must exist.
	RecordPresence(ctx context.Context, ps []Presence) error
	// RecordPeaks raises each room's peak listeners to the given count
	// when it is higher.
	RecordPeaks(ctx context.Context, peaks map[RoomID]int) error
	// RoomHistory returns a room's history, or ErrRoomNotFound.
	RoomHistory(ctx context.Context, room RoomID) (History, error)

	// For a member's data export:

	// RoomsHostedBy returns the rooms user created, newest first, after
	// the cursor (CreatedAt, ID).
	RoomsHostedBy(ctx context.Context, user UserID, after Cursor, limit int) ([]Room, error)
	// RoomsJoinedBy returns the rooms user was in, the latest first
	// joined first, with when they joined and first went on stage (the
	// rooms they spoke in), after the cursor (JoinedAt, room ID).
	RoomsJoinedBy(ctx context.Context, user UserID, after Cursor, limit int) ([]Attendance, error)
}
