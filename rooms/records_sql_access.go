package rooms

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/parley-audio/parley/internal/sqldb"
)

var _ AccessRecords = (*SQLStore)(nil)

// visibilityOrOpen is what a room created without a visibility has.
func visibilityOrOpen(v Visibility) Visibility {
	if v == "" {
		return VisibilityOpen
	}
	return v
}

// SetVisibility implements AccessRecords.
func (s *SQLStore) SetVisibility(ctx context.Context, id RoomID, v Visibility) error {
	if !v.Valid() {
		return fmt.Errorf("set visibility of %s to %q: %w", id, v, ErrInvalid)
	}
	res, err := s.db.W.ExecContext(ctx, `UPDATE rooms SET visibility = $1 WHERE id = $2`, string(v), string(id))
	if err != nil {
		return failed(fmt.Sprintf("set visibility of %s", id), err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return failed(fmt.Sprintf("set visibility of %s", id), err)
	}
	if n == 0 {
		return fmt.Errorf("set visibility of %s: %w", id, ErrRoomNotFound)
	}
	return nil
}

// AddInvitee implements AccessRecords. The room is checked in the same
// statement, so that an invitation never outlives a missing room.
func (s *SQLStore) AddInvitee(ctx context.Context, inv Invitee) error {
	res, err := s.db.W.ExecContext(ctx, `INSERT INTO room_invitees (room_id, member_id, invited_by, created_at)
		SELECT id, $2, $3, $4 FROM rooms WHERE id = $1
		ON CONFLICT DO NOTHING`,
		string(inv.Room), string(inv.Member), string(inv.InvitedBy), toMillis(inv.At))
	if err != nil {
		return failed(fmt.Sprintf("invite %s to %s", inv.Member, inv.Room), err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return failed(fmt.Sprintf("invite %s to %s", inv.Member, inv.Room), err)
	} else if n == 1 {
		return nil
	}
	// Nothing inserted: invited already, or no such room.
	if _, err := selectRoom(ctx, s.db.W, inv.Room); err != nil {
		return fmt.Errorf("invite to room: %w", err)
	}
	return nil
}

// RemoveInvitee implements AccessRecords.
func (s *SQLStore) RemoveInvitee(ctx context.Context, room RoomID, member UserID) error {
	if _, err := s.db.W.ExecContext(ctx, `DELETE FROM room_invitees WHERE room_id = $1 AND member_id = $2`,
		string(room), string(member)); err != nil {
		return failed(fmt.Sprintf("uninvite %s from %s", member, room), err)
	}
	return nil
}

// IsInvitee implements AccessRecords.
func (s *SQLStore) IsInvitee(ctx context.Context, room RoomID, member UserID) (bool, error) {
	var one int
	err := s.db.R.QueryRowContext(ctx, `SELECT 1 FROM room_invitees WHERE room_id = $1 AND member_id = $2`,
		string(room), string(member)).Scan(&one)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return false, nil
	case err != nil:
		return false, failed(fmt.Sprintf("is %s invited to %s", member, room), err)
	}
	return true, nil
}

// inviteeList names the two lists: by room (the member is the other end)
// and by member (the room is).
type inviteeList struct{ op, mine, other string }

var (
	inviteesOfRoom   = inviteeList{"invitees", "room_id", "member_id"}
	invitationsOfOne = inviteeList{"invitations", "member_id", "room_id"}
)

func (s *SQLStore) invitees(ctx context.Context, l inviteeList, key string, after InviteeCursor, limit int) ([]Invitee, error) {
	if limit < 1 {
		return nil, fmt.Errorf("%s: limit %d: %w", l.op, limit, ErrInvalid)
	}
	q := `SELECT room_id, member_id, invited_by, created_at FROM room_invitees WHERE ` + l.mine + ` = $1 `
	args := []any{key, limit}
	if !after.At.IsZero() || after.ID != "" {
		q += `AND (created_at, ` + l.other + `) < ($3, $4) `
		args = append(args, toMillis(after.At), after.ID)
	}
	q += `ORDER BY created_at DESC, ` + l.other + ` DESC LIMIT $2`
	return collect(ctx, s.db.R, l.op, scanInvitee, q, args...)
}

func scanInvitee(sc sqldb.Scanner) (Invitee, error) {
	var inv Invitee
	var at int64
	err := sc.Scan(&inv.Room, &inv.Member, &inv.InvitedBy, &at)
	inv.At = fromMillis(at)
	return inv, err
}

// Invitees implements AccessRecords.
func (s *SQLStore) Invitees(ctx context.Context, room RoomID, after InviteeCursor, limit int) ([]Invitee, error) {
	return s.invitees(ctx, inviteesOfRoom, string(room), after, limit)
}

// RemoveInvitationsOf implements AccessRecords.
func (s *SQLStore) RemoveInvitationsOf(ctx context.Context, member UserID) error {
	if _, err := s.db.W.ExecContext(ctx, `DELETE FROM room_invitees WHERE member_id = $1`, string(member)); err != nil {
		return failed(fmt.Sprintf("withdraw the invitations of %s", member), err)
	}
	return nil
}

// InvitationsOf implements AccessRecords.
func (s *SQLStore) InvitationsOf(ctx context.Context, member UserID, after InviteeCursor, limit int) ([]Invitee, error) {
	return s.invitees(ctx, invitationsOfOne, string(member), after, limit)
}
