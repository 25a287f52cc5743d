package members

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
)

// migrationLockKey is the advisory lock that serializes migrators of the
// members schema across processes: "parley-members" as an integer.
const migrationLockKey = 0x7061726c65796d62

const postgresMaxConns = 8

var postgresDialect = dialect{
	name:       "postgres",
	migrations: "migrations/postgres",
	isUnique: func(err error) bool {
		var e *pgconn.PgError
		return errors.As(err, &e) && e.Code == "23505" // unique_violation
	},
	lockMigrations: func(ctx context.Context, tx *sql.Tx) error {
		// Released at the end of the transaction.
		_, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(migrationLockKey))
		return err
	},
}

// OpenPostgres connects to the Postgres database at url (pgx v5, through
// database/sql) and brings the members schema up to date. The tables live
// beside rooms' in the same database, versioned in their own
// members_schema_migrations. Close the store when done.
func OpenPostgres(ctx context.Context, url string) (*SQLStore, error) {
	db, err := openPostgres(ctx, url)
	if err != nil {
		return nil, err
	}
	if _, err := migrate(ctx, db, postgresDialect); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("migrate members schema: %w", err)
	}
	return &SQLStore{w: db, r: db, d: postgresDialect}, nil
}

func openPostgres(ctx context.Context, url string) (*sql.DB, error) {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("database url: %w", err)
	}
	db := stdlib.OpenDB(*cfg)
	// Enough for a server's concurrent requests, few enough that several
	// processes (or test packages) share one Postgres's 100 connections.
	db.SetMaxOpenConns(postgresMaxConns)
	db.SetMaxIdleConns(postgresMaxConns)
	if err := db.PingContext(ctx); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("connect to postgres: %w", err)
	}
	return db, nil
}

// MigratePostgres applies the members migrations to the database at url
// and reports how many it applied. `parley migrate` calls it; OpenPostgres
// does the same on every start.
func MigratePostgres(ctx context.Context, url string) (int, error) {
	db, err := openPostgres(ctx, url)
	if err != nil {
		return 0, err
	}
	defer db.Close()
	n, err := migrate(ctx, db, postgresDialect)
	if err != nil {
		return n, fmt.Errorf("migrate members schema: %w", err)
	}
	return n, nil
}
