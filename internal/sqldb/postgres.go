package sqldb

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
)

// DefaultPostgresConns is the pool size OpenPostgres uses when given 0:
// enough for a server's concurrent requests, few enough that several
// processes share one Postgres's default 100 connections.
const DefaultPostgresConns = 10

// OpenPostgres connects to the Postgres database at url through pgx v5 (as
// a database/sql driver, so that the stores' queries run unchanged on
// SQLite too) with a pool of at most conns connections (0: the default).
// Reads and writes share the pool.
func OpenPostgres(ctx context.Context, url string, conns int) (*DB, error) {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		// pgx's message may quote the URL, password included.
		return nil, errors.New("database url: not a valid Postgres URL")
	}
	if conns <= 0 {
		conns = DefaultPostgresConns
	}
	db := stdlib.OpenDB(*cfg)
	db.SetMaxOpenConns(conns)
	db.SetMaxIdleConns(conns)
	if err := db.PingContext(ctx); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("connect to postgres at %s:%d: %w", cfg.Host, cfg.Port, err)
	}
	return &DB{W: db, R: db, Dialect: Postgres}, nil
}

func isUniquePostgres(err error) bool {
	var e *pgconn.PgError
	return errors.As(err, &e) && e.Code == "23505" // unique_violation
}

// isCreateRacePostgres reports whether err is what Postgres answers the
// loser of two concurrent CREATE TABLE IF NOT EXISTS of one table: a
// unique violation on the catalog, or, as often, duplicate_table (42P07)
// or duplicate_object (42710, the table's row type).
func isCreateRacePostgres(err error) bool {
	var e *pgconn.PgError
	return errors.As(err, &e) && (e.Code == "23505" || e.Code == "42P07" || e.Code == "42710")
}
