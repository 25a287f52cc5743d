package sqldb

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
// another process (a second server on the same file, `parley admin` while
// the server runs, a backup) before SQLITE_BUSY. Within this process the
// single writer never waits on it.
const sqliteBusyTimeout = 5 * time.Second

// OpenSQLite opens, or creates, the SQLite database at path, in WAL mode,
// with one writer connection and a pool of query_only readers. It creates
// the parent directory, private to the user, when it is missing. path is a
// file path; URIs and ":memory:" are refused, since every pooled
// connection would get a database of its own.
func OpenSQLite(ctx context.Context, path string) (*DB, error) {
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
	w, err := openSQLitePool(ctx, sqliteDSN(abs, false), 1)
	if err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	r, err := openSQLitePool(ctx, sqliteDSN(abs, true), max(4, runtime.GOMAXPROCS(0)))
	if err != nil {
		_ = w.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	return &DB{W: w, R: r, Dialect: SQLite}, nil
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

func isUniqueSQLite(err error) bool {
	var e *sqlite.Error
	if !errors.As(err, &e) {
		return false
	}
	return e.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || e.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
}
