package rooms

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"
)

// recordsUnderTest is a durable store as the contract suite sees it.
type recordsUnderTest interface {
	RoomRecords
	roomDataRecords
	RoomsCreatedBy(ctx context.Context, user UserID, fn func(Room) error) error
}

// recordsEpoch is an arbitrary, round instant that the suite's times are
// built from, so that failures print readable times.
var recordsEpoch = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// testRecords is the contract every durable store passes. open must return
// a new, empty store for each call; it owns the store's cleanup. Nothing
// here may depend on one engine: SQLite and Postgres both run it.
//
// Rooms are ordered by (CreatedAt, ID) with IDs compared byte by byte, as
// Go compares strings; a Postgres store needs COLLATE "C" on room IDs.
func testRecords(t *testing.T, open func(t *testing.T) recordsUnderTest) {
	testRoomData(t, open)
	t.Run("a created room reads back at millisecond precision in UTC", func(t *testing.T) {
		st := open(t)
		host := createMember(t, st, "Grace", recordsEpoch)
		r := Room{
			ID: NewRoomID(), Title: "Compilers at dawn", Description: "line one\n\tline two — ünïcode",
			CreatedBy: host.ID, CreatedAt: recordsEpoch.Add(1500 * time.Microsecond), LoudestN: 3,
		}
		if err := st.CreateRoom(t.Context(), r); err != nil {
			t.Fatal(err)
		}
		got, err := st.Room(t.Context(), r.ID)
		if err != nil {
			t.Fatal(err)
		}
		want := r
		want.CreatedAt = recordsEpoch.Add(time.Millisecond)
		checkRoom(t, got, want)
	})

	t.Run("a member's rooms stream oldest first, theirs only", func(t *testing.T) {
		st := open(t)
		ada, bob := createMember(t, st, "Ada", recordsEpoch), createMember(t, st, "Bob", recordsEpoch)
		second := createRoom(t, st, ada, "second", recordsEpoch.Add(2*time.Minute))
		createRoom(t, st, bob, "not hers", recordsEpoch.Add(time.Minute))
		first := createRoom(t, st, ada, "first", recordsEpoch.Add(time.Minute))
		if _, err := st.EndRoom(t.Context(), first.ID, recordsEpoch.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		first.EndedAt = recordsEpoch.Add(time.Hour)
		var got []Room
		if err := st.RoomsCreatedBy(t.Context(), ada.ID, func(r Room) error { got = append(got, r); return nil }); err != nil {
			t.Fatal(err)
		}
		checkRooms(t, got, []Room{first, second})
		stop := errors.New("stop")
		n := 0
		err := st.RoomsCreatedBy(t.Context(), ada.ID, func(Room) error { n++; return stop })
		if !errors.Is(err, stop) || n != 1 {
			t.Errorf("an error from fn: got %v after %d calls, want it back after 1", err, n)
		}
	})

	t.Run("an unknown room is ErrRoomNotFound", func(t *testing.T) {
		st := open(t)
		if _, err := st.Room(t.Context(), NewRoomID()); !errors.Is(err, ErrRoomNotFound) {
			t.Errorf("err = %v, want ErrRoomNotFound", err)
		}
	})

	t.Run("a second room with a taken ID is refused and the first is kept", func(t *testing.T) {
		st := open(t)
		host := createMember(t, st, "Host", recordsEpoch)
		r := createRoom(t, st, host, "First", recordsEpoch)
		dup := r
		dup.Title = "Second"
		if err := st.CreateRoom(t.Context(), dup); err == nil {
			t.Fatal("CreateRoom with a taken ID succeeded")
		}
		if got, err := st.Room(t.Context(), r.ID); err != nil || got.Title != "First" {
			t.Errorf("Room = %+v, %v; want the first one", got, err)
		}
	})

	t.Run("ending a live room returns it ended and it reads back ended", func(t *testing.T) {
		st := open(t)
		host := createMember(t, st, "Host", recordsEpoch)
		r := createRoom(t, st, host, "Short talk", recordsEpoch)
		at := recordsEpoch.Add(time.Hour + 999_999*time.Nanosecond).In(time.FixedZone("PST", -8*3600))
		want := r
		want.EndedAt = recordsEpoch.Add(time.Hour)

		got, err := st.EndRoom(t.Context(), r.ID, at)
		if err != nil {
			t.Fatal(err)
		}
		checkRoom(t, got, want)
		if got.Live() {
			t.Error("the ended room reports Live")
		}
		got, err = st.Room(t.Context(), r.ID)
		if err != nil {
			t.Fatal(err)
		}
		checkRoom(t, got, want)
	})

	t.Run("ending a room twice is ErrRoomEnded and keeps the first end time", func(t *testing.T) {
		st := open(t)
		host := createMember(t, st, "Host", recordsEpoch)
		r := createRoom(t, st, host, "Once", recordsEpoch)
		if _, err := st.EndRoom(t.Context(), r.ID, recordsEpoch.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		if _, err := st.EndRoom(t.Context(), r.ID, recordsEpoch.Add(time.Hour)); !errors.Is(err, ErrRoomEnded) {
			t.Fatalf("second EndRoom err = %v, want ErrRoomEnded", err)
		}
		got, err := st.Room(t.Context(), r.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !got.EndedAt.Equal(recordsEpoch.Add(time.Minute)) {
			t.Errorf("EndedAt = %v, want the first end time", got.EndedAt)
		}
	})

	t.Run("ending an unknown room is ErrRoomNotFound", func(t *testing.T) {
		st := open(t)
		if _, err := st.EndRoom(t.Context(), NewRoomID(), recordsEpoch); !errors.Is(err, ErrRoomNotFound) {
			t.Errorf("err = %v, want ErrRoomNotFound", err)
		}
	})

	t.Run("live rooms are listed newest first without ended rooms", func(t *testing.T) {
		st := open(t)
		ada := createMember(t, st, "Ada", recordsEpoch)
		bob := createMember(t, st, "Bob", recordsEpoch)
		old := createRoom(t, st, ada, "old", recordsEpoch.Add(1*time.Minute))
		ended := createRoom(t, st, bob, "ended", recordsEpoch.Add(2*time.Minute))
		mid := createRoom(t, st, bob, "mid", recordsEpoch.Add(3*time.Minute))
		newest := createRoom(t, st, ada, "newest", recordsEpoch.Add(4*time.Minute))
		if _, err := st.EndRoom(t.Context(), ended.ID, recordsEpoch.Add(5*time.Minute)); err != nil {
			t.Fatal(err)
		}
		got, err := st.LiveRooms(t.Context(), ListQuery{Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		checkRooms(t, got, []Room{newest, mid, old})
	})

	t.Run("the limit caps a page", func(t *testing.T) {
		st := open(t)
		host := createMember(t, st, "Host", recordsEpoch)
		var all []Room
		for i := range 5 {
			all = append(all, createRoom(t, st, host, fmt.Sprint(i), recordsEpoch.Add(time.Duration(i)*time.Second)))
		}
		got, err := st.LiveRooms(t.Context(), ListQuery{Limit: 2})
		if err != nil {
			t.Fatal(err)
		}
		checkRooms(t, got, []Room{all[4], all[3]})
	})

	t.Run("a limit below one is refused with ErrInvalid", func(t *testing.T) {
		st := open(t)
		for _, n := range []int{0, -1} {
			if _, err := st.LiveRooms(t.Context(), ListQuery{Limit: n}); !errors.Is(err, ErrInvalid) {
				t.Errorf("Limit %d: err = %v, want ErrInvalid", n, err)
			}
		}
	})

	t.Run("paging walks every live room once even when creation times tie", func(t *testing.T) {
		st := open(t)
		host := createMember(t, st, "Host", recordsEpoch)
		// Three instants with 4, 1 and 4 rooms: page boundaries fall both
		// inside and between runs of equal times.
		var all []Room
		for i, n := range []int{4, 1, 4} {
			for range n {
				all = append(all, createRoom(t, st, host, "tie", recordsEpoch.Add(time.Duration(i)*time.Millisecond)))
			}
		}
		slices.SortFunc(all, func(a, b Room) int {
			return cmp.Or(b.CreatedAt.Compare(a.CreatedAt), cmp.Compare(b.ID, a.ID))
		})
		for _, size := range []int{1, 2, 3, 4, 9, 10} {
			t.Run(fmt.Sprintf("pages of %d", size), func(t *testing.T) {
				var walked []Room
				q := ListQuery{Limit: size}
				for page := 0; ; page++ {
					if page > len(all) {
						t.Fatal("paging does not end")
					}
					got, err := st.LiveRooms(t.Context(), q)
					if err != nil {
						t.Fatal(err)
					}
					if len(got) > size {
						t.Fatalf("page %d has %d rooms, over the limit %d", page, len(got), size)
					}
					walked = append(walked, got...)
					if len(got) < size {
						break
					}
					last := got[len(got)-1]
					q.AfterTime, q.AfterRoomID = last.CreatedAt, last.ID
				}
				checkRooms(t, walked, all)
			})
		}
	})

	t.Run("a cursor without a room ID starts strictly before its time", func(t *testing.T) {
		st := open(t)
		host := createMember(t, st, "Host", recordsEpoch)
		older := createRoom(t, st, host, "older", recordsEpoch)
		createRoom(t, st, host, "at the cursor", recordsEpoch.Add(time.Second))
		got, err := st.LiveRooms(t.Context(), ListQuery{Limit: 10, AfterTime: recordsEpoch.Add(time.Second)})
		if err != nil {
			t.Fatal(err)
		}
		checkRooms(t, got, []Room{older})
	})

	t.Run("every method fails with the context's error once it is cancelled", func(t *testing.T) {
		st := open(t)
		host := createMember(t, st, "Host", recordsEpoch)
		r := createRoom(t, st, host, "Room", recordsEpoch)
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		calls := map[string]func() error{
			"CreateRoom": func() error {
				return st.CreateRoom(ctx, Room{ID: NewRoomID(), Title: "x", CreatedBy: host.ID, CreatedAt: recordsEpoch})
			},
			"Room":      func() error { _, err := st.Room(ctx, r.ID); return err },
			"EndRoom":   func() error { _, err := st.EndRoom(ctx, r.ID, recordsEpoch); return err },
			"LiveRooms": func() error { _, err := st.LiveRooms(ctx, ListQuery{Limit: 1}); return err },
		}
		for name, call := range calls {
			if err := call(); !errors.Is(err, context.Canceled) {
				t.Errorf("%s: err = %v, want context.Canceled", name, err)
			}
		}
		if got, err := st.Room(t.Context(), r.ID); err != nil || !got.Live() {
			t.Errorf("the cancelled EndRoom ended the room: %+v, %v", got, err)
		}
	})

	t.Run("eight goroutines creating, reading and ending rooms at once all succeed", func(t *testing.T) {
		st := open(t)
		const workers, perWorker = 8, 20
		var wg sync.WaitGroup
		for w := range workers {
			wg.Go(func() {
				m := Member{ID: NewUserID(), DisplayName: fmt.Sprint("worker ", w), CreatedAt: recordsEpoch}
				for i := range perWorker {
					r := Room{ID: NewRoomID(), Title: "busy", CreatedBy: m.ID, CreatedAt: recordsEpoch.Add(time.Duration(i) * time.Millisecond)}
					if err := st.CreateRoom(t.Context(), r); err != nil {
						t.Errorf("worker %d: CreateRoom: %v", w, err)
						return
					}
					if _, err := st.Room(t.Context(), r.ID); err != nil {
						t.Errorf("worker %d: Room right after CreateRoom: %v", w, err)
					}
					if i%2 == 0 {
						if _, err := st.EndRoom(t.Context(), r.ID, recordsEpoch.Add(time.Hour)); err != nil {
							t.Errorf("worker %d: EndRoom: %v", w, err)
						}
					}
					if _, err := st.LiveRooms(t.Context(), ListQuery{Limit: 5}); err != nil {
						t.Errorf("worker %d: LiveRooms: %v", w, err)
					}
				}
			})
		}
		wg.Wait()
		got, err := st.LiveRooms(t.Context(), ListQuery{Limit: workers * perWorker})
		if err != nil {
			t.Fatal(err)
		}
		if want := workers * perWorker / 2; len(got) != want {
			t.Errorf("%d live rooms after the run, want %d", len(got), want)
		}
	})

	t.Run("of eight concurrent ends of one room exactly one succeeds", func(t *testing.T) {
		st := open(t)
		host := createMember(t, st, "Host", recordsEpoch)
		r := createRoom(t, st, host, "Contested", recordsEpoch)
		errs := make(chan error, 8)
		var wg sync.WaitGroup
		for i := range 8 {
			wg.Go(func() {
				_, err := st.EndRoom(t.Context(), r.ID, recordsEpoch.Add(time.Duration(i+1)*time.Second))
				errs <- err
			})
		}
		wg.Wait()
		close(errs)
		var ok, ended int
		for err := range errs {
			switch {
			case err == nil:
				ok++
			case errors.Is(err, ErrRoomEnded):
				ended++
			default:
				t.Errorf("EndRoom: unexpected error %v", err)
			}
		}
		if ok != 1 || ended != 7 {
			t.Errorf("%d ends succeeded and %d saw ErrRoomEnded, want 1 and 7", ok, ended)
		}
	})
}

// createMember names a member for the rooms of a test. The records store
// keeps only their ID: names are the members store's.
func createMember(_ *testing.T, _ RoomRecords, name string, at time.Time) Member {
	return Member{ID: NewUserID(), DisplayName: name, CreatedAt: at}
}

// createRoom stores a live room and returns it as a read should.
func createRoom(t *testing.T, st RoomRecords, host Member, title string, at time.Time) Room {
	t.Helper()
	r := Room{ID: NewRoomID(), Title: title, Description: "about " + title, CreatedBy: host.ID, CreatedAt: at}
	if err := st.CreateRoom(t.Context(), r); err != nil {
		t.Fatalf("CreateRoom(%q): %v", title, err)
	}
	return r
}

// checkRoom compares times by instant and insists that they come back in
// UTC, which == on Room would not tell apart from a wrong zone.
func checkRoom(t *testing.T, got, want Room) {
	t.Helper()
	for name, tm := range map[string]time.Time{"CreatedAt": got.CreatedAt, "EndedAt": got.EndedAt} {
		if !tm.IsZero() && tm.Location() != time.UTC {
			t.Errorf("room %s: %s is in %v, want UTC", got.ID, name, tm.Location())
		}
	}
	g, w := got, want
	if w.Visibility == "" {
		w.Visibility = VisibilityOpen // what a room created without one reads back as
	}
	g.CreatedAt, g.EndedAt, w.CreatedAt, w.EndedAt = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	if !reflect.DeepEqual(g, w) || !got.CreatedAt.Equal(want.CreatedAt) || !got.EndedAt.Equal(want.EndedAt) {
		t.Errorf("room =\n\t%+v\nwant\n\t%+v", got, want)
	}
}

func checkRooms(t *testing.T, got, want []Room) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d rooms %v, want %d %v", len(got), roomIDs(got), len(want), roomIDs(want))
	}
	for i := range got {
		checkRoom(t, got[i], want[i])
	}
}

func roomIDs(rs []Room) []RoomID {
	ids := make([]RoomID, len(rs))
	for i, r := range rs {
		ids[i] = r.ID
	}
	return ids
}
