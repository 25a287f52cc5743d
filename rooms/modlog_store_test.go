package rooms

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"testing"
	"time"
)

// testModLogRecords is the contract of ModLogRecords, part of
// testRecords.
func testModLogRecords(t *testing.T, open func(t *testing.T) recordsUnderTest) {
	t.Run("entries read back whole, newest first, per room and per target", func(t *testing.T) {
		st := open(t)
		host := createMember(t, st, "Host", recordsEpoch)
		r := createRoom(t, st, host, "moderated", recordsEpoch)
		other := createRoom(t, st, host, "other", recordsEpoch)
		bob := NewUserID()
		var inRoom, onBob []ModAction
		for i := range 9 {
			a := ModAction{
				ID: NewModActionID(), Room: r.ID, Actor: host.ID, Target: bob, Kind: ModMuted,
				At: recordsEpoch.Add(time.Duration(i/3)*time.Second + 1500*time.Microsecond),
			}
			switch i % 3 {
			case 1:
				a.Target, a.Kind = "", ModMutedAll
			case 2:
				a.Room, a.Kind, a.Detail = other.ID, ModChatDeleted, string(NewMessageID())
			}
			if err := st.RecordModAction(t.Context(), a); err != nil {
				t.Fatal(err)
			}
			a.At = a.At.Truncate(time.Millisecond)
			if a.Room == r.ID {
				inRoom = append(inRoom, a)
			}
			if a.Target == bob {
				onBob = append(onBob, a)
			}
		}
		newest := func(a, b ModAction) int { return cmp.Or(b.At.Compare(a.At), cmp.Compare(b.ID, a.ID)) }
		slices.SortFunc(inRoom, newest)
		slices.SortFunc(onBob, newest)
		for _, size := range []int{1, 4, 6} {
			got := walk(t, size, ModAction.cursor, func(ctx context.Context, after Cursor, limit int) ([]ModAction, error) {
				return st.ModLog(ctx, r.ID, after, limit)
			})
			checkModActions(t, fmt.Sprint("the room's log in pages of ", size), got, inRoom)
			got = walk(t, size, ModAction.cursor, func(ctx context.Context, after Cursor, limit int) ([]ModAction, error) {
				return st.ModActionsOn(ctx, bob, after, limit)
			})
			checkModActions(t, fmt.Sprint("actions on bob in pages of ", size), got, onBob)
		}
	})

	t.Run("every moderation log method fails with the context's error once it is cancelled", func(t *testing.T) {
		st := open(t)
		host := createMember(t, st, "Host", recordsEpoch)
		r := createRoom(t, st, host, "x", recordsEpoch)
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		checkRefused(t, context.Canceled, map[string]func() error{
			"RecordModAction": func() error {
				return st.RecordModAction(ctx, ModAction{ID: NewModActionID(), Room: r.ID, Actor: host.ID, Kind: ModMutedAll, At: recordsEpoch})
			},
			"ModLog":       func() error { _, err := st.ModLog(ctx, r.ID, Cursor{}, 1); return err },
			"ModActionsOn": func() error { _, err := st.ModActionsOn(ctx, host.ID, Cursor{}, 1); return err },
		})
	})
}

func checkModActions(t *testing.T, what string, got, want []ModAction) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d entries, want %d", what, len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i] || got[i].At.Location() != time.UTC {
			t.Errorf("%s: entry %d = %+v, want %+v", what, i, got[i], want[i])
		}
	}
}

// testReportRecords is the contract of ReportRecords, part of
// testRecords.
func testReportRecords(t *testing.T, open func(t *testing.T) recordsUnderTest) {
	t.Run("reports of members, rooms and members in rooms read back whole, newest first, in all and by reporter", func(t *testing.T) {
		st := open(t)
		host := createMember(t, st, "Host", recordsEpoch)
		r := createRoom(t, st, host, "reported", recordsEpoch)
		ann := NewUserID()
		var all, byAnn []Report
		for i := range 7 {
			rep := Report{ID: NewReportID(), Reporter: NewUserID(), Reason: fmt.Sprint("reason ", i), CreatedAt: recordsEpoch.Add(time.Duration(i/2) * time.Second)}
			switch i % 3 {
			case 0:
				rep.Member = NewUserID()
			case 1:
				rep.Room = r.ID
			case 2:
				rep.Member, rep.Room = host.ID, r.ID
			}
			if i%2 == 0 {
				rep.Reporter = ann
			}
			if err := st.CreateReport(t.Context(), rep); err != nil {
				t.Fatal(err)
			}
			all = append(all, rep)
			if rep.Reporter == ann {
				byAnn = append(byAnn, rep)
			}
		}
		newest := func(a, b Report) int { return cmp.Or(b.CreatedAt.Compare(a.CreatedAt), cmp.Compare(b.ID, a.ID)) }
		slices.SortFunc(all, newest)
		slices.SortFunc(byAnn, newest)
		for _, size := range []int{1, 3, 7} {
			got := walk(t, size, Report.cursor, st.Reports)
			checkReports(t, fmt.Sprint("all in pages of ", size), got, all)
			got = walk(t, size, Report.cursor, func(ctx context.Context, after Cursor, limit int) ([]Report, error) {
				return st.ReportsBy(ctx, ann, after, limit)
			})
			checkReports(t, fmt.Sprint("ann's in pages of ", size), got, byAnn)
		}
	})

	t.Run("a report of nothing, or of a room that does not exist, is refused", func(t *testing.T) {
		st := open(t)
		for name, rep := range map[string]Report{
			"of nothing":        {ID: NewReportID(), Reporter: NewUserID(), Reason: "x", CreatedAt: recordsEpoch},
			"of an absent room": {ID: NewReportID(), Reporter: NewUserID(), Room: NewRoomID(), Reason: "x", CreatedAt: recordsEpoch},
		} {
			if err := st.CreateReport(t.Context(), rep); err == nil {
				t.Errorf("a report %s was stored", name)
			}
		}
		if got, err := st.Reports(t.Context(), Cursor{}, 10); err != nil || len(got) != 0 {
			t.Errorf("reports after refusals = %v, %v", got, err)
		}
	})

	t.Run("every report method fails with the context's error once it is cancelled", func(t *testing.T) {
		st := open(t)
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		checkRefused(t, context.Canceled, map[string]func() error{
			"CreateReport": func() error {
				return st.CreateReport(ctx, Report{ID: NewReportID(), Reporter: NewUserID(), Member: NewUserID(), Reason: "x"})
			},
			"Reports":   func() error { _, err := st.Reports(ctx, Cursor{}, 1); return err },
			"ReportsBy": func() error { _, err := st.ReportsBy(ctx, NewUserID(), Cursor{}, 1); return err },
		})
	})
}

func checkReports(t *testing.T, what string, got, want []Report) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d reports, want %d", what, len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i] {
			t.Errorf("%s: report %d = %+v, want %+v", what, i, got[i], want[i])
		}
	}
}
