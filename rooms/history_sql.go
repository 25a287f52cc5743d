package rooms

import (
	"context"
	"database/sql"
	"fmt"
)

var _ HistoryRecords = (*SQLStore)(nil)

// recordPresence keeps the earliest join and the earliest time on stage.
// CASE rather than MIN/LEAST, which the two engines spell differently.
const recordPresence = `INSERT INTO room_participants (room_id, user_id, joined_at, on_stage_at) VALUES ($1, $2, $3, $4)
	ON CONFLICT (room_id, user_id) DO UPDATE SET
	joined_at = CASE WHEN excluded.joined_at < room_participants.joined_at
		THEN excluded.joined_at ELSE room_participants.joined_at END,
	on_stage_at = CASE WHEN excluded.on_stage_at IS NULL THEN room_participants.on_stage_at
		WHEN room_participants.on_stage_at IS NULL OR excluded.on_stage_at < room_participants.on_stage_at
		THEN excluded.on_stage_at ELSE room_participants.on_stage_at END`

// RecordPresence implements HistoryRecords, in one transaction.
func (s *SQLStore) RecordPresence(ctx context.Context, ps []Presence) error {
	if len(ps) == 0 {
		return nil
	}
	return s.db.InTx(ctx, func(tx *sql.Tx) error {
		for _, p := range ps {
			if _, err := tx.ExecContext(ctx, recordPresence, string(p.Room), string(p.User),
				toMillis(p.JoinedAt), nullMillis(p.OnStageAt)); err != nil {
				return failed(fmt.Sprintf("record presence in %s", p.Room), err)
			}
		}
		return nil
	}, nil, func(err error) error { return failed("record presence", err) })
}

// RecordPeaks implements HistoryRecords.
func (s *SQLStore) RecordPeaks(ctx context.Context, peaks map[RoomID]int) error {
	if len(peaks) == 0 {
		return nil
	}
	return s.db.InTx(ctx, func(tx *sql.Tx) error {
		for room, n := range peaks {
			if _, err := tx.ExecContext(ctx, `UPDATE rooms SET peak_listeners = $1 WHERE id = $2 AND peak_listeners < $1`,
				n, string(room)); err != nil {
				return failed(fmt.Sprintf("record peak of %s", room), err)
			}
		}
		return nil
	}, nil, func(err error) error { return failed("record peaks", err) })
}

func scanPresence(sc interface{ Scan(...any) error }) (Presence, error) {
	var p Presence
	var joined int64
	var stage sql.NullInt64
	if err := sc.Scan(&p.Room, &p.User, &joined, &stage); err != nil {
		return Presence{}, err
	}
	p.JoinedAt = fromMillis(joined)
	if stage.Valid {
		p.OnStageAt = fromMillis(stage.Int64)
	}
	return p, nil
}

// RoomHistory implements HistoryRecords.
func (s *SQLStore) RoomHistory(ctx context.Context, room RoomID) (History, error) {
	r, err := selectRoom(ctx, s.db.R, room)
	if err != nil {
		return History{}, err
	}
	h := History{Room: r}
	if err := s.db.R.QueryRowContext(ctx, `SELECT peak_listeners FROM rooms WHERE id = $1`, string(room)).Scan(&h.PeakListeners); err != nil {
		return History{}, failed(fmt.Sprintf("peak of %s", room), err)
	}
	h.Speakers, err = collect(ctx, s.db.R, "speakers", scanPresence,
		`SELECT room_id, user_id, joined_at, on_stage_at FROM room_participants
		WHERE room_id = $1 AND on_stage_at IS NOT NULL ORDER BY on_stage_at, user_id`, string(room))
	return h, err
}

// RoomsHostedBy implements HistoryRecords.
func (s *SQLStore) RoomsHostedBy(ctx context.Context, user UserID, after Cursor, limit int) ([]Room, error) {
	if err := checkStoreLimit("rooms hosted", limit); err != nil {
		return nil, err
	}
	query, args := roomSelect+`WHERE r.created_by = $1 ORDER BY r.created_at DESC, r.id DESC LIMIT $2`, []any{string(user), limit}
	if !after.IsZero() {
		query = roomSelect + `WHERE r.created_by = $1 AND (r.created_at, r.id) < ($3, $4) ORDER BY r.created_at DESC, r.id DESC LIMIT $2`
		args = append(args, toMillis(after.At), after.ID)
	}
	return collect(ctx, s.db.R, "rooms hosted", scanRoom, query, args...)
}

// RoomsJoinedBy implements HistoryRecords.
func (s *SQLStore) RoomsJoinedBy(ctx context.Context, user UserID, after Cursor, limit int) ([]Attendance, error) {
	if err := checkStoreLimit("rooms joined", limit); err != nil {
		return nil, err
	}
	const sel = `SELECT r.id, r.title, r.description, r.created_by, r.created_at, r.ended_at, r.loudest_n, r.cohosts, r.chat_off,
		p.room_id, p.user_id, p.joined_at, p.on_stage_at
		FROM room_participants p JOIN rooms r ON r.id = p.room_id WHERE p.user_id = $1 `
	query, args := sel+`ORDER BY p.joined_at DESC, p.room_id DESC LIMIT $2`, []any{string(user), limit}
	if !after.IsZero() {
		query = sel + `AND (p.joined_at, p.room_id) < ($3, $4) ORDER BY p.joined_at DESC, p.room_id DESC LIMIT $2`
		args = append(args, toMillis(after.At), after.ID)
	}
	return collect(ctx, s.db.R, "rooms joined", func(sc interface{ Scan(...any) error }) (Attendance, error) {
		var a Attendance
		var created, joined int64
		var ended, stage sql.NullInt64
		var cohosts string
		var chatOff int64
		if err := sc.Scan(&a.Room.ID, &a.Room.Title, &a.Room.Description, &a.Room.CreatedBy, &created, &ended, &a.Room.LoudestN, &cohosts, &chatOff,
			&a.Presence.Room, &a.User, &joined, &stage); err != nil {
			return Attendance{}, err
		}
		a.Room.CreatedAt, a.JoinedAt = fromMillis(created), fromMillis(joined)
		if ended.Valid {
			a.Room.EndedAt = fromMillis(ended.Int64)
		}
		if stage.Valid {
			a.OnStageAt = fromMillis(stage.Int64)
		}
		a.Room.Cohosts, a.Room.ChatDisabled = splitIDs(cohosts), chatOff != 0
		return a, nil
	}, query, args...)
}
