package sqldb

import (
	"context"
	"fmt"
	"hash/fnv"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Migration is one file of a store's migrations: NNNN_name.sql.
type Migration struct {
	Version int
	Name    string
	SQL     string
}

// Migrations is a store's schema history: one directory of NNNN_name.sql
// files per dialect, "sqlite" and "postgres", under Dir of FS, describing
// the same tables version for version. Table records which of them a
// database has; each store has its own, so that stores sharing one
// Postgres database version their tables independently.
type Migrations struct {
	FS    fs.FS
	Dir   string
	Table string
}

// Load reads the dialect's migrations in version order and insists that
// they are numbered 1, 2, 3… with no gap or repeat, so that a misnamed
// file fails the tests rather than being skipped in production.
func (m Migrations) Load(d Dialect) ([]Migration, error) {
	dir := path.Join(m.Dir, string(d))
	names, err := fs.Glob(m.FS, dir+"/*.sql")
	if err != nil {
		return nil, fmt.Errorf("list migrations: %w", err)
	}
	var ms []Migration
	for _, n := range names {
		base := path.Base(n)
		num, label, ok := strings.Cut(strings.TrimSuffix(base, ".sql"), "_")
		v, err := strconv.Atoi(num)
		if !ok || label == "" || len(num) != 4 || err != nil || v < 1 {
			return nil, fmt.Errorf("migration %s: name is not NNNN_name.sql", base)
		}
		b, err := fs.ReadFile(m.FS, n)
		if err != nil {
			return nil, fmt.Errorf("migration %s: %w", base, err)
		}
		ms = append(ms, Migration{Version: v, Name: base, SQL: string(b)})
	}
	slices.SortFunc(ms, func(a, b Migration) int { return a.Version - b.Version })
	for i, mi := range ms {
		if mi.Version != i+1 {
			return nil, fmt.Errorf("migration %s: expected version %04d", mi.Name, i+1)
		}
	}
	if len(ms) == 0 {
		return nil, fmt.Errorf("no migrations in %s", dir)
	}
	return ms, nil
}

// Migrate applies, each in its own transaction, the migrations that db has
// not recorded, and returns how many it applied. It refuses a database
// whose schema is newer than this binary's, which could otherwise be
// written in a shape it does not expect. Several processes may migrate one
// database at once: SQLite's write lock (BEGIN IMMEDIATE) or a Postgres
// advisory lock makes the look and the apply one step.
func (db *DB) Migrate(ctx context.Context, m Migrations) (int, error) {
	ms, err := m.Load(db.Dialect)
	if err != nil {
		return 0, err
	}
	if _, err := db.W.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS `+m.Table+` (
		version    INTEGER PRIMARY KEY,
		name       TEXT    NOT NULL,
		applied_at BIGINT  NOT NULL
	)`); err != nil {
		// Two Postgres processes creating it at once: one loses the race
		// on the catalog; the table is there all the same.
		if !(db.Dialect == Postgres && isCreateRacePostgres(err)) {
			return 0, fmt.Errorf("create %s: %w", m.Table, err)
		}
	}
	applied := 0
	for _, mi := range ms {
		done, err := db.apply(ctx, m.Table, mi, len(ms))
		if err != nil {
			return applied, err
		}
		if done {
			applied++
		}
	}
	return applied, nil
}

// Version returns the newest migration db has recorded in table, 0 for none.
func (db *DB) Version(ctx context.Context, table string) (int, error) {
	var v int
	err := db.R.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) FROM `+table).Scan(&v)
	if err != nil {
		return 0, fmt.Errorf("read schema version from %s: %w", table, err)
	}
	return v, nil
}

func (db *DB) apply(ctx context.Context, table string, m Migration, known int) (applied bool, err error) {
	tx, err := db.W.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("migration %s: %w", m.Name, err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	if db.Dialect == Postgres {
		// Released at the end of the transaction.
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, lockKey(table)); err != nil {
			return false, fmt.Errorf("migration %s: lock: %w", m.Name, err)
		}
	}
	var current int
	if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) FROM `+table).Scan(&current); err != nil {
		return false, fmt.Errorf("read schema version: %w", err)
	}
	if current > known {
		return false, fmt.Errorf("%s: schema version %d is newer than this binary's %d", table, current, known)
	}
	if current < m.Version {
		if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
			return false, fmt.Errorf("migration %s: %w", m.Name, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO `+table+` (version, name, applied_at) VALUES ($1, $2, $3)`,
			m.Version, m.Name, time.Now().UnixMilli()); err != nil {
			return false, fmt.Errorf("migration %s: record: %w", m.Name, err)
		}
		applied = true
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("migration %s: commit: %w", m.Name, err)
	}
	return applied, nil
}

// lockKey is the advisory lock of one migrations table: stores with
// different tables migrate side by side.
func lockKey(table string) int64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte("parley-migrate:" + table))
	return int64(h.Sum64())
}
