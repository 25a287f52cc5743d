package members

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/parley-audio/parley/rooms"
)

const inviteColumns = `id, code_hash IS NULL, created_by, created_at, expires_at, used_by, used_at, revoked_at`

func scanInvite(sc scanner) (Invite, error) {
	var i Invite
	var usedBy sql.NullString
	var created, expires int64
	var used, revoked sql.NullInt64
	if err := sc.Scan(&i.ID, &i.Direct, &i.CreatedBy, &created, &expires, &usedBy, &used, &revoked); err != nil {
		return Invite{}, err
	}
	i.CreatedAt, i.ExpiresAt = fromMillis(created), fromMillis(expires)
	i.UsedBy, i.UsedAt, i.RevokedAt = rooms.UserID(usedBy.String), fromNullMillis(used), fromNullMillis(revoked)
	return i, nil
}

// quotaCount counts the invites that hold a place in creator's quota at
// now: used ones, and unused ones neither revoked nor expired. It must
// agree with Invite.countsAgainstQuota.
const quotaCount = `SELECT count(*) FROM invites WHERE created_by = $1
	AND (used_by IS NOT NULL OR (revoked_at IS NULL AND expires_at > $2))`

// lockQuota serializes everyone spending creator's quota. The no-op UPDATE
// takes the account row's lock in Postgres, so that a concurrent spender
// counts after this transaction commits (under READ COMMITTED each
// statement sees what committed before it); SQLite has one writer anyway.
// It returns ErrForbidden for a creator who is not an active account.
func lockQuota(ctx context.Context, tx *sql.Tx, creator rooms.UserID, quota int, now time.Time) error {
	res, err := tx.ExecContext(ctx, `UPDATE accounts SET id = id WHERE id = $1 AND status = 'active'`, string(creator))
	if err != nil {
		return failed("lock quota", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return failed("lock quota", err)
	} else if n == 0 {
		return fmt.Errorf("invite quota of %s: not an active account: %w", creator, ErrForbidden)
	}
	var used int
	if err := tx.QueryRowContext(ctx, quotaCount, string(creator), millis(now)).Scan(&used); err != nil {
		return failed("count quota", err)
	}
	if used >= quota {
		return fmt.Errorf("%s has used %d of %d invites: %w", creator, used, quota, ErrQuotaExhausted)
	}
	return nil
}

// CreateInvite implements InviteStore.
func (s *SQLStore) CreateInvite(ctx context.Context, inv Invite, codeHash string, quota int) error {
	return s.inTx(ctx, "create invite", func(tx *sql.Tx) error {
		if err := lockQuota(ctx, tx, inv.CreatedBy, quota, inv.CreatedAt); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO invites (id, code_hash, created_by, created_at, expires_at)
			VALUES ($1, $2, $3, $4, $5)`,
			string(inv.ID), codeHash, string(inv.CreatedBy), millis(inv.CreatedAt), millis(inv.ExpiresAt))
		if err != nil {
			return failed("insert invite", err)
		}
		return nil
	}, nil)
}

// Invites implements InviteStore.
func (s *SQLStore) Invites(ctx context.Context, creator rooms.UserID, after Cursor, limit int) ([]Invite, error) {
	if limit < 1 {
		return nil, fmt.Errorf("invites: limit %d: %w", limit, ErrInvalid)
	}
	q := `SELECT ` + inviteColumns + ` FROM invites WHERE created_by = $1 `
	args := []any{string(creator), limit}
	if !after.IsZero() {
		q += `AND (created_at, id) < ($3, $4) `
		args = append(args, millis(after.At), after.ID)
	}
	q += `ORDER BY created_at DESC, id DESC LIMIT $2`
	return collect(ctx, s.db.R, "invites", scanInvite, q, args...)
}

// QuotaUsed implements InviteStore.
func (s *SQLStore) QuotaUsed(ctx context.Context, creator rooms.UserID, now time.Time) (int, error) {
	var n int
	if err := s.db.R.QueryRowContext(ctx, quotaCount, string(creator), millis(now)).Scan(&n); err != nil {
		return 0, failed("count quota", err)
	}
	return n, nil
}

// RevokeInvite implements InviteStore.
func (s *SQLStore) RevokeInvite(ctx context.Context, creator rooms.UserID, id InviteID, now time.Time) (Invite, error) {
	var inv Invite
	err := s.inTx(ctx, "revoke invite", func(tx *sql.Tx) error {
		var err error
		inv, err = scanInvite(tx.QueryRowContext(ctx, `UPDATE invites SET revoked_at = $1
			WHERE id = $2 AND created_by = $3 AND used_by IS NULL AND revoked_at IS NULL
			RETURNING `+inviteColumns, millis(now), string(id), string(creator)))
		if !errors.Is(err, sql.ErrNoRows) {
			if err != nil {
				return failed("revoke invite", err)
			}
			return nil
		}
		inv, err = scanInvite(tx.QueryRowContext(ctx, `SELECT `+inviteColumns+` FROM invites
			WHERE id = $1 AND created_by = $2`, string(id), string(creator)))
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return ErrInviteNotFound
		case err != nil:
			return failed("select invite", err)
		case inv.UsedBy != "":
			return ErrInviteUsed
		}
		return nil // already revoked
	}, nil)
	if err != nil {
		return Invite{}, fmt.Errorf("revoke invite %s: %w", id, err)
	}
	return inv, nil
}

// useInvite marks the invite with codeHash used by account at now, inside
// tx, and returns its creator. The conditional UPDATE is the atomic step:
// of two sign-ups with one code, the second finds used_by set (Postgres
// re-checks the WHERE once the first commits) and changes nothing.
func useInvite(ctx context.Context, tx *sql.Tx, codeHash string, account rooms.UserID, now time.Time) (rooms.UserID, error) {
	var creator rooms.UserID
	err := tx.QueryRowContext(ctx, `UPDATE invites SET used_by = $1, used_at = $2
		WHERE code_hash = $3 AND used_by IS NULL AND revoked_at IS NULL AND expires_at > $2
		RETURNING created_by`, string(account), millis(now), codeHash).Scan(&creator)
	if err == nil {
		return creator, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return "", failed("use invite", err)
	}
	inv, err := scanInvite(tx.QueryRowContext(ctx, `SELECT `+inviteColumns+` FROM invites WHERE code_hash = $1`, codeHash))
	if errors.Is(err, sql.ErrNoRows) {
		return "", ErrInviteInvalid
	}
	if err != nil {
		return "", failed("select invite", err)
	}
	switch inv.State(now) {
	case InviteUsed:
		return "", ErrInviteUsed
	case InviteRevoked:
		return "", ErrInviteRevoked
	default:
		return "", ErrInviteExpired
	}
}

// LetIn implements InviteStore.
func (s *SQLStore) LetIn(ctx context.Context, inviter rooms.UserID, username string, id InviteID, quota int, now time.Time) (Account, error) {
	var a Account
	err := s.inTx(ctx, "let in", func(tx *sql.Tx) error {
		if err := lockQuota(ctx, tx, inviter, quota, now); err != nil {
			return err
		}
		var err error
		if a, err = activate(ctx, tx, `username = $1`, username); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE accounts SET invited_by = $1 WHERE id = $2`,
			string(inviter), string(a.ID)); err != nil {
			return failed("record inviter", err)
		}
		a.InvitedBy = inviter
		_, err = tx.ExecContext(ctx, `INSERT INTO invites (id, code_hash, created_by, created_at, expires_at, used_by, used_at)
			VALUES ($1, NULL, $2, $3, $3, $4, $3)`, string(id), string(inviter), millis(now), string(a.ID))
		if err != nil {
			return failed("record invite", err)
		}
		return nil
	}, nil)
	if err != nil {
		return Account{}, fmt.Errorf("let %q in: %w", username, err)
	}
	return a, nil
}
