package rooms

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// SQLite is the embedded durable store of rooms and members, the default
// when no Postgres is configured. Its zero value is not usable; call
// OpenSQLite.
type SQLite struct {
	// w is the one connection that writes. SQLite admits one writer at a
	// time and answers a second with SQLITE_BUSY; funnelling every write
	// through a single connection makes writers of this process queue in
	// database/sql, where they honour their ctx, instead of failing.
	w *sql.DB
	// r is a pool of query_only connections. In WAL mode readers neither
	// block the writer nor wait for it.
	r *sql.DB
}

var (
	_ RoomRecords   = (*SQLite)(nil)
	_ MemberRecords = (*SQLite)(nil)
)

// sqliteBusyTimeout is how long a connection waits on a lock held by
// another process (a second server on the same file, a backup) before
// SQLITE_BUSY. Within this process the single writer never waits on it.
const sqliteBusyTimeout = 5 * time.Second

//go:embed migrations/*.sql
var sqliteMigrationFS embed.FS

// OpenSQLite opens, or creates, the database at path and brings its schema
// up to date. It creates the parent directory, private to the user, when it
// is missing. Reopening an up-to-date database changes nothing. path is a
// file path; URIs and ":memory:" are refused, since every pooled connection
// would get a database of its own. Close the store when done.
func OpenSQLite(ctx context.Context, path string) (*SQLite, error) {
	if path == "" || path == ":memory:" || strings.HasPrefix(path, "file:") {
		return nil, fmt.Errorf("open sqlite: %q is not a file path", path)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o700); err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	migrations, err := loadMigrations(sqliteMigrationFS)
	if err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}

	w, err := openSQLitePool(ctx, sqliteDSN(abs, false), 1)
	if err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	// The schema must exist before the readers prepare anything against it.
	if err := migrate(ctx, w, migrations); err != nil {
		_ = w.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	r, err := openSQLitePool(ctx, sqliteDSN(abs, true), max(4, runtime.GOMAXPROCS(0)))
	if err != nil {
		_ = w.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	return &SQLite{w: w, r: r}, nil
}

// sqliteDSN builds a file: URI so that any byte in the path ('?', '#', '%')
// is escaped rather than read as the start of the driver's parameters.
func sqliteDSN(abs string, readOnly bool) string {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout("+strconv.FormatInt(sqliteBusyTimeout.Milliseconds(), 10)+")")
	q.Add("_pragma", "foreign_keys(ON)")
	q.Add("_pragma", "synchronous(NORMAL)") // safe with WAL: a crash loses at most the last commits, never integrity
	if readOnly {
		q.Add("_pragma", "query_only(ON)")
	} else {
		// journal_mode is stored in the file; only the writer sets it, so
		// readers never need the exclusive access a change of mode takes.
		q.Add("_pragma", "journal_mode(WAL)")
		// BEGIN IMMEDIATE takes the write lock up front: a deferred
		// transaction that reads first and writes later can fail with
		// SQLITE_BUSY_SNAPSHOT, which busy_timeout does not retry.
		q.Set("_txlock", "immediate")
	}
	p := filepath.ToSlash(abs)
	if !strings.HasPrefix(p, "/") {
		p = "/" + p // a Windows drive letter: file:///C:/...
	}
	return (&url.URL{Scheme: "file", Path: p, RawQuery: q.Encode()}).String()
}

func openSQLitePool(ctx context.Context, dsn string, conns int) (*sql.DB, error) {
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(conns)
	db.SetMaxIdleConns(conns)
	// Connections are cheap to keep and their pragmas are set on open, so
	// there is nothing to gain from recycling them.
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)
	// Ping opens a connection, which applies the pragmas and surfaces a bad
	// path or a locked file now rather than on the first request.
	if err := db.PingContext(ctx); err != nil {
		_ = db.Close()
		return nil, err
	}
	return db, nil
}

// Close closes the database. It is safe to call more than once.
func (s *SQLite) Close() error {
	return errors.Join(s.r.Close(), s.w.Close())
}

// Ping reports whether the database answers on both pools.
func (s *SQLite) Ping(ctx context.Context) error {
	if err := s.w.PingContext(ctx); err != nil {
		return failed("ping sqlite writer", err)
	}
	if err := s.r.PingContext(ctx); err != nil {
		return failed("ping sqlite reader", err)
	}
	return nil
}

// CreateMember implements MemberRecords.
func (s *SQLite) CreateMember(ctx context.Context, m Member) error {
	_, err := s.w.ExecContext(ctx,
		`INSERT INTO members (id, display_name, created_at) VALUES (?, ?, ?)`,
		string(m.ID), m.DisplayName, toMillis(m.CreatedAt))
	if err != nil {
		return failed(fmt.Sprintf("insert member %s", m.ID), err)
	}
	return nil
}

// Member implements MemberRecords.
func (s *SQLite) Member(ctx context.Context, id UserID) (Member, error) {
	var m Member
	var created int64
	err := s.r.QueryRowContext(ctx,
		`SELECT id, display_name, created_at FROM members WHERE id = ?`, string(id),
	).Scan(&m.ID, &m.DisplayName, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return Member{}, fmt.Errorf("member %s: %w", id, ErrMemberNotFound)
	}
	if err != nil {
		return Member{}, failed(fmt.Sprintf("select member %s", id), err)
	}
	m.CreatedAt = fromMillis(created)
	return m, nil
}

// CreateRoom implements RoomRecords.
func (s *SQLite) CreateRoom(ctx context.Context, r Room) error {
	// Selecting the creator in the same statement makes "creator must
	// exist" one atomic check with an error of our own, instead of a
	// foreign-key failure that would need the driver's error codes.
	res, err := s.w.ExecContext(ctx,
		`INSERT INTO rooms (id, title, description, created_by, created_at, ended_at)
		 SELECT ?, ?, ?, m.id, ?, ? FROM members m WHERE m.id = ?`,
		string(r.ID), r.Title, r.Description, toMillis(r.CreatedAt), nullMillis(r.EndedAt), string(r.CreatedBy))
	if err != nil {
		return failed(fmt.Sprintf("insert room %s", r.ID), err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return failed(fmt.Sprintf("insert room %s", r.ID), err)
	}
	if n == 0 {
		return fmt.Errorf("insert room %s: creator %s: %w", r.ID, r.CreatedBy, ErrMemberNotFound)
	}
	return nil
}

// roomSelect reads rooms with their creator's display name as HostName.
const roomSelect = `SELECT r.id, r.title, r.description, r.created_by, m.display_name, r.created_at, r.ended_at
	FROM rooms r JOIN members m ON m.id = r.created_by `

type rowQuerier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func scanRoom(sc interface{ Scan(...any) error }) (Room, error) {
	var r Room
	var created int64
	var ended sql.NullInt64
	if err := sc.Scan(&r.ID, &r.Title, &r.Description, &r.CreatedBy, &r.HostName, &created, &ended); err != nil {
		return Room{}, err
	}
	r.CreatedAt = fromMillis(created)
	if ended.Valid {
		r.EndedAt = fromMillis(ended.Int64)
	}
	return r, nil
}

func selectRoom(ctx context.Context, q rowQuerier, id RoomID) (Room, error) {
	r, err := scanRoom(q.QueryRowContext(ctx, roomSelect+`WHERE r.id = ?`, string(id)))
	if errors.Is(err, sql.ErrNoRows) {
		return Room{}, fmt.Errorf("room %s: %w", id, ErrRoomNotFound)
	}
	if err != nil {
		return Room{}, failed(fmt.Sprintf("select room %s", id), err)
	}
	return r, nil
}

// Room implements RoomRecords.
func (s *SQLite) Room(ctx context.Context, id RoomID) (Room, error) {
	return selectRoom(ctx, s.r, id)
}

// EndRoom implements RoomRecords. The conditional UPDATE is what makes
// ending atomic: of two concurrent calls exactly one changes the row. The
// transaction only keeps the follow-up read on the same snapshot, so that
// telling "ended" from "missing" cannot race a concurrent insert.
func (s *SQLite) EndRoom(ctx context.Context, id RoomID, at time.Time) (_ Room, err error) {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return Room{}, failed(fmt.Sprintf("end room %s", id), err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	res, err := tx.ExecContext(ctx,
		`UPDATE rooms SET ended_at = ? WHERE id = ? AND ended_at IS NULL`, toMillis(at), string(id))
	if err != nil {
		return Room{}, failed(fmt.Sprintf("end room %s", id), err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return Room{}, failed(fmt.Sprintf("end room %s", id), err)
	}
	r, err := selectRoom(ctx, tx, id)
	if err != nil {
		return Room{}, fmt.Errorf("end room: %w", err)
	}
	if n == 0 {
		// The room exists, so the UPDATE skipped it for having ended.
		return Room{}, fmt.Errorf("end room %s: %w", id, ErrRoomEnded)
	}
	if err := tx.Commit(); err != nil {
		return Room{}, failed(fmt.Sprintf("end room %s: commit", id), err)
	}
	return r, nil
}

// The LiveRooms queries. Their WHERE repeats the partial index's predicate
// word for word, which is what lets SQLite use it, and the row-value
// comparison lets it seek straight to the cursor.
const (
	liveRoomsFirst = roomSelect + `WHERE r.ended_at IS NULL
		ORDER BY r.created_at DESC, r.id DESC LIMIT ?`
	liveRoomsAfter = roomSelect + `WHERE r.ended_at IS NULL AND (r.created_at, r.id) < (?, ?)
		ORDER BY r.created_at DESC, r.id DESC LIMIT ?`
)

// LiveRooms implements RoomRecords.
func (s *SQLite) LiveRooms(ctx context.Context, q ListQuery) ([]Room, error) {
	if q.Limit < 1 {
		return nil, fmt.Errorf("live rooms: limit %d: %w", q.Limit, ErrInvalid)
	}
	query, args := liveRoomsFirst, []any{q.Limit}
	if !q.AfterTime.IsZero() {
		query, args = liveRoomsAfter, []any{toMillis(q.AfterTime), string(q.AfterRoomID), q.Limit}
	}
	rows, err := s.r.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, failed("live rooms", err)
	}
	defer rows.Close()
	var out []Room
	for rows.Next() {
		r, err := scanRoom(rows)
		if err != nil {
			return nil, failed("live rooms", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, failed("live rooms", err)
	}
	return out, nil
}

func toMillis(t time.Time) int64 { return t.UnixMilli() }

func nullMillis(t time.Time) sql.NullInt64 {
	if t.IsZero() {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.UnixMilli(), Valid: true}
}

func fromMillis(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

// migration is one file of migrations/: NNNN_name.sql.
type migration struct {
	version int
	name    string
	sql     string
}

// loadMigrations reads the migrations in version order and insists that
// they are numbered 1, 2, 3… with no gap or repeat, so that a misnamed
// file fails the build's tests rather than being skipped in production.
func loadMigrations(fsys fs.FS) ([]migration, error) {
	names, err := fs.Glob(fsys, "migrations/*.sql")
	if err != nil {
		return nil, fmt.Errorf("list migrations: %w", err)
	}
	var ms []migration
	for _, n := range names {
		base := path.Base(n)
		num, label, ok := strings.Cut(strings.TrimSuffix(base, ".sql"), "_")
		v, err := strconv.Atoi(num)
		if !ok || label == "" || len(num) != 4 || err != nil || v < 1 {
			return nil, fmt.Errorf("migration %s: name is not NNNN_name.sql", base)
		}
		b, err := fs.ReadFile(fsys, n)
		if err != nil {
			return nil, fmt.Errorf("migration %s: %w", base, err)
		}
		ms = append(ms, migration{version: v, name: base, sql: string(b)})
	}
	slices.SortFunc(ms, func(a, b migration) int { return a.version - b.version })
	for i, m := range ms {
		if m.version != i+1 {
			return nil, fmt.Errorf("migration %s: expected version %04d", m.name, i+1)
		}
	}
	return ms, nil
}

// migrate applies, each in its own transaction, the migrations that the
// database has not recorded yet. It refuses a database whose schema is newer
// than this binary, which could otherwise write rows an older schema would
// misread. Migrations run with foreign_keys on and cannot turn it off (the
// pragma is a no-op inside a transaction): a future table rebuild needs its
// own handling here.
func migrate(ctx context.Context, db *sql.DB, ms []migration) error {
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER PRIMARY KEY,
		name       TEXT    NOT NULL,
		applied_at INTEGER NOT NULL
	) STRICT`); err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	var current int
	if err := db.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&current); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if current > len(ms) {
		return fmt.Errorf("schema version %d is newer than this binary's %d", current, len(ms))
	}
	for _, m := range ms[current:] {
		if err := applyMigration(ctx, db, m); err != nil {
			return err
		}
	}
	return nil
}

func applyMigration(ctx context.Context, db *sql.DB, m migration) (err error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migration %s: %w", m.name, err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	// Another process may have applied it since we looked; BEGIN IMMEDIATE
	// holds the write lock, so this second look is final.
	var done bool
	if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE version = ?)`, m.version).Scan(&done); err != nil {
		return fmt.Errorf("migration %s: %w", m.name, err)
	}
	if !done {
		if _, err := tx.ExecContext(ctx, m.sql); err != nil {
			return fmt.Errorf("migration %s: %w", m.name, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
			m.version, m.name, time.Now().UnixMilli()); err != nil {
			return fmt.Errorf("migration %s: record: %w", m.name, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migration %s: commit: %w", m.name, err)
	}
	return nil
}

// failed wraps a database failure. The store could not do its job, which
// callers see as ErrUnavailable (the API's 503); a cancelled or expired
// context stays what it is.
func failed(op string, err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%s: %w", op, err)
	}
	return fmt.Errorf("%s: %w: %w", op, ErrUnavailable, err)
}
