package rooms

import (
	"context"
	"database/sql"
	"fmt"
)

var _ ReportRecords = (*SQLStore)(nil)

const reportSelect = `SELECT id, reporter_id, member_id, room_id, reason, created_at FROM reports `

func scanReport(sc interface{ Scan(...any) error }) (Report, error) {
	var r Report
	var member, room sql.NullString
	var at int64
	if err := sc.Scan(&r.ID, &r.Reporter, &member, &room, &r.Reason, &at); err != nil {
		return Report{}, err
	}
	r.Member, r.Room, r.CreatedAt = UserID(member.String), RoomID(room.String), fromMillis(at)
	return r, nil
}

// CreateReport implements ReportRecords.
func (s *SQLStore) CreateReport(ctx context.Context, r Report) error {
	member := sql.NullString{String: string(r.Member), Valid: r.Member != ""}
	room := sql.NullString{String: string(r.Room), Valid: r.Room != ""}
	if _, err := s.db.W.ExecContext(ctx, `INSERT INTO reports (id, reporter_id, member_id, room_id, reason, created_at)
		VALUES ($1, $2, $3, $4, $5, $6)`,
		string(r.ID), string(r.Reporter), member, room, r.Reason, toMillis(r.CreatedAt)); err != nil {
		return failed("insert report", err)
	}
	return nil
}

func (s *SQLStore) reportPage(ctx context.Context, op, where string, args []any, after Cursor, limit int) ([]Report, error) {
	if err := checkStoreLimit(op, limit); err != nil {
		return nil, err
	}
	n := len(args)
	args = append(args, limit)
	query := reportSelect + where + fmt.Sprintf(`ORDER BY created_at DESC, id DESC LIMIT $%d`, n+1)
	if !after.IsZero() {
		cond := fmt.Sprintf(`(created_at, id) < ($%d, $%d) `, n+2, n+3)
		if where == "" {
			cond = "WHERE " + cond
		} else {
			cond = "AND " + cond
		}
		query = reportSelect + where + cond + fmt.Sprintf(`ORDER BY created_at DESC, id DESC LIMIT $%d`, n+1)
		args = append(args, toMillis(after.At), after.ID)
	}
	return collect(ctx, s.db.R, op, scanReport, query, args...)
}

// Reports implements ReportRecords.
func (s *SQLStore) Reports(ctx context.Context, after Cursor, limit int) ([]Report, error) {
	return s.reportPage(ctx, "reports", "", nil, after, limit)
}

// ReportsBy implements ReportRecords.
func (s *SQLStore) ReportsBy(ctx context.Context, user UserID, after Cursor, limit int) ([]Report, error) {
	return s.reportPage(ctx, "reports by", "WHERE reporter_id = $1 ", []any{string(user)}, after, limit)
}
