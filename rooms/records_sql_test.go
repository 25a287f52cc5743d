package rooms

import (
	"io/fs"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/parley-audio/parley/internal/sqldb"
	"github.com/parley-audio/parley/internal/testenv"
)

func openTestSQLite(t *testing.T, path string) *SQLStore {
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

// openTestPostgres returns a store on a Postgres schema of the test's own.
func openTestPostgres(t *testing.T) *SQLStore {
	t.Helper()
	st, err := NewSQLStore(t.Context(), testenv.PostgresDB(t))
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func TestSQLiteRecordsContract(t *testing.T) {
	testRecords(t, func(t *testing.T) recordsUnderTest {
		return openTestSQLite(t, filepath.Join(t.TempDir(), "parley.db"))
	})
}

func TestPostgresRecordsContract(t *testing.T) {
	testRecords(t, func(t *testing.T) recordsUnderTest { return openTestPostgres(t) })
}

// A database from before members moved out keeps its rooms through the
// upgrade; only the development sign-in's names go.
func TestSQLiteUpgradeFromVersionOneKeepsRooms(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.db")
	db, err := sqldb.OpenSQLite(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	v1 := Migrations
	v1.FS = onlyFirst{Migrations.FS}
	if _, err := db.Migrate(t.Context(), v1); err != nil {
		t.Fatal(err)
	}
	if _, err := db.W.ExecContext(t.Context(), `INSERT INTO members VALUES ('usr_a', 'Ada', 1)`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.W.ExecContext(t.Context(), `INSERT INTO rooms VALUES ('rm_a', 'Kept', 'd', 'usr_a', 2, NULL), ('rm_b', 'Over', '', 'usr_a', 3, 4)`); err != nil {
		t.Fatal(err)
	}
	st, err := NewSQLStore(t.Context(), db)
	if err != nil {
		t.Fatal(err)
	}
	r, err := st.Room(t.Context(), "rm_a")
	if err != nil || r.Title != "Kept" || r.CreatedBy != "usr_a" || !r.Live() {
		t.Errorf("room after the upgrade = %+v, %v", r, err)
	}
	live, err := st.LiveRooms(t.Context(), ListQuery{Limit: 10})
	if err != nil || len(live) != 1 || live[0].ID != "rm_a" {
		t.Errorf("live rooms after the upgrade = %v, %v; want rm_a", roomIDs(live), err)
	}
	// The rooms table no longer points at members, which is gone.
	r2 := Room{ID: NewRoomID(), Title: "New", CreatedBy: NewUserID(), CreatedAt: recordsEpoch}
	if err := st.CreateRoom(t.Context(), r2); err != nil {
		t.Errorf("CreateRoom by a member rooms never saw: %v", err)
	}
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
		rows, err := db.db.R.QueryContext(t.Context(), "EXPLAIN QUERY PLAN "+q.query, q.args...)
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
	}
}

func TestSQLiteTwoHandlesOnOneFileWriteWithoutBusyErrors(t *testing.T) {
	// A second handle stands in for a second process: its writes meet ours
	// at the file lock, where busy_timeout must make them wait, not fail.
	path := filepath.Join(t.TempDir(), "shared.db")
	a, b := openTestSQLite(t, path), openTestSQLite(t, path)
	host := NewUserID()
	var wg sync.WaitGroup
	for i, st := range []*SQLStore{a, b, a, b} {
		wg.Go(func() {
			for j := range 25 {
				r := Room{ID: NewRoomID(), Title: "x", CreatedBy: host, CreatedAt: recordsEpoch}
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

// onlyFirst shows a store's migrations as they were at version one.
type onlyFirst struct{ fs.FS }

func (o onlyFirst) Open(name string) (fs.File, error) {
	if strings.HasSuffix(name, ".sql") && !strings.Contains(path.Base(name), "0001_") {
		return nil, fs.ErrNotExist
	}
	return o.FS.Open(name)
}

func (o onlyFirst) ReadDir(name string) ([]fs.DirEntry, error) {
	all, err := fs.ReadDir(o.FS, name)
	var kept []fs.DirEntry
	for _, e := range all {
		if !strings.HasSuffix(e.Name(), ".sql") || strings.HasPrefix(e.Name(), "0001_") {
			kept = append(kept, e)
		}
	}
	return kept, err
}
