package members

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"
)

// migrationFS holds one directory of migrations per dialect. The two must
// describe the same tables: every query in this package runs on both.
//
//go:embed migrations/sqlite/*.sql migrations/postgres/*.sql
var migrationFS embed.FS

// migrationsTable records which migrations of this package a database has.
// It is members' own, apart from rooms' schema_migrations, so that the two
// packages version their tables independently in one Postgres database.
const migrationsTable = "members_schema_migrations"

// migration is one file: NNNN_name.sql.
type migration struct {
	version int
	name    string
	sql     string
}

// loadMigrations reads dir's migrations in version order and insists that
// they are numbered 1, 2, 3… with no gap or repeat, so that a misnamed
// file fails the tests rather than being skipped in production.
func loadMigrations(dir string) ([]migration, error) {
	names, err := fs.Glob(migrationFS, dir+"/*.sql")
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
		b, err := fs.ReadFile(migrationFS, n)
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
	if len(ms) == 0 {
		return nil, fmt.Errorf("no migrations in %s", dir)
	}
	return ms, nil
}

// migrate applies, each in its own transaction, the migrations the
// database has not recorded, and returns how many it applied. It refuses a
// database whose schema is newer than this binary's, which could otherwise
// be written in a shape it does not expect.
func migrate(ctx context.Context, db *sql.DB, d dialect) (int, error) {
	ms, err := loadMigrations(d.migrations)
	if err != nil {
		return 0, err
	}
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS `+migrationsTable+` (
		version    INTEGER PRIMARY KEY,
		name       TEXT    NOT NULL,
		applied_at BIGINT  NOT NULL
	)`); err != nil {
		return 0, fmt.Errorf("create %s: %w", migrationsTable, err)
	}
	applied := 0
	for _, m := range ms {
		done, err := applyMigration(ctx, db, d, m, len(ms))
		if err != nil {
			return applied, err
		}
		if done {
			applied++
		}
	}
	return applied, nil
}

// applyMigration applies m unless it is recorded, and reports whether it
// did. The dialect's lock makes the look and the apply one step against
// another process migrating the same database.
func applyMigration(ctx context.Context, db *sql.DB, d dialect, m migration, known int) (applied bool, err error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("migration %s: %w", m.name, err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	if err := d.lockMigrations(ctx, tx); err != nil {
		return false, fmt.Errorf("migration %s: lock: %w", m.name, err)
	}
	var current int
	if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) FROM `+migrationsTable).Scan(&current); err != nil {
		return false, fmt.Errorf("read schema version: %w", err)
	}
	if current > known {
		return false, fmt.Errorf("members schema version %d is newer than this binary's %d", current, known)
	}
	if current < m.version {
		if _, err := tx.ExecContext(ctx, m.sql); err != nil {
			return false, fmt.Errorf("migration %s: %w", m.name, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO `+migrationsTable+` (version, name, applied_at) VALUES ($1, $2, $3)`,
			m.version, m.name, time.Now().UnixMilli()); err != nil {
			return false, fmt.Errorf("migration %s: record: %w", m.name, err)
		}
		applied = true
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("migration %s: commit: %w", m.name, err)
	}
	return applied, nil
}
