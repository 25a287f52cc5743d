package members

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// sqliteBusyTimeout is how long a connection waits on a lock held by
// another process (a backup, `parley admin` while the server runs) before
// SQLITE_BUSY. Within this process the single writer never waits on it.
const sqliteBusyTimeout = 5 * time.Second

var sqliteDialect = dialect{
	name:       "sqlite",
	migrations: "migrations/sqlite",
	isUnique: func(err error) bool {
		var e *sqlite.Error
		if !errors.As(err, &e) {
			return false
		}
		return e.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || e.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	},
	// The writer's transactions are BEGIN IMMEDIATE: holding the write
	// lock already keeps other migrators out.
	lockMigrations: func(context.Context, *sql.Tx) error { return nil },
}

// OpenSQLite opens, or creates, the members database at path (its own
// file, <data-dir>/members.db, apart from rooms') and brings its schema up
// to date. Like rooms' store it runs in WAL mode with a single writer
// connection, so that writers of this process queue in database/sql rather
// than fail with SQLITE_BUSY, and a pool of read-only connections that
// never wait for the writer. Close the store when done.
func OpenSQLite(ctx context.Context, path string) (*SQLStore, error) {
	if path == "" || path == ":memory:" || strings.HasPrefix(path, "file:") {
		return nil, fmt.Errorf("open members sqlite: %q is not a file path", path)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("open members sqlite %s: %w", path, err)
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o700); err != nil {
		return nil, fmt.Errorf("open members sqlite %s: %w", path, err)
	}
	w, err := openSQLitePool(ctx, sqliteDSN(abs, false), 1)
	if err != nil {
		return nil, fmt.Errorf("open members sqlite %s: %w", path, err)
	}
	// The schema must exist before the readers prepare anything against it.
	if _, err := migrate(ctx, w, sqliteDialect); err != nil {
		_ = w.Close()
		return nil, fmt.Errorf("open members sqlite %s: %w", path, err)
	}
	r, err := openSQLitePool(ctx, sqliteDSN(abs, true), max(4, runtime.GOMAXPROCS(0)))
	if err != nil {
		_ = w.Close()
		return nil, fmt.Errorf("open members sqlite %s: %w", path, err)
	}
	return &SQLStore{w: w, r: r, d: sqliteDialect}, nil
}

// sqliteDSN builds a file: URI, escaping any byte of the path that the
// driver would otherwise read as the start of its parameters.
func sqliteDSN(abs string, readOnly bool) string {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout("+strconv.FormatInt(sqliteBusyTimeout.Milliseconds(), 10)+")")
	q.Add("_pragma", "foreign_keys(ON)")
	q.Add("_pragma", "synchronous(NORMAL)") // safe with WAL: a crash loses at most the last commits
	if readOnly {
		q.Add("_pragma", "query_only(ON)")
	} else {
		q.Add("_pragma", "journal_mode(WAL)")
		// BEGIN IMMEDIATE takes the write lock up front: a transaction that
		// reads first and writes later could otherwise fail with
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

// MigrateSQLite applies the members migrations to the database at path,
// creating it if need be, and reports how many it applied. `parley
// migrate` calls it; OpenSQLite does the same on every open.
func MigrateSQLite(ctx context.Context, path string) (int, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return 0, fmt.Errorf("migrate members sqlite %s: %w", path, err)
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o700); err != nil {
		return 0, fmt.Errorf("migrate members sqlite %s: %w", path, err)
	}
	w, err := openSQLitePool(ctx, sqliteDSN(abs, false), 1)
	if err != nil {
		return 0, fmt.Errorf("migrate members sqlite %s: %w", path, err)
	}
	defer w.Close()
	n, err := migrate(ctx, w, sqliteDialect)
	if err != nil {
		return n, fmt.Errorf("migrate members sqlite %s: %w", path, err)
	}
	return n, nil
}
