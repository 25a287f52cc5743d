package rooms

import (
	"context"
	"database/sql"
	"fmt"
)

var _ ModLogRecords = (*SQLStore)(nil)

const modSelect = `SELECT id, room_id, actor_id, target_id, action, detail, created_at FROM moderation_log `

func scanModAction(sc interface{ Scan(...any) error }) (ModAction, error) {
	var a ModAction
	var target sql.NullString
	var at int64
	if err := sc.Scan(&a.ID, &a.Room, &a.Actor, &target, &a.Kind, &a.Detail, &at); err != nil {
		return ModAction{}, err
	}
	a.Target, a.At = UserID(target.String), fromMillis(at)
	return a, nil
}

// RecordModAction implements ModLogRecords.
func (s *SQLStore) RecordModAction(ctx context.Context, a ModAction) error {
	target := sql.NullString{String: string(a.Target), Valid: a.Target != ""}
	if _, err := s.db.W.ExecContext(ctx, `INSERT INTO moderation_log (id, room_id, actor_id, target_id, action, detail, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		string(a.ID), string(a.Room), string(a.Actor), target, string(a.Kind), a.Detail, toMillis(a.At)); err != nil {
		return failed(fmt.Sprintf("log %s in %s", a.Kind, a.Room), err)
	}
	return nil
}

// modPage reads a page of entries where column = value, newest first.
func (s *SQLStore) modPage(ctx context.Context, op, column, value string, after Cursor, limit int) ([]ModAction, error) {
	if err := checkStoreLimit(op, limit); err != nil {
		return nil, err
	}
	where := `WHERE ` + column + ` = $1 `
	query, args := modSelect+where+`ORDER BY created_at DESC, id DESC LIMIT $2`, []any{value, limit}
	if !after.IsZero() {
		query = modSelect + where + `AND (created_at, id) < ($3, $4) ORDER BY created_at DESC, id DESC LIMIT $2`
		args = append(args, toMillis(after.At), after.ID)
	}
	return collect(ctx, s.db.R, op, scanModAction, query, args...)
}

// ModLog implements ModLogRecords.
func (s *SQLStore) ModLog(ctx context.Context, room RoomID, after Cursor, limit int) ([]ModAction, error) {
	return s.modPage(ctx, "moderation log", "room_id", string(room), after, limit)
}

// ModActionsOn implements ModLogRecords.
func (s *SQLStore) ModActionsOn(ctx context.Context, user UserID, after Cursor, limit int) ([]ModAction, error) {
	return s.modPage(ctx, "moderation of member", "target_id", string(user), after, limit)
}
