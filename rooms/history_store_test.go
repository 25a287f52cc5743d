package rooms

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"
)

// testHistoryRecords is the contract of HistoryRecords, part of
// testRecords.
func testHistoryRecords(t *testing.T, open func(t *testing.T) recordsUnderTest) {
	t.Run("presence keeps the first join and the first time on stage, whatever the order of the batches", func(t *testing.T) {
		st := open(t)
		host := createMember(t, st, "Host", recordsEpoch)
		r := createRoom(t, st, host, "History", recordsEpoch)
		ann, bob, cy := NewUserID(), NewUserID(), NewUserID()
		at := func(m int) time.Time { return recordsEpoch.Add(time.Duration(m) * time.Minute) }
		batches := [][]Presence{
			{{Room: r.ID, User: host.ID, JoinedAt: at(0), OnStageAt: at(0)}, {Room: r.ID, User: ann, JoinedAt: at(5)}},
			{{Room: r.ID, User: ann, JoinedAt: at(2)}, {Room: r.ID, User: bob, JoinedAt: at(3), OnStageAt: at(9)}},
			{{Room: r.ID, User: bob, JoinedAt: at(8), OnStageAt: at(7)}, {Room: r.ID, User: ann, JoinedAt: at(9), OnStageAt: at(10)}},
			{{Room: r.ID, User: ann, JoinedAt: at(11)}, {Room: r.ID, User: cy, JoinedAt: at(4)}},
			{},
		}
		for _, b := range batches {
			if err := st.RecordPresence(t.Context(), b); err != nil {
				t.Fatal(err)
			}
		}
		h, err := st.RoomHistory(t.Context(), r.ID)
		if err != nil {
			t.Fatal(err)
		}
		checkRoom(t, h.Room, r)
		want := []Presence{
			{Room: r.ID, User: host.ID, JoinedAt: at(0), OnStageAt: at(0)},
			{Room: r.ID, User: bob, JoinedAt: at(3), OnStageAt: at(7)},
			{Room: r.ID, User: ann, JoinedAt: at(2), OnStageAt: at(10)},
		}
		checkPresence(t, h.Speakers, want)
		if h.PeakListeners != 0 {
			t.Errorf("peak %d before any was recorded", h.PeakListeners)
		}
		joined, err := st.RoomsJoinedBy(t.Context(), cy, Cursor{}, 10)
		if err != nil || len(joined) != 1 || !joined[0].OnStageAt.IsZero() || !joined[0].JoinedAt.Equal(at(4)) {
			t.Errorf("cy's rooms = %+v, %v; want the room, joined at 4, never on stage", joined, err)
		}
	})

	t.Run("the peak only ever rises", func(t *testing.T) {
		st := open(t)
		host := createMember(t, st, "Host", recordsEpoch)
		a := createRoom(t, st, host, "a", recordsEpoch)
		b := createRoom(t, st, host, "b", recordsEpoch)
		for _, peaks := range []map[RoomID]int{{a.ID: 5, b.ID: 1}, {a.ID: 3}, {a.ID: 7, b.ID: 0}, nil} {
			if err := st.RecordPeaks(t.Context(), peaks); err != nil {
				t.Fatal(err)
			}
		}
		for id, want := range map[RoomID]int{a.ID: 7, b.ID: 1} {
			h, err := st.RoomHistory(t.Context(), id)
			if err != nil || h.PeakListeners != want {
				t.Errorf("peak of %s = %d (%v), want %d", id, h.PeakListeners, err, want)
			}
		}
	})

	t.Run("the history of an unknown room is ErrRoomNotFound", func(t *testing.T) {
		st := open(t)
		if _, err := st.RoomHistory(t.Context(), NewRoomID()); !errors.Is(err, ErrRoomNotFound) {
			t.Errorf("err = %v, want ErrRoomNotFound", err)
		}
	})

	t.Run("a member's hosted and joined rooms page newest first", func(t *testing.T) {
		st := open(t)
		ann := createMember(t, st, "Ann", recordsEpoch)
		other := createMember(t, st, "Other", recordsEpoch)
		var hosted []Room
		var ps []Presence
		var joined []RoomID
		for i := range 7 {
			at := recordsEpoch.Add(time.Duration(i/2) * time.Second) // ties
			hosted = append(hosted, createRoom(t, st, ann, fmt.Sprint("mine ", i), at))
			r := createRoom(t, st, other, fmt.Sprint("theirs ", i), at)
			ps = append(ps, Presence{Room: r.ID, User: ann.ID, JoinedAt: at})
		}
		if err := st.RecordPresence(t.Context(), ps); err != nil {
			t.Fatal(err)
		}
		slices.SortFunc(hosted, func(a, b Room) int { return cmp.Or(b.CreatedAt.Compare(a.CreatedAt), cmp.Compare(b.ID, a.ID)) })
		slices.SortFunc(ps, func(a, b Presence) int { return cmp.Or(b.JoinedAt.Compare(a.JoinedAt), cmp.Compare(b.Room, a.Room)) })
		for _, p := range ps {
			joined = append(joined, p.Room)
		}
		for _, size := range []int{1, 3, 7} {
			gotHosted := walk(t, size, func(r Room) Cursor { return Cursor{At: r.CreatedAt, ID: string(r.ID)} },
				func(ctx context.Context, after Cursor, limit int) ([]Room, error) {
					return st.RoomsHostedBy(ctx, ann.ID, after, limit)
				})
			checkIDs(t, "hosted", roomIDs(gotHosted), roomIDs(hosted))
			gotJoined := walk(t, size, func(a Attendance) Cursor { return Cursor{At: a.JoinedAt, ID: string(a.Room.ID)} },
				func(ctx context.Context, after Cursor, limit int) ([]Attendance, error) {
					return st.RoomsJoinedBy(ctx, ann.ID, after, limit)
				})
			checkIDs(t, "joined", idsOf(gotJoined, func(a Attendance) RoomID { return a.Room.ID }), joined)
			for _, a := range gotJoined {
				if a.Room.CreatedBy != other.ID || a.User != ann.ID {
					t.Errorf("attendance %+v", a)
				}
			}
		}
	})

	t.Run("every history method fails with the context's error once it is cancelled", func(t *testing.T) {
		st := open(t)
		host := createMember(t, st, "Host", recordsEpoch)
		r := createRoom(t, st, host, "x", recordsEpoch)
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		checkRefused(t, context.Canceled, map[string]func() error{
			"RecordPresence": func() error {
				return st.RecordPresence(ctx, []Presence{{Room: r.ID, User: host.ID, JoinedAt: recordsEpoch}})
			},
			"RecordPeaks":   func() error { return st.RecordPeaks(ctx, map[RoomID]int{r.ID: 1}) },
			"RoomHistory":   func() error { _, err := st.RoomHistory(ctx, r.ID); return err },
			"RoomsHostedBy": func() error { _, err := st.RoomsHostedBy(ctx, host.ID, Cursor{}, 1); return err },
			"RoomsJoinedBy": func() error { _, err := st.RoomsJoinedBy(ctx, host.ID, Cursor{}, 1); return err },
		})
	})
}

func checkPresence(t *testing.T, got, want []Presence) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d presences %+v, want %d %+v", len(got), got, len(want), want)
	}
	for i := range got {
		g, w := got[i], want[i]
		if g.Room != w.Room || g.User != w.User || !g.JoinedAt.Equal(w.JoinedAt) || !g.OnStageAt.Equal(w.OnStageAt) ||
			g.JoinedAt.Location() != time.UTC {
			t.Errorf("presence %d = %+v, want %+v", i, g, w)
		}
	}
}
