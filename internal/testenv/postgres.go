package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/parley-audio/parley/internal/sqldb"
)

// DefaultPostgresURL is the test database used when PARLEY_TEST_DATABASE_URL
// is not set.
const DefaultPostgresURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// Postgres returns the URL of a schema of the test's own, freshly created on
// the test Postgres (PARLEY_TEST_DATABASE_URL). Every connection opened with
// the URL has that schema, and only it, on its search_path, so unqualified
// tables are created and found there, and tests that run at the same time,
// in this process or others, never see each other's tables. The schema and
// everything in it are dropped when the test ends.
//
// The schema is set by the URL's options parameter (-csearch_path=...),
// which the server applies at connection start, so it holds for every
// connection of a pool and for any driver that passes options through (pgx,
// libpq). Call it once per store under test; two calls give two schemas.
//
// Without a reachable Postgres the test is skipped loudly, or failed under
// CI=true.
func Postgres(t testing.TB) string {
	t.Helper()
	base := envOr("PARLEY_TEST_DATABASE_URL", DefaultPostgresURL)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		unavailable(t, "POSTGRES", redactURL(base), "PARLEY_TEST_DATABASE_URL", err)
	}
	defer conn.Close(context.Background())

	var b [8]byte
	_, _ = rand.Read(b[:])
	schema := "test_" + hex.EncodeToString(b[:])
	// The name is ours, lowercase letters and digits: no quoting needed.
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("testenv: create schema %s: %v", schema, err)
	}
	t.Cleanup(func() {
		// The test's own context is done by now.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Errorf("testenv: drop schema %s: %v", schema, err)
			return
		}
		defer c.Close(context.Background())
		if _, err := c.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("testenv: drop schema %s: %v", schema, err)
		}
	})

	u, err := withSearchPath(base, schema)
	if err != nil {
		t.Fatalf("testenv: PARLEY_TEST_DATABASE_URL: %v", err)
	}
	return u
}

// PostgresDB opens a sqldb.DB on a schema of the test's own (see Postgres),
// closed when the test ends.
func PostgresDB(t testing.TB) *sqldb.DB {
	t.Helper()
	db, err := sqldb.OpenPostgres(t.Context(), Postgres(t), 4)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// withSearchPath adds -csearch_path=schema to the URL's options parameter,
// after any options it already has. There is no space after -c: libpq does
// not read '+' in a URL as a space, and the server takes -cname=value.
func withSearchPath(raw, schema string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", err
	}
	q := u.Query()
	opt := "-csearch_path=" + schema
	if prev := strings.TrimSpace(q.Get("options")); prev != "" {
		opt = prev + " " + opt
	}
	q.Set("options", opt)
	u.RawQuery = strings.ReplaceAll(q.Encode(), "+", "%20")
	return u.String(), nil
}

// redactURL hides a password in a URL that is about to be logged.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}
