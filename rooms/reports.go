package rooms

import (
	"context"
	"time"
)

// Reports live in rooms rather than members: a report is about conduct
// in rooms (a member, a room, or a member in a room), a room report names
// a room of this store's database, and members never has to import more
// of rooms for it. Only admins read them, which the API checks.

// ReportID identifies a report.
type ReportID string

const reportPrefix = "rep_"

// NewReportID returns a fresh random report ID.
func NewReportID() ReportID { return ReportID(newID(reportPrefix)) }

// MaxReasonLen is the longest reason a report may give, in characters.
const MaxReasonLen = 2000

// Report is a member's report of another member, of a room, or of a
// member in a room: at least one of Member and Room is set.
type Report struct {
	ID        ReportID
	Reporter  UserID
	Member    UserID
	Room      RoomID
	Reason    string
	CreatedAt time.Time
}

func (r Report) cursor() Cursor { return Cursor{At: r.CreatedAt, ID: string(r.ID)} }

// ReportRecords is the durable store of reports.
type ReportRecords interface {
	// CreateReport stores a report. A Room it names must exist.
	CreateReport(ctx context.Context, r Report) error
	// Reports returns every report, newest first, after the cursor
	// (CreatedAt, ID).
	Reports(ctx context.Context, after Cursor, limit int) ([]Report, error)
	// ReportsBy returns the reports user made, newest first, after the
	// cursor: for their data export.
	ReportsBy(ctx context.Context, user UserID, after Cursor, limit int) ([]Report, error)
}
