package members

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/parley-audio/parley/rooms"
)

const sessionColumns = `s.id, s.account_id, s.created_at, s.expires_at, s.revoked_at`

func scanSession(sc scanner) (Session, error) {
	var s Session
	var created, expires int64
	var revoked sql.NullInt64
	if err := sc.Scan(&s.ID, &s.AccountID, &created, &expires, &revoked); err != nil {
		return Session{}, err
	}
	s.CreatedAt, s.ExpiresAt, s.RevokedAt = fromMillis(created), fromMillis(expires), fromNullMillis(revoked)
	return s, nil
}

// CreateSession implements SessionStore.
func (s *SQLStore) CreateSession(ctx context.Context, sess Session, refreshHash string) error {
	return s.inTx(ctx, "create session", func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO auth_sessions (id, account_id, created_at, expires_at)
			VALUES ($1, $2, $3, $4)`, string(sess.ID), string(sess.AccountID), millis(sess.CreatedAt), millis(sess.ExpiresAt)); err != nil {
			return failed("insert session", err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO refresh_tokens (token_hash, session_id, created_at)
			VALUES ($1, $2, $3)`, refreshHash, string(sess.ID), millis(sess.CreatedAt)); err != nil {
			return failed("insert refresh token", err)
		}
		return nil
	}, nil)
}

// RotateRefresh implements SessionStore.
func (s *SQLStore) RotateRefresh(ctx context.Context, oldHash, newHash string, now, expires time.Time) (Session, error) {
	var sess Session
	err := s.inTx(ctx, "rotate refresh token", func(tx *sql.Tx) error {
		var used sql.NullInt64
		row := tx.QueryRowContext(ctx, `SELECT `+sessionColumns+`, t.used_at
			FROM refresh_tokens t JOIN auth_sessions s ON s.id = t.session_id WHERE t.token_hash = $1`, oldHash)
		var err error
		sess, err = scanSession(scannerFunc(func(dest ...any) error { return row.Scan(append(dest, &used)...) }))
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return ErrRefreshInvalid
		case err != nil:
			return failed("select refresh token", err)
		case !sess.RevokedAt.IsZero():
			return fmt.Errorf("session %s revoked: %w", sess.ID, ErrRefreshInvalid)
		case !now.Before(sess.ExpiresAt):
			return fmt.Errorf("session %s expired: %w", sess.ID, ErrRefreshInvalid)
		case used.Valid:
			return revokeReused(ctx, tx, &sess, now)
		}
		// Conditional, so that of two racing exchanges of one token the
		// second changes nothing and is treated as the reuse it is.
		res, err := tx.ExecContext(ctx, `UPDATE refresh_tokens SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL`,
			millis(now), oldHash)
		if err != nil {
			return failed("use refresh token", err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return failed("use refresh token", err)
		} else if n == 0 {
			return revokeReused(ctx, tx, &sess, now)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO refresh_tokens (token_hash, session_id, created_at) VALUES ($1, $2, $3)`,
			newHash, string(sess.ID), millis(now)); err != nil {
			return failed("insert refresh token", err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE auth_sessions SET expires_at = $1 WHERE id = $2`,
			millis(expires), string(sess.ID)); err != nil {
			return failed("extend session", err)
		}
		sess.ExpiresAt = expires
		return nil
	}, func(err error) bool { return errors.Is(err, ErrRefreshReused) })
	if errors.Is(err, ErrRefreshReused) {
		// The session is returned too, so that the caller can drop its
		// access tokens at once.
		return sess, fmt.Errorf("rotate refresh token: %w", err)
	}
	if err != nil {
		return Session{}, fmt.Errorf("rotate refresh token: %w", err)
	}
	return sess, nil
}

// revokeReused revokes the session of a reused refresh token, inside tx,
// and returns ErrRefreshReused, which the caller commits.
func revokeReused(ctx context.Context, tx *sql.Tx, sess *Session, now time.Time) error {
	if _, err := tx.ExecContext(ctx, `UPDATE auth_sessions SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL`,
		millis(now), string(sess.ID)); err != nil {
		return failed("revoke session", err)
	}
	sess.RevokedAt = now
	return fmt.Errorf("session %s: %w", sess.ID, ErrRefreshReused)
}

// RevokeSession implements SessionStore.
func (s *SQLStore) RevokeSession(ctx context.Context, account rooms.UserID, id SessionID, now time.Time) error {
	return s.inTx(ctx, "revoke session", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE auth_sessions SET revoked_at = $1
			WHERE id = $2 AND account_id = $3 AND revoked_at IS NULL`, millis(now), string(id), string(account))
		if err != nil {
			return failed("revoke session", err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return failed("revoke session", err)
		} else if n == 1 {
			return nil
		}
		var exists bool
		if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM auth_sessions WHERE id = $1 AND account_id = $2)`,
			string(id), string(account)).Scan(&exists); err != nil {
			return failed("select session", err)
		}
		if !exists {
			return fmt.Errorf("session %s of %s: %w", id, account, ErrSessionNotFound)
		}
		return nil
	}, nil)
}

// RevokeSessions implements SessionStore.
func (s *SQLStore) RevokeSessions(ctx context.Context, account rooms.UserID, now time.Time) ([]SessionID, error) {
	var ids []SessionID
	err := s.inTx(ctx, "revoke sessions", func(tx *sql.Tx) error {
		var err error
		ids, err = collect(ctx, tx, "revoke sessions", func(sc scanner) (SessionID, error) {
			var id SessionID
			return id, sc.Scan(&id)
		}, `UPDATE auth_sessions SET revoked_at = $1 WHERE account_id = $2 AND revoked_at IS NULL RETURNING id`,
			millis(now), string(account))
		return err
	}, nil)
	if err != nil {
		return nil, err
	}
	return ids, nil
}

// RevokedSince implements SessionStore.
func (s *SQLStore) RevokedSince(ctx context.Context, since time.Time) ([]Revocation, error) {
	return collect(ctx, s.db.R, "revoked sessions", func(sc scanner) (Revocation, error) {
		var r Revocation
		var at int64
		err := sc.Scan(&r.ID, &at)
		r.At = fromMillis(at)
		return r, err
	}, `SELECT id, revoked_at FROM auth_sessions WHERE revoked_at IS NOT NULL AND revoked_at >= $1`, millis(since))
}
