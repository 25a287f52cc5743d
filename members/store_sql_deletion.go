package members

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/parley-audio/parley/rooms"
)

var _ DeletionStore = (*SQLStore)(nil)

// MarkDeleted implements DeletionStore.
func (s *SQLStore) MarkDeleted(ctx context.Context, id rooms.UserID, now time.Time) (Deletion, []SessionID, error) {
	var d Deletion
	var ids []SessionID
	err := s.inTx(ctx, "mark deleted", func(tx *sql.Tx) error {
		// COALESCE keeps the first deletion time: marking again (a retry)
		// must not move it, or the settle time would never pass.
		var at int64
		err := tx.QueryRowContext(ctx, `UPDATE accounts
			SET status = 'deleted', password_hash = '', deleted_at = COALESCE(deleted_at, $1)
			WHERE id = $2 RETURNING deleted_at`, millis(now), string(id)).Scan(&at)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("delete %s: %w", id, ErrAccountNotFound)
		}
		if err != nil {
			return failed("mark deleted", err)
		}
		d = Deletion{ID: id, At: fromMillis(at)}
		ids, err = collect(ctx, tx, "revoke sessions", func(sc scanner) (SessionID, error) {
			var sid SessionID
			return sid, sc.Scan(&sid)
		}, `UPDATE auth_sessions SET revoked_at = $1 WHERE account_id = $2 AND revoked_at IS NULL RETURNING id`,
			millis(now), string(id))
		return err
	}, nil)
	if err != nil {
		return Deletion{}, nil, err
	}
	return d, ids, nil
}

// DeletedSince implements DeletionStore.
func (s *SQLStore) DeletedSince(ctx context.Context, since time.Time) ([]Deletion, error) {
	return collect(ctx, s.db.R, "deleted accounts", scanDeletion,
		`SELECT id, deleted_at FROM accounts WHERE deleted_at IS NOT NULL AND deleted_at >= $1`, millis(since))
}

// PendingErasures implements DeletionStore.
func (s *SQLStore) PendingErasures(ctx context.Context, deletedBefore time.Time, after Cursor, limit int) ([]Deletion, error) {
	if limit < 1 {
		return nil, fmt.Errorf("pending erasures: limit %d: %w", limit, ErrInvalid)
	}
	q := `SELECT id, deleted_at FROM accounts WHERE deleted_at IS NOT NULL AND erased_at IS NULL AND deleted_at <= $1 `
	args := []any{millis(deletedBefore), limit}
	if !after.IsZero() {
		q += `AND (deleted_at, id) > ($3, $4) `
		args = append(args, millis(after.At), after.ID)
	}
	return collect(ctx, s.db.R, "pending erasures", scanDeletion, q+`ORDER BY deleted_at, id LIMIT $2`, args...)
}

// MarkErased implements DeletionStore.
func (s *SQLStore) MarkErased(ctx context.Context, id rooms.UserID, at time.Time) error {
	_, err := s.db.W.ExecContext(ctx, `UPDATE accounts SET erased_at = $1 WHERE id = $2 AND deleted_at IS NOT NULL`,
		millis(at), string(id))
	if err != nil {
		return failed("mark erased", err)
	}
	return nil
}

// Deletion implements DeletionStore.
func (s *SQLStore) Deletion(ctx context.Context, id rooms.UserID) (Deletion, bool, error) {
	var deleted, erased sql.NullInt64
	err := s.db.R.QueryRowContext(ctx, `SELECT deleted_at, erased_at FROM accounts WHERE id = $1`, string(id)).Scan(&deleted, &erased)
	if errors.Is(err, sql.ErrNoRows) {
		return Deletion{}, false, fmt.Errorf("account %s: %w", id, ErrAccountNotFound)
	}
	if err != nil {
		return Deletion{}, false, failed("select deletion", err)
	}
	if !deleted.Valid {
		return Deletion{}, false, nil
	}
	return Deletion{ID: id, At: fromMillis(deleted.Int64), ErasedAt: fromNullMillis(erased)}, true, nil
}

func scanDeletion(sc scanner) (Deletion, error) {
	var d Deletion
	var at int64
	err := sc.Scan(&d.ID, &at)
	d.At = fromMillis(at)
	return d, err
}

// tombstoneUsername is what a deleted account's username becomes: its ID
// behind a '-', which no username may hold (they are [a-z0-9_]), so that
// it is unique, frees the username it had, and can never be signed in
// with or taken by anyone.
func tombstoneUsername(id rooms.UserID) string { return "-" + string(id) }

// Erasers are the members store's parts of an account deletion: the
// account reduced to a tombstone, its follows and blocks, its invites and
// its sign-in sessions. Each is idempotent. See docs/api.md, "Deleting
// your account", for what is kept and why.
func (s *SQLStore) Erasers() []Eraser {
	return []Eraser{
		{
			Name: "members: account and profile", Erase: s.eraseAccount,
			Columns: []MemberColumn{
				{Table: "accounts", Column: "id", Fate: Kept, Why: "the tombstone: rooms, invites and the moderation log name the member by this ID; every other column is scrubbed"},
				{Table: "accounts", Column: "username", Fate: Kept, Why: "becomes '-' and the ID, which no username can be: the username itself is freed"},
				{Table: "accounts", Column: "invited_by", Fate: Kept, Why: "cleared on the deleted account; another member's, naming the deleted member as who invited them, is that member's history"},
				{Table: "instance_bootstrap", Column: "account_id", Fate: Kept, Why: "which ID was the instance's first account; an ID and nothing else"},
			},
		},
		{
			Name: "members: follows and blocks", Erase: s.eraseEdges,
			Columns: []MemberColumn{
				{Table: "follows", Column: "follower", Fate: Erased},
				{Table: "follows", Column: "followee", Fate: Erased},
				{Table: "blocks", Column: "blocker", Fate: Erased},
				{Table: "blocks", Column: "blocked", Fate: Erased},
			},
		},
		{
			Name: "members: invites", Erase: s.eraseInvites,
			Columns: []MemberColumn{
				{Table: "invites", Column: "created_by", Fate: Kept, Why: "unused invites are revoked; used ones are the other member's way in and stay, naming the inviter by ID"},
				{Table: "invites", Column: "used_by", Fate: Kept, Why: "the inviter's record of whom they let in, naming the deleted member by ID"},
			},
		},
		{
			Name: "members: sessions", Erase: s.eraseSessions,
			Columns: []MemberColumn{
				{Table: "auth_sessions", Column: "account_id", Fate: Kept, Why: "revoked, so that every server refuses their tokens; no address or device is kept; refresh tokens are deleted"},
			},
		},
	}
}

// eraseAccount scrubs the account to its tombstone: no username (one
// nobody can hold), no name, headline, bio, avatar, password, admin flag
// or inviter. Only the ID, the status and the times remain.
func (s *SQLStore) eraseAccount(ctx context.Context, id rooms.UserID, _ time.Time) error {
	_, err := s.db.W.ExecContext(ctx, `UPDATE accounts SET username = $1, display_name = '', headline = '', bio = '',
		avatar_url = '', password_hash = '', admin = $2, invited_by = NULL WHERE id = $3 AND status = 'deleted'`,
		tombstoneUsername(id), false, string(id))
	if err != nil {
		return failed("erase account", err)
	}
	return nil
}

// eraseEdges deletes every follow and block of the member, both ways.
func (s *SQLStore) eraseEdges(ctx context.Context, id rooms.UserID, _ time.Time) error {
	return s.inTx(ctx, "erase follows and blocks", func(tx *sql.Tx) error {
		for _, q := range []string{
			`DELETE FROM follows WHERE follower = $1 OR followee = $1`,
			`DELETE FROM blocks WHERE blocker = $1 OR blocked = $1`,
		} {
			if _, err := tx.ExecContext(ctx, q, string(id)); err != nil {
				return failed("erase follows and blocks", err)
			}
		}
		return nil
	}, nil)
}

// eraseInvites revokes the member's unused invites, so that their codes
// stop working and nobody joins on a deleted member's word. Used ones
// stay: they are how someone else got in.
func (s *SQLStore) eraseInvites(ctx context.Context, id rooms.UserID, now time.Time) error {
	_, err := s.db.W.ExecContext(ctx, `UPDATE invites SET revoked_at = $1
		WHERE created_by = $2 AND used_by IS NULL AND revoked_at IS NULL`, millis(now), string(id))
	if err != nil {
		return failed("erase invites", err)
	}
	return nil
}

// eraseSessions deletes the refresh tokens of the member's sessions (their
// hashes); the sessions themselves stay, revoked (MarkDeleted revoked
// them), for the revocation cache of every server.
func (s *SQLStore) eraseSessions(ctx context.Context, id rooms.UserID, _ time.Time) error {
	_, err := s.db.W.ExecContext(ctx, `DELETE FROM refresh_tokens
		WHERE session_id IN (SELECT id FROM auth_sessions WHERE account_id = $1)`, string(id))
	if err != nil {
		return failed("erase sessions", err)
	}
	return nil
}
