package members

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/parley-audio/parley/rooms"
)

// PublicRef is another member as the export shows them: only what anyone
// may see.
type PublicRef struct {
	ID          rooms.UserID `json:"id"`
	Username    string       `json:"username,omitempty"`
	DisplayName string       `json:"display_name"`
}

// exportProfile is profile.json.
type exportProfile struct {
	ID          rooms.UserID `json:"id"`
	Username    string       `json:"username"`
	DisplayName string       `json:"display_name"`
	Headline    string       `json:"headline"`
	Bio         string       `json:"bio"`
	AvatarURL   string       `json:"avatar_url"`
	Admin       bool         `json:"admin"`
	Status      Status       `json:"status"`
	InvitedBy   *PublicRef   `json:"invited_by"`
	CreatedAt   time.Time    `json:"created_at"`
}

// exportInvite is one item of invites.json.
type exportInvite struct {
	ID        InviteID   `json:"id"`
	CreatedAt time.Time  `json:"created_at"`
	ExpiresAt time.Time  `json:"expires_at"`
	State     string     `json:"state"`
	Direct    bool       `json:"let_in_from_waitlist"`
	UsedBy    *PublicRef `json:"used_by"`
	UsedAt    *time.Time `json:"used_at"`
	RevokedAt *time.Time `json:"revoked_at"`
}

// ExportSections are the members store's files of a data export: the
// profile and the invitations the member gave.
func (s *SQLStore) ExportSections() []Section {
	return []Section{
		{File: "profile.json", Single: true, About: "your account and profile, and who invited you", Items: s.exportProfile},
		{File: "invites.json", About: "the invitations you gave, oldest first, and who joined with each", Items: s.exportInvites},
	}
}

// publicRef reads a member's public face inside a query's row: a deleted
// account keeps only its ID and DeletedName.
func publicRef(id, username, name, status sql.NullString) *PublicRef {
	if !id.Valid {
		return nil
	}
	if Status(status.String) == StatusDeleted {
		return &PublicRef{ID: rooms.UserID(id.String), DisplayName: DeletedName}
	}
	return &PublicRef{ID: rooms.UserID(id.String), Username: username.String, DisplayName: name.String}
}

func (s *SQLStore) exportProfile(ctx context.Context, user rooms.UserID, emit Emit) error {
	a, err := s.Account(ctx, user)
	if err != nil {
		return err
	}
	p := exportProfile{
		ID: a.ID, Username: a.Username, DisplayName: a.DisplayName, Headline: a.Headline, Bio: a.Bio,
		AvatarURL: a.AvatarURL, Admin: a.Admin, Status: a.Status, CreatedAt: a.CreatedAt,
	}
	if a.InvitedBy != "" {
		var id, username, name, status sql.NullString
		err := s.db.R.QueryRowContext(ctx, `SELECT id, username, display_name, status FROM accounts WHERE id = $1`,
			string(a.InvitedBy)).Scan(&id, &username, &name, &status)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return failed("select inviter", err)
		}
		p.InvitedBy = publicRef(id, username, name, status)
	}
	return emit(p)
}

func (s *SQLStore) exportInvites(ctx context.Context, user rooms.UserID, emit Emit) error {
	return s.each(ctx, "export invites", `SELECT i.id, i.code_hash IS NULL, i.created_at, i.expires_at, i.used_at, i.revoked_at,
			u.id, u.username, u.display_name, u.status
		FROM invites i LEFT JOIN accounts u ON u.id = i.used_by
		WHERE i.created_by = $1 ORDER BY i.created_at, i.id`, []any{string(user)}, func(sc scanner) error {
		var inv Invite
		var created, expires int64
		var used, revoked sql.NullInt64
		var id, username, name, status sql.NullString
		if err := sc.Scan(&inv.ID, &inv.Direct, &created, &expires, &used, &revoked, &id, &username, &name, &status); err != nil {
			return err
		}
		inv.CreatedAt, inv.ExpiresAt = fromMillis(created), fromMillis(expires)
		inv.UsedBy, inv.UsedAt, inv.RevokedAt = rooms.UserID(id.String), fromNullMillis(used), fromNullMillis(revoked)
		return emit(exportInvite{
			ID: inv.ID, CreatedAt: inv.CreatedAt, ExpiresAt: inv.ExpiresAt, State: string(inv.State(time.Now())),
			Direct: inv.Direct, UsedBy: publicRef(id, username, name, status),
			UsedAt: optTime(inv.UsedAt), RevokedAt: optTime(inv.RevokedAt),
		})
	})
}

// each runs a read query and calls fn on every row as it arrives, so that
// a long result is never held in memory whole.
func (s *SQLStore) each(ctx context.Context, op, query string, args []any, fn func(scanner) error) error {
	rows, err := s.db.R.QueryContext(ctx, query, args...)
	if err != nil {
		return failed(op, err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return fmt.Errorf("%s: %w", op, err)
		}
	}
	if err := rows.Err(); err != nil {
		return failed(op, err)
	}
	return nil
}

func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}
