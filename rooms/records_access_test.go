package rooms

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"
)

func TestSQLiteAccessRecordsContract(t *testing.T) {
	testAccessRecords(t, func(t *testing.T) RoomRecords {
		return openTestSQLite(t, filepath.Join(t.TempDir(), "parley.db"))
	})
}

func TestPostgresAccessRecordsContract(t *testing.T) {
	testAccessRecords(t, func(t *testing.T) RoomRecords { return openTestPostgres(t) })
}

// testAccessRecords is the contract of AccessRecords, part of every
// RoomRecords: visibility and invitees.
func testAccessRecords(t *testing.T, open func(t *testing.T) RoomRecords) {
	t.Run("a room keeps the visibility it was created with, and a new one when set", func(t *testing.T) {
		st := open(t)
		host := createMember(t, st, "Host", recordsEpoch)
		r := Room{ID: NewRoomID(), Title: "Inner circle", Visibility: VisibilityClosed, CreatedBy: host.ID, CreatedAt: recordsEpoch}
		if err := st.CreateRoom(t.Context(), r); err != nil {
			t.Fatal(err)
		}
		got, err := st.Room(t.Context(), r.ID)
		if err != nil || got.Visibility != VisibilityClosed {
			t.Fatalf("Room = %+v, %v; want closed", got, err)
		}
		for _, v := range []Visibility{VisibilitySocial, VisibilityOpen, VisibilityClosed} {
			if err := st.SetVisibility(t.Context(), r.ID, v); err != nil {
				t.Fatal(err)
			}
			if got, _ := st.Room(t.Context(), r.ID); got.Visibility != v {
				t.Errorf("after SetVisibility(%s) the room reads %s", v, got.Visibility)
			}
		}
		live, err := st.LiveRooms(t.Context(), ListQuery{Limit: 5})
		if err != nil || len(live) != 1 || live[0].Visibility != VisibilityClosed {
			t.Errorf("LiveRooms = %+v, %v; want the room, closed", live, err)
		}
		if _, err := st.EndRoom(t.Context(), r.ID, recordsEpoch.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if err := st.SetVisibility(t.Context(), r.ID, VisibilityOpen); err != nil {
			t.Errorf("SetVisibility of an ended room: %v", err)
		}
	})

	t.Run("setting the visibility of an unknown room, or to nonsense, is refused", func(t *testing.T) {
		st := open(t)
		host := createMember(t, st, "Host", recordsEpoch)
		r := createRoom(t, st, host, "Room", recordsEpoch)
		if err := st.SetVisibility(t.Context(), NewRoomID(), VisibilitySocial); !errors.Is(err, ErrRoomNotFound) {
			t.Errorf("unknown room: %v, want ErrRoomNotFound", err)
		}
		for _, v := range []Visibility{"", "secret", "OPEN"} {
			if err := st.SetVisibility(t.Context(), r.ID, v); !errors.Is(err, ErrInvalid) {
				t.Errorf("visibility %q: %v, want ErrInvalid", v, err)
			}
		}
		if got, _ := st.Room(t.Context(), r.ID); got.Visibility != VisibilityOpen {
			t.Errorf("a refused change left the room %s", got.Visibility)
		}
	})

	t.Run("an invitation is kept once, from its first time, until withdrawn", func(t *testing.T) {
		st := open(t)
		host := createMember(t, st, "Host", recordsEpoch)
		guest := createMember(t, st, "Guest", recordsEpoch)
		r := createRoom(t, st, host, "Room", recordsEpoch)
		other := createRoom(t, st, host, "Other", recordsEpoch)
		inv := Invitee{Room: r.ID, Member: guest.ID, InvitedBy: host.ID, At: recordsEpoch.Add(1500 * time.Microsecond)}
		if err := st.AddInvitee(t.Context(), inv); err != nil {
			t.Fatal(err)
		}
		again := inv
		again.At = recordsEpoch.Add(time.Hour)
		if err := st.AddInvitee(t.Context(), again); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			room RoomID
			who  UserID
			want bool
		}{{r.ID, guest.ID, true}, {other.ID, guest.ID, false}, {r.ID, host.ID, false}} {
			if got, err := st.IsInvitee(t.Context(), c.room, c.who); err != nil || got != c.want {
				t.Errorf("IsInvitee(%s, %s) = %v, %v; want %v", c.room, c.who, got, err, c.want)
			}
		}
		got, err := st.Invitees(t.Context(), r.ID, InviteeCursor{}, 10)
		want := inv
		want.At = recordsEpoch.Add(time.Millisecond)
		if err != nil || len(got) != 1 || got[0] != want {
			t.Errorf("Invitees = %+v, %v; want [%+v]", got, err, want)
		}
		for range 2 {
			if err := st.RemoveInvitee(t.Context(), r.ID, guest.ID); err != nil {
				t.Fatal(err)
			}
		}
		if got, _ := st.IsInvitee(t.Context(), r.ID, guest.ID); got {
			t.Error("still invited after RemoveInvitee")
		}
	})

	t.Run("inviting to an unknown room is ErrRoomNotFound and stores nothing", func(t *testing.T) {
		st := open(t)
		guest := createMember(t, st, "Guest", recordsEpoch)
		ghost := NewRoomID()
		err := st.AddInvitee(t.Context(), Invitee{Room: ghost, Member: guest.ID, InvitedBy: guest.ID, At: recordsEpoch})
		if !errors.Is(err, ErrRoomNotFound) {
			t.Errorf("err = %v, want ErrRoomNotFound", err)
		}
		if got, _ := st.InvitationsOf(t.Context(), guest.ID, InviteeCursor{}, 10); len(got) != 0 {
			t.Errorf("InvitationsOf = %+v", got)
		}
	})

	t.Run("invitees and a member's invitations page newest first through ties", func(t *testing.T) {
		st := open(t)
		host := createMember(t, st, "Host", recordsEpoch)
		fan := createMember(t, st, "Fan", recordsEpoch)
		r := createRoom(t, st, host, "Room", recordsEpoch)
		times := []time.Duration{0, time.Second, time.Second, time.Second, 2 * time.Second}
		for i, d := range times {
			m := createMember(t, st, fmt.Sprint("m", i), recordsEpoch)
			if err := st.AddInvitee(t.Context(), Invitee{Room: r.ID, Member: m.ID, InvitedBy: host.ID, At: recordsEpoch.Add(d)}); err != nil {
				t.Fatal(err)
			}
			other := createRoom(t, st, host, fmt.Sprint("r", i), recordsEpoch)
			if err := st.AddInvitee(t.Context(), Invitee{Room: other.ID, Member: fan.ID, InvitedBy: host.ID, At: recordsEpoch.Add(d)}); err != nil {
				t.Fatal(err)
			}
		}
		for _, l := range []struct {
			name string
			list func(InviteeCursor, int) ([]Invitee, error)
			id   func(Invitee) string
		}{
			{"invitees", func(c InviteeCursor, n int) ([]Invitee, error) { return st.Invitees(t.Context(), r.ID, c, n) },
				func(i Invitee) string { return string(i.Member) }},
			{"invitations", func(c InviteeCursor, n int) ([]Invitee, error) { return st.InvitationsOf(t.Context(), fan.ID, c, n) },
				func(i Invitee) string { return string(i.Room) }},
		} {
			whole, err := l.list(InviteeCursor{}, 100)
			if err != nil || len(whole) != 5 {
				t.Fatalf("%s: %d, %v", l.name, len(whole), err)
			}
			for i := 1; i < len(whole); i++ {
				a, b := whole[i-1], whole[i]
				if a.At.Before(b.At) || (a.At.Equal(b.At) && l.id(a) < l.id(b)) {
					t.Errorf("%s: %d and %d out of order", l.name, i-1, i)
				}
			}
			for _, size := range []int{1, 2, 4} {
				var walked []Invitee
				var c InviteeCursor
				for {
					got, err := l.list(c, size)
					if err != nil {
						t.Fatal(err)
					}
					walked = append(walked, got...)
					if len(got) < size {
						break
					}
					last := got[len(got)-1]
					c = InviteeCursor{At: last.At, ID: l.id(last)}
				}
				if fmt.Sprint(walked) != fmt.Sprint(whole) {
					t.Errorf("%s in pages of %d = %v, want %v", l.name, size, walked, whole)
				}
			}
			if _, err := l.list(InviteeCursor{}, 0); !errors.Is(err, ErrInvalid) {
				t.Errorf("%s with limit 0: %v, want ErrInvalid", l.name, err)
			}
		}
	})

	t.Run("every access method fails with the context's error once it is cancelled", func(t *testing.T) {
		st := open(t)
		host := createMember(t, st, "Host", recordsEpoch)
		r := createRoom(t, st, host, "Room", recordsEpoch)
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		for name, call := range map[string]func() error{
			"SetVisibility": func() error { return st.SetVisibility(ctx, r.ID, VisibilityClosed) },
			"AddInvitee": func() error {
				return st.AddInvitee(ctx, Invitee{Room: r.ID, Member: host.ID, InvitedBy: host.ID, At: recordsEpoch})
			},
			"RemoveInvitee": func() error { return st.RemoveInvitee(ctx, r.ID, host.ID) },
			"IsInvitee":     func() error { _, err := st.IsInvitee(ctx, r.ID, host.ID); return err },
			"Invitees":      func() error { _, err := st.Invitees(ctx, r.ID, InviteeCursor{}, 1); return err },
			"InvitationsOf": func() error { _, err := st.InvitationsOf(ctx, host.ID, InviteeCursor{}, 1); return err },
		} {
			if err := call(); !errors.Is(err, context.Canceled) {
				t.Errorf("%s: err = %v, want context.Canceled", name, err)
			}
		}
	})
}
