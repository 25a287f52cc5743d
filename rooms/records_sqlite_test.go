package rooms

import (
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"
)

func openTestSQLite(t *testing.T, path string) *SQLite {
	t.Helper()
	db, err := OpenSQLite(t.Context(), path)
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

func TestSQLiteCreatesAPrivateParentDirectory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "b")
	openTestSQLite(t, filepath.Join(dir, "parley.db"))
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
	openTestSQLite(t, path)
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("database file not at %q: %v", path, err)
	}
}

func TestSQLiteRefusesNonFilePaths(t *testing.T) {
	for _, p := range []string{"", ":memory:", "file:x.db?mode=memory"} {
		if db, err := OpenSQLite(t.Context(), p); err == nil {
			_ = db.Close()
			t.Errorf("OpenSQLite(%q) succeeded, want an error", p)
		}
	}
}

func TestSQLiteSetsPragmasOnEveryConnection(t *testing.T) {
	db := openTestSQLite(t, filepath.Join(t.TempDir(), "p.db"))
	want := map[string]string{"journal_mode": "wal", "foreign_keys": "1", "synchronous": "1", "busy_timeout": "5000"}
	for name, pool := range map[string]*sql.DB{"writer": db.w, "reader": db.r} {
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
	if err := db.r.QueryRowContext(t.Context(), "PRAGMA query_only").Scan(&q); err != nil || q != 1 {
		t.Errorf("reader query_only = %d, %v; want 1", q, err)
	}
}

func TestSQLiteReopenKeepsDataAndAppliesNothingTwice(t *testing.T) {
	path := filepath.Join(t.TempDir(), "re.db")
	db, err := OpenSQLite(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	m := Member{ID: NewUserID(), DisplayName: "Ada", CreatedAt: time.UnixMilli(1_700_000_000_123).UTC()}
	if err := db.CreateMember(t.Context(), m); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	db = openTestSQLite(t, path)
	got, err := db.Member(t.Context(), m.ID)
	if err != nil || got != m {
		t.Fatalf("Member after reopen = %+v, %v; want %+v", got, err, m)
	}
	ms, err := loadMigrations(sqliteMigrationFS)
	if err != nil {
		t.Fatal(err)
	}
	var n, maxV int
	if err := db.r.QueryRowContext(t.Context(), `SELECT count(*), max(version) FROM schema_migrations`).Scan(&n, &maxV); err != nil {
		t.Fatal(err)
	}
	if n != len(ms) || maxV != len(ms) {
		t.Errorf("schema_migrations has %d rows up to version %d, want %d", n, maxV, len(ms))
	}
}

func TestSQLiteRefusesASchemaNewerThanTheBinary(t *testing.T) {
	path := filepath.Join(t.TempDir(), "new.db")
	db := openTestSQLite(t, path)
	if _, err := db.w.ExecContext(t.Context(), `INSERT INTO schema_migrations VALUES (999, '0999_future.sql', 0)`); err != nil {
		t.Fatal(err)
	}
	if db2, err := OpenSQLite(t.Context(), path); err == nil {
		_ = db2.Close()
		t.Fatal("OpenSQLite on a newer schema succeeded, want an error")
	}
}

func TestSQLiteMigrationFilesMustBeNumberedWithoutGaps(t *testing.T) {
	file := func(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s)} }
	tests := []struct {
		name    string
		files   fstest.MapFS
		wantErr string
	}{
		{"files in order load in order", fstest.MapFS{
			"migrations/0002_b.sql": file("B"), "migrations/0001_a.sql": file("A"),
		}, ""},
		{"a gap in the numbers is refused", fstest.MapFS{
			"migrations/0001_a.sql": file("A"), "migrations/0003_c.sql": file("C"),
		}, "expected version 0002"},
		{"a repeated number is refused", fstest.MapFS{
			"migrations/0001_a.sql": file("A"), "migrations/0001_b.sql": file("B"),
		}, "expected version 0002"},
		{"a name without a label is refused", fstest.MapFS{"migrations/0001.sql": file("A")}, "NNNN_name.sql"},
		{"a short number is refused", fstest.MapFS{"migrations/1_a.sql": file("A")}, "NNNN_name.sql"},
		{"version zero is refused", fstest.MapFS{"migrations/0000_a.sql": file("A")}, "NNNN_name.sql"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ms, err := loadMigrations(tt.files)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(ms) != 2 || ms[0].sql != "A" || ms[1].sql != "B" || ms[1].version != 2 {
				t.Errorf("migrations = %+v, want A then B", ms)
			}
		})
	}
}

func TestSQLiteFailedMigrationLeavesNoTrace(t *testing.T) {
	db := openTestSQLite(t, filepath.Join(t.TempDir(), "m.db"))
	ms, err := loadMigrations(sqliteMigrationFS)
	if err != nil {
		t.Fatal(err)
	}
	bad := migration{version: len(ms) + 1, name: "bad.sql", sql: `CREATE TABLE half (x INTEGER); SELECT * FROM no_such_table;`}
	if err := migrate(t.Context(), db.w, append(ms, bad)); err == nil {
		t.Fatal("migrate with a failing migration succeeded")
	}
	var n int
	if err := db.w.QueryRowContext(t.Context(),
		`SELECT (SELECT count(*) FROM sqlite_schema WHERE name = 'half') + (SELECT count(*) FROM schema_migrations WHERE version = ?)`,
		bad.version).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Error("the failed migration left its table or its version behind")
	}
}

func TestSQLiteRecordsContract(t *testing.T) {
	testRecords(t, func(t *testing.T) recordsUnderTest {
		return openTestSQLite(t, filepath.Join(t.TempDir(), "parley.db"))
	})
}

func TestSQLiteLiveRoomsWalksTheIndexWithoutSorting(t *testing.T) {
	db := openTestSQLite(t, filepath.Join(t.TempDir(), "plan.db"))
	queries := []struct {
		name  string
		query string
		args  []any
	}{
		{"first page", liveRoomsFirst, []any{10}},
		{"next page", liveRoomsAfter, []any{0, "rm_x", 10}},
	}
	for _, q := range queries {
		rows, err := db.r.QueryContext(t.Context(), "EXPLAIN QUERY PLAN "+q.query, q.args...)
		if err != nil {
			t.Fatalf("%s: %v", q.name, err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		_ = rows.Close()
		all := strings.Join(plan, "\n")
		if !strings.Contains(all, "INDEX rooms_live") || strings.Contains(all, "TEMP B-TREE") {
			t.Errorf("%s: plan does not walk rooms_live in order:\n%s", q.name, all)
		}
		t.Logf("%s:\n%s", q.name, all)
	}
}

func TestSQLiteTwoHandlesOnOneFileWriteWithoutBusyErrors(t *testing.T) {
	// A second handle stands in for a second process: its writes meet ours
	// at the file lock, where busy_timeout must make them wait, not fail.
	path := filepath.Join(t.TempDir(), "shared.db")
	a, b := openTestSQLite(t, path), openTestSQLite(t, path)
	host := createMember(t, a, "Host", recordsEpoch)
	var wg sync.WaitGroup
	for i, st := range []*SQLite{a, b, a, b} {
		wg.Go(func() {
			for j := range 25 {
				r := Room{ID: NewRoomID(), Title: "x", CreatedBy: host.ID, CreatedAt: recordsEpoch}
				if err := st.CreateRoom(t.Context(), r); err != nil {
					t.Errorf("writer %d, room %d: %v", i, j, err)
					return
				}
				if _, err := st.EndRoom(t.Context(), r.ID, recordsEpoch); err != nil {
					t.Errorf("writer %d, end %d: %v", i, j, err)
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestSQLiteCloseTwiceIsHarmless(t *testing.T) {
	db, err := OpenSQLite(t.Context(), filepath.Join(t.TempDir(), "c.db"))
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
