package sqldb_test

import (
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/parley-audio/parley/internal/sqldb"
	"github.com/parley-audio/parley/internal/testenv"
)

func openSQLite(t *testing.T, path string) *sqldb.DB {
	t.Helper()
	db, err := sqldb.OpenSQLite(t.Context(), path)
	if err != nil {
		t.Fatalf("OpenSQLite(%q): %v", path, err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return db
}

// engines runs fn against a fresh database of each engine.
func engines(t *testing.T, fn func(t *testing.T, db *sqldb.DB)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, openSQLite(t, filepath.Join(t.TempDir(), "t.db"))) })
	t.Run("postgres", func(t *testing.T) { fn(t, testenv.PostgresDB(t)) })
}

func file(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s)} }

// twoTables is a schema history of two migrations, the same on both engines.
func twoTables() sqldb.Migrations {
	fsys := fstest.MapFS{}
	for _, d := range []string{"sqlite", "postgres"} {
		fsys["m/"+d+"/0001_a.sql"] = file(`CREATE TABLE a (x INTEGER NOT NULL); INSERT INTO a (x) VALUES (1);`)
		fsys["m/"+d+"/0002_b.sql"] = file(`CREATE TABLE b (y TEXT NOT NULL);`)
	}
	return sqldb.Migrations{FS: fsys, Dir: "m", Table: "test_migrations"}
}

func TestSQLiteCreatesAPrivateParentDirectory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "b")
	openSQLite(t, filepath.Join(dir, "parley.db"))
	fi, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != 0o700 {
		t.Errorf("parent dir mode = %v, want 0700", got)
	}
}

func TestSQLiteOpensPathsWithURISpecialCharacters(t *testing.T) {
	// '?' would start the driver's parameters and '#' a URI fragment if the
	// path were not escaped; the file must land exactly where asked.
	path := filepath.Join(t.TempDir(), "we?ird #dir%20", "par?ley#.db")
	openSQLite(t, path)
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("database file not at %q: %v", path, err)
	}
}

func TestSQLiteRefusesNonFilePaths(t *testing.T) {
	for _, p := range []string{"", ":memory:", "file:x.db?mode=memory"} {
		if db, err := sqldb.OpenSQLite(t.Context(), p); err == nil {
			_ = db.Close()
			t.Errorf("OpenSQLite(%q) succeeded, want an error", p)
		}
	}
}

func TestSQLiteSetsPragmasOnEveryConnection(t *testing.T) {
	db := openSQLite(t, filepath.Join(t.TempDir(), "p.db"))
	want := map[string]string{"journal_mode": "wal", "foreign_keys": "1", "synchronous": "1", "busy_timeout": "5000"}
	for name, pool := range map[string]*sql.DB{"writer": db.W, "reader": db.R} {
		for pragma, v := range want {
			var got string
			if err := pool.QueryRowContext(t.Context(), "PRAGMA "+pragma).Scan(&got); err != nil {
				t.Fatalf("%s: PRAGMA %s: %v", name, pragma, err)
			}
			if got != v {
				t.Errorf("%s: PRAGMA %s = %q, want %q", name, pragma, got, v)
			}
		}
	}
	var q int
	if err := db.R.QueryRowContext(t.Context(), "PRAGMA query_only").Scan(&q); err != nil || q != 1 {
		t.Errorf("reader query_only = %d, %v; want 1", q, err)
	}
}

func TestCloseTwiceIsHarmless(t *testing.T) {
	db, err := sqldb.OpenSQLite(t.Context(), filepath.Join(t.TempDir(), "c.db"))
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if err := db.Ping(t.Context()); err == nil {
		t.Error("Ping after Close succeeded")
	}
}

func TestOpenPostgresRefusesABadURLWithoutQuotingIt(t *testing.T) {
	_, err := sqldb.OpenPostgres(t.Context(), "postgres://u:s3cret@[::1/db", 1)
	if err == nil {
		t.Fatal("OpenPostgres with a malformed URL succeeded")
	}
	if strings.Contains(err.Error(), "s3cret") {
		t.Errorf("error quotes the password: %v", err)
	}
}

func TestMigrationFilesMustBeNumberedWithoutGaps(t *testing.T) {
	tests := []struct {
		name    string
		files   fstest.MapFS
		wantErr string
	}{
		{"files in order load in order", fstest.MapFS{
			"m/sqlite/0002_b.sql": file("B"), "m/sqlite/0001_a.sql": file("A"),
		}, ""},
		{"a gap in the numbers is refused", fstest.MapFS{
			"m/sqlite/0001_a.sql": file("A"), "m/sqlite/0003_c.sql": file("C"),
		}, "expected version 0002"},
		{"a repeated number is refused", fstest.MapFS{
			"m/sqlite/0001_a.sql": file("A"), "m/sqlite/0001_b.sql": file("B"),
		}, "expected version 0002"},
		{"a name without a label is refused", fstest.MapFS{"m/sqlite/0001.sql": file("A")}, "NNNN_name.sql"},
		{"a short number is refused", fstest.MapFS{"m/sqlite/1_a.sql": file("A")}, "NNNN_name.sql"},
		{"version zero is refused", fstest.MapFS{"m/sqlite/0000_a.sql": file("A")}, "NNNN_name.sql"},
		{"no migrations at all is refused", fstest.MapFS{"m/postgres/0001_a.sql": file("A")}, "no migrations"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ms, err := sqldb.Migrations{FS: tt.files, Dir: "m", Table: "x"}.Load(sqldb.SQLite)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(ms) != 2 || ms[0].SQL != "A" || ms[1].SQL != "B" || ms[1].Version != 2 {
				t.Errorf("migrations = %+v, want A then B", ms)
			}
		})
	}
}

func TestMigrateAppliesEachMigrationOnce(t *testing.T) {
	engines(t, func(t *testing.T, db *sqldb.DB) {
		m := twoTables()
		n, err := db.Migrate(t.Context(), m)
		if err != nil || n != 2 {
			t.Fatalf("first Migrate = %d, %v; want 2 applied", n, err)
		}
		n, err = db.Migrate(t.Context(), m)
		if err != nil || n != 0 {
			t.Fatalf("second Migrate = %d, %v; want 0 applied", n, err)
		}
		var rows int
		if err := db.R.QueryRowContext(t.Context(), `SELECT count(*) FROM a`).Scan(&rows); err != nil || rows != 1 {
			t.Errorf("table a has %d rows (%v), want 1: a migration ran twice", rows, err)
		}
		if v, err := db.Version(t.Context(), m.Table); err != nil || v != 2 {
			t.Errorf("Version = %d, %v; want 2", v, err)
		}
	})
}

func TestConcurrentMigratorsApplyEachMigrationOnce(t *testing.T) {
	engines(t, func(t *testing.T, db *sqldb.DB) {
		m := twoTables()
		var wg sync.WaitGroup
		applied := make([]int, 4)
		for i := range applied {
			wg.Go(func() {
				n, err := db.Migrate(t.Context(), m)
				if err != nil {
					t.Errorf("migrator %d: %v", i, err)
				}
				applied[i] = n
			})
		}
		wg.Wait()
		total := 0
		for _, n := range applied {
			total += n
		}
		if total != 2 {
			t.Errorf("migrators applied %v migrations, want 2 in all", applied)
		}
	})
}

func TestMigrateRefusesASchemaNewerThanTheBinary(t *testing.T) {
	engines(t, func(t *testing.T, db *sqldb.DB) {
		m := twoTables()
		if _, err := db.Migrate(t.Context(), m); err != nil {
			t.Fatal(err)
		}
		if _, err := db.W.ExecContext(t.Context(), `INSERT INTO test_migrations VALUES (999, '0999_future.sql', 0)`); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Migrate(t.Context(), m); err == nil || !strings.Contains(err.Error(), "newer") {
			t.Fatalf("Migrate on a newer schema = %v, want a refusal", err)
		}
	})
}

func TestFailedMigrationLeavesNoTrace(t *testing.T) {
	engines(t, func(t *testing.T, db *sqldb.DB) {
		m := twoTables()
		fsys := m.FS.(fstest.MapFS)
		for _, d := range []string{"sqlite", "postgres"} {
			fsys["m/"+d+"/0003_bad.sql"] = file(`CREATE TABLE half (x INTEGER); SELECT * FROM no_such_table;`)
		}
		if _, err := db.Migrate(t.Context(), m); err == nil {
			t.Fatal("Migrate with a failing migration succeeded")
		}
		if v, err := db.Version(t.Context(), m.Table); err != nil || v != 2 {
			t.Errorf("Version = %d, %v; want 2, the last good one", v, err)
		}
		if _, err := db.R.ExecContext(t.Context(), `SELECT count(*) FROM half`); err == nil {
			t.Error("the failed migration left its table behind")
		}
	})
}

func TestIsUniqueTellsAUniqueViolation(t *testing.T) {
	engines(t, func(t *testing.T, db *sqldb.DB) {
		if _, err := db.W.ExecContext(t.Context(), `CREATE TABLE u (k TEXT PRIMARY KEY, v TEXT UNIQUE)`); err != nil {
			t.Fatal(err)
		}
		if _, err := db.W.ExecContext(t.Context(), `INSERT INTO u VALUES ('a', 'x')`); err != nil {
			t.Fatal(err)
		}
		_, errKey := db.W.ExecContext(t.Context(), `INSERT INTO u VALUES ('a', 'y')`)
		_, errVal := db.W.ExecContext(t.Context(), `INSERT INTO u VALUES ('b', 'x')`)
		_, errOther := db.W.ExecContext(t.Context(), `INSERT INTO no_such_table VALUES (1)`)
		if !db.IsUnique(errKey) || !db.IsUnique(errVal) {
			t.Errorf("IsUnique(key) = %v, IsUnique(value) = %v; want both true", db.IsUnique(errKey), db.IsUnique(errVal))
		}
		if errOther == nil || db.IsUnique(errOther) {
			t.Errorf("IsUnique(%v) = true, want false", errOther)
		}
	})
}

func TestPlaceholdersAreTheSameOnBothEngines(t *testing.T) {
	engines(t, func(t *testing.T, db *sqldb.DB) {
		var a, b string
		var n int64
		// $n may repeat and come out of order; both engines bind by number.
		err := db.R.QueryRowContext(t.Context(), `SELECT CAST($2 AS TEXT), CAST($1 AS TEXT), CAST($3 AS BIGINT) + CAST($3 AS BIGINT)`, "one", "two", int64(20)).Scan(&a, &b, &n)
		if err != nil || a != "two" || b != "one" || n != 40 {
			t.Errorf("got %q %q %d (%v), want two one 40", a, b, n, err)
		}
	})
}

// A store closes the database it opened itself, and never one it was
// given.
func TestStoreDBClosesOnlyWhatItOpened(t *testing.T) {
	given := openSQLite(t, filepath.Join(t.TempDir(), "given.db"))
	borrowed, err := sqldb.Migrated(t.Context(), given, twoTables())
	if err != nil {
		t.Fatal(err)
	}
	if err := borrowed.Close(); err != nil {
		t.Fatal(err)
	}
	if err := given.Ping(t.Context()); err != nil {
		t.Errorf("the store closed a database it was given: %v", err)
	}

	own, err := sqldb.OpenSQLiteStore(t.Context(), filepath.Join(t.TempDir(), "own.db"), twoTables())
	if err != nil {
		t.Fatal(err)
	}
	if v, err := own.Version(t.Context(), "test_migrations"); err != nil || v != 2 {
		t.Fatalf("Version = %d, %v; want 2", v, err)
	}
	if err := own.Close(); err != nil {
		t.Fatal(err)
	}
	if err := own.Ping(t.Context()); err == nil {
		t.Error("the store left the database it opened open")
	}
	if err := own.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestOpenSQLiteStoreRefusesAFailingMigration(t *testing.T) {
	m := twoTables()
	m.FS.(fstest.MapFS)["m/sqlite/0003_bad.sql"] = file(`SELECT * FROM no_such_table;`)
	path := filepath.Join(t.TempDir(), "bad.db")
	if _, err := sqldb.OpenSQLiteStore(t.Context(), path, m); err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("OpenSQLiteStore with a failing migration = %v, want an error naming %s", err, path)
	}
}

func TestCollectReadsEveryRowAndWrapsEveryError(t *testing.T) {
	engines(t, func(t *testing.T, db *sqldb.DB) {
		if _, err := db.Migrate(t.Context(), twoTables()); err != nil {
			t.Fatal(err)
		}
		for _, y := range []string{"b", "c"} {
			if _, err := db.W.ExecContext(t.Context(), `INSERT INTO b (y) VALUES ($1)`, y); err != nil {
				t.Fatal(err)
			}
		}
		wrapped := errors.New("wrapped")
		fail := func(err error) error { return fmt.Errorf("%w: %w", wrapped, err) }
		scanY := func(sc sqldb.Scanner) (string, error) {
			var y string
			return y, sc.Scan(&y)
		}
		got, err := sqldb.Collect(t.Context(), db.R, fail, scanY, `SELECT y FROM b ORDER BY y`)
		if err != nil || !slices.Equal(got, []string{"b", "c"}) {
			t.Errorf("Collect = %q, %v; want [b c]", got, err)
		}
		if _, err := sqldb.Collect(t.Context(), db.R, fail, scanY, `SELECT y FROM no_such_table`); !errors.Is(err, wrapped) {
			t.Errorf("a failing query: err = %v, want it through fail", err)
		}
		badScan := func(sc sqldb.Scanner) (string, error) { return "", errors.New("bad row") }
		if _, err := sqldb.Collect(t.Context(), db.R, fail, badScan, `SELECT y FROM b`); !errors.Is(err, wrapped) {
			t.Errorf("a failing scan: err = %v, want it through fail", err)
		}
	})
}
