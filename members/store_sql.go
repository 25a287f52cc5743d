package members

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"time"

	"github.com/parley-audio/parley/internal/sqldb"
	"github.com/parley-audio/parley/rooms"
)

// SQLStore is the Store on a SQL database: SQLite (the embedded default)
// or Postgres. Every query is written once, with $n placeholders, which
// both accept. Its zero value is not usable; call NewSQLStore or
// OpenSQLite.
type SQLStore struct {
	db sqldb.StoreDB
}

var (
	_ Store               = (*SQLStore)(nil)
	_ rooms.MemberRecords = (*SQLStore)(nil)
)

//go:embed migrations/sqlite/*.sql migrations/postgres/*.sql
var migrationFS embed.FS

// Migrations is the schema history of members' tables, recorded in their
// own table so that they share a Postgres database with rooms'.
var Migrations = sqldb.Migrations{FS: migrationFS, Dir: "migrations", Table: "members_schema_migrations"}

// NewSQLStore brings db's members schema up to date and returns the store
// on it. The caller keeps db and closes it after the store is done.
func NewSQLStore(ctx context.Context, db *sqldb.DB) (*SQLStore, error) {
	sdb, err := sqldb.Migrated(ctx, db, Migrations)
	if err != nil {
		return nil, fmt.Errorf("members schema: %w", err)
	}
	return &SQLStore{db: sdb}, nil
}

// OpenSQLite opens, or creates, an SQLite database of its own at path and
// returns the store on it; Close closes the database.
func OpenSQLite(ctx context.Context, path string) (*SQLStore, error) {
	sdb, err := sqldb.OpenSQLiteStore(ctx, path, Migrations)
	if err != nil {
		return nil, fmt.Errorf("members store: %w", err)
	}
	return &SQLStore{db: sdb}, nil
}

// Close closes the database if the store opened it. It is safe to call
// more than once.
func (s *SQLStore) Close() error { return s.db.Close() }

// Ping reports whether the database answers.
func (s *SQLStore) Ping(ctx context.Context) error {
	if err := s.db.Ping(ctx); err != nil {
		return failed("ping", err)
	}
	return nil
}

// inTx runs fn in a write transaction, committing when it returns nil or
// keepErr(err) is true: a refusal whose side effect must still be kept
// (a reused refresh token revokes its session). keepErr may be nil.
func (s *SQLStore) inTx(ctx context.Context, op string, fn func(tx *sql.Tx) error, keepErr func(error) bool) error {
	return s.db.InTx(ctx, fn, keepErr, func(err error) error { return failed(op, err) })
}

// failed wraps a database failure as ErrUnavailable (the API's 503); a
// cancelled or expired context stays what it is.
func failed(op string, err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("members store: %s: %w", op, err)
	}
	return fmt.Errorf("members store: %s: %w: %w", op, ErrUnavailable, err)
}

func millis(t time.Time) int64 { return t.UnixMilli() }

func nullMillis(t time.Time) sql.NullInt64 {
	if t.IsZero() {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.UnixMilli(), Valid: true}
}

func fromMillis(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

func fromNullMillis(n sql.NullInt64) time.Time {
	if !n.Valid {
		return time.Time{}
	}
	return fromMillis(n.Int64)
}

func nullString[T ~string](s T) sql.NullString {
	return sql.NullString{String: string(s), Valid: s != ""}
}

// scanner is a *sql.Row or *sql.Rows.
type scanner = sqldb.Scanner

type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// collect reads every row of a query with scan.
func collect[T any](ctx context.Context, q querier, op string, scan func(scanner) (T, error), query string, args ...any) ([]T, error) {
	return sqldb.Collect(ctx, q, func(err error) error { return failed(op, err) }, scan, query, args...)
}

// accountColumns are the columns scanAccount reads, in order.
const accountColumns = `id, username, display_name, headline, bio, avatar_url, admin, status, invited_by, created_at`

func scanAccount(sc scanner) (Account, error) {
	var a Account
	var invitedBy sql.NullString
	var created int64
	err := sc.Scan(&a.ID, &a.Username, &a.DisplayName, &a.Headline, &a.Bio, &a.AvatarURL,
		&a.Admin, &a.Status, &invitedBy, &created)
	a.InvitedBy = rooms.UserID(invitedBy.String)
	a.CreatedAt = fromMillis(created)
	return a, err
}

func selectAccount(ctx context.Context, q querier, where string, arg any) (Account, error) {
	a, err := scanAccount(q.QueryRowContext(ctx, `SELECT `+accountColumns+` FROM accounts WHERE `+where, arg))
	if errors.Is(err, sql.ErrNoRows) {
		return Account{}, ErrAccountNotFound
	}
	if err != nil {
		return Account{}, failed("select account", err)
	}
	return a, nil
}

// CreateAccount implements AccountStore.
func (s *SQLStore) CreateAccount(ctx context.Context, n NewAccount) (Account, error) {
	a := n.Account
	err := s.inTx(ctx, "create account", func(tx *sql.Tx) error {
		a.InvitedBy = ""
		switch n.Mode {
		case JoinWaitlist:
			a.Status, a.Admin = StatusWaitlisted, false
		case JoinInvite:
			a.Status, a.Admin = StatusActive, false
		case JoinDirect:
			a.Status = StatusActive
		default:
			return fmt.Errorf("create account: mode %d: %w", n.Mode, ErrInvalid)
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO accounts
			(id, username, display_name, headline, bio, avatar_url, admin, status, password_hash, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
			string(a.ID), a.Username, a.DisplayName, a.Headline, a.Bio, a.AvatarURL, a.Admin, string(a.Status),
			n.PasswordHash, millis(a.CreatedAt))
		if s.db.IsUnique(err) {
			// IDs are 128 random bits; the username is the one unique
			// column that can collide.
			return fmt.Errorf("create account %q: %w", a.Username, ErrUsernameTaken)
		}
		if err != nil {
			return failed("insert account", err)
		}
		// ON CONFLICT DO NOTHING: of two racing first sign-ups, the second
		// waits for the first's row and then inserts nothing.
		res, err := tx.ExecContext(ctx, `INSERT INTO instance_bootstrap (id, account_id, claimed_at)
			VALUES (1, $1, $2) ON CONFLICT DO NOTHING`, string(a.ID), millis(a.CreatedAt))
		if err != nil {
			return failed("claim first account", err)
		}
		if first, err := res.RowsAffected(); err != nil {
			return failed("claim first account", err)
		} else if first == 1 {
			a.Status, a.Admin = StatusActive, true
			_, err := tx.ExecContext(ctx, `UPDATE accounts SET status = $1, admin = $2 WHERE id = $3`,
				string(a.Status), a.Admin, string(a.ID))
			if err != nil {
				return failed("make first account admin", err)
			}
			return nil
		}
		if n.Mode != JoinInvite {
			return nil
		}
		inviter, err := useInvite(ctx, tx, n.InviteHash, a.ID, a.CreatedAt)
		if err != nil {
			return err
		}
		a.InvitedBy = inviter
		if _, err := tx.ExecContext(ctx, `UPDATE accounts SET invited_by = $1 WHERE id = $2`,
			string(inviter), string(a.ID)); err != nil {
			return failed("record inviter", err)
		}
		return nil
	}, nil)
	if err != nil {
		return Account{}, err
	}
	return a, nil
}

// Account implements AccountStore.
func (s *SQLStore) Account(ctx context.Context, id rooms.UserID) (Account, error) {
	a, err := selectAccount(ctx, s.db.R, `id = $1`, string(id))
	if err != nil {
		return Account{}, fmt.Errorf("account %s: %w", id, err)
	}
	return a, nil
}

// Credentials implements AccountStore.
func (s *SQLStore) Credentials(ctx context.Context, username string) (Account, string, error) {
	var hash string
	row := s.db.R.QueryRowContext(ctx, `SELECT `+accountColumns+`, password_hash FROM accounts WHERE username = $1`, username)
	a, err := scanAccount(scannerFunc(func(dest ...any) error { return row.Scan(append(dest, &hash)...) }))
	if errors.Is(err, sql.ErrNoRows) {
		return Account{}, "", ErrAccountNotFound
	}
	if err != nil {
		return Account{}, "", failed("select credentials", err)
	}
	return a, hash, nil
}

type scannerFunc func(dest ...any) error

func (f scannerFunc) Scan(dest ...any) error { return f(dest...) }

// Waitlist implements AccountStore. The row-value comparison seeks
// straight to the cursor along accounts_waitlist.
func (s *SQLStore) Waitlist(ctx context.Context, after Cursor, limit int) ([]Account, error) {
	if limit < 1 {
		return nil, fmt.Errorf("waitlist: limit %d: %w", limit, ErrInvalid)
	}
	q := `SELECT ` + accountColumns + ` FROM accounts WHERE status = 'waitlisted' `
	args := []any{limit}
	if !after.IsZero() {
		q += `AND (created_at, id) > ($2, $3) `
		args = append(args, millis(after.At), after.ID)
	}
	q += `ORDER BY created_at, id LIMIT $1`
	return collect(ctx, s.db.R, "waitlist", scanAccount, q, args...)
}

// Approve implements AccountStore.
func (s *SQLStore) Approve(ctx context.Context, id rooms.UserID) (Account, error) {
	var a Account
	err := s.inTx(ctx, "approve", func(tx *sql.Tx) error {
		var err error
		a, err = activate(ctx, tx, `id = $1`, string(id))
		return err
	}, nil)
	if err != nil {
		return Account{}, fmt.Errorf("approve %s: %w", id, err)
	}
	return a, nil
}

// activate makes the waitlisted account found by where active, inside tx.
func activate(ctx context.Context, tx *sql.Tx, where string, arg any) (Account, error) {
	a, err := scanAccount(tx.QueryRowContext(ctx,
		`UPDATE accounts SET status = 'active' WHERE status = 'waitlisted' AND `+where+` RETURNING `+accountColumns, arg))
	if err == nil {
		return a, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return Account{}, failed("activate account", err)
	}
	// Nothing changed: tell a missing account from one not waitlisted.
	if _, err := selectAccount(ctx, tx, where, arg); err != nil {
		return Account{}, err
	}
	return Account{}, ErrNotWaitlisted
}

// SchemaVersion returns the newest migration applied to the members schema.
func (s *SQLStore) SchemaVersion(ctx context.Context) (int, error) {
	return s.db.Version(ctx, Migrations.Table)
}
