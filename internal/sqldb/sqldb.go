// Package sqldb opens the SQL databases that Parley's durable stores run
// on, embedded SQLite (the default) or Postgres, and applies their
// migrations. Each store (rooms' records, members' accounts) keeps its own
// queries and its own migrations; what they share is here, written once:
// how a database is opened and tuned, how a unique violation is told apart,
// and how versioned migrations are applied safely by several processes.
//
// Queries are written once with $1, $2… placeholders, which both engines
// accept, and times are stored as BIGINT Unix milliseconds, so that one set
// of queries serves both.
package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// Dialect is the engine under a DB.
type Dialect string

// The engines.
const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// DB is an open database. Its zero value is not usable; call OpenSQLite or
// OpenPostgres.
type DB struct {
	// W runs every write. For SQLite it is one connection: SQLite admits
	// one writer at a time, and funnelling this process's writes through
	// one connection makes them queue in database/sql, honouring their
	// ctx, instead of failing with SQLITE_BUSY. For Postgres it is the
	// pool, and R is the same pool.
	W *sql.DB
	// R runs reads that need no transaction. For SQLite it is a pool of
	// query_only connections, which in WAL mode never wait for the writer.
	R *sql.DB
	// Dialect says which engine this is.
	Dialect Dialect
}

// Close closes the database. It is safe to call more than once.
func (db *DB) Close() error {
	if db.R == db.W {
		return db.W.Close()
	}
	return errors.Join(db.R.Close(), db.W.Close())
}

// Ping reports whether the database answers on both pools.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.W.PingContext(ctx); err != nil {
		return fmt.Errorf("ping %s: %w", db.Dialect, err)
	}
	if db.R != db.W {
		if err := db.R.PingContext(ctx); err != nil {
			return fmt.Errorf("ping %s reader: %w", db.Dialect, err)
		}
	}
	return nil
}

// IsUnique reports whether err is a unique or primary-key violation.
func (db *DB) IsUnique(err error) bool {
	if db.Dialect == Postgres {
		return isUniquePostgres(err)
	}
	return isUniqueSQLite(err)
}

// InTx runs fn in a write transaction. It commits when fn returns nil, or
// when keep is not nil and keep(err) is true: a refusal whose side effect
// must still be kept (a reused refresh token revokes its session); the
// error is returned all the same. Otherwise it rolls back. A failure to
// begin or commit is returned wrapped by fail.
func (db *DB) InTx(ctx context.Context, fn func(tx *sql.Tx) error, keep func(error) bool, fail func(error) error) error {
	tx, err := db.W.BeginTx(ctx, nil)
	if err != nil {
		return fail(fmt.Errorf("begin: %w", err))
	}
	ferr := fn(tx)
	if ferr != nil && (keep == nil || !keep(ferr)) {
		_ = tx.Rollback()
		return ferr
	}
	if err := tx.Commit(); err != nil {
		return fail(fmt.Errorf("commit: %w", err))
	}
	return ferr
}
