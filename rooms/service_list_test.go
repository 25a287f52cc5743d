package rooms

import (
	"encoding/base64"
	"errors"
	"fmt"
	"testing"
	"time"
)

// The Service's list of live rooms: cursors and limits.

func TestServiceLiveRoomsCursorRoundTrip(t *testing.T) {
	f := newServiceFixture(t)
	host, guest := f.member(t, "Host"), f.member(t, "Guest")
	// Seconds 0, 1, 1, 2, 3, 3 with the second room at 3 ended: pages of
	// two split the tie at second 1.
	var rs []Room
	for _, step := range []time.Duration{0, time.Second, 0, time.Second, time.Second, 0} {
		f.clock.Advance(step)
		rs = append(rs, f.room(t, host, fmt.Sprint("room ", len(rs))))
	}
	if _, err := f.EndRoom(t.Context(), host.ID, rs[4].ID); err != nil {
		t.Fatal(err)
	}
	f.join(t, rs[3], guest, NewSessionID())
	tie := []Room{rs[1], rs[2]}
	if tie[0].ID < tie[1].ID {
		tie[0], tie[1] = tie[1], tie[0]
	}
	want := [][]Room{{rs[5], rs[3]}, tie, {rs[0]}}

	cursor := ""
	for i, page := range want {
		got, next, err := f.LiveRooms(t.Context(), 2, cursor)
		if err != nil {
			t.Fatalf("page %d: %v", i, err)
		}
		rooms := make([]Room, len(got))
		for j, v := range got {
			rooms[j] = v.Room
			if wantCounts := (Counts{Listeners: map[bool]int{true: 1}[v.ID == rs[3].ID]}); v.Counts != wantCounts {
				t.Errorf("page %d: %s counts = %+v, want %+v", i, v.Title, v.Counts, wantCounts)
			}
		}
		checkRooms(t, rooms, page)
		if last := i == len(want)-1; last != (next == "") {
			t.Fatalf("page %d: next cursor %q, want one only before the last page", i, next)
		}
		cursor = next
	}
}

func TestServiceLiveRoomsRefusesGarbageCursors(t *testing.T) {
	f := newServiceFixture(t)
	b64 := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	valid := string(NewRoomID())
	tests := []struct{ name, cursor string }{
		{"text that is not base64", "not a cursor!"},
		{"padded base64", base64.URLEncoding.EncodeToString([]byte("2026-03-01T20:00:00Z|" + valid))},
		{"no separator", b64("2026-03-01T20:00:00Z" + valid)},
		{"a time that does not parse", b64("yesterday|" + valid)},
		{"a malformed room ID", b64("2026-03-01T20:00:00Z|rm_nope")},
		{"a user ID in place of a room ID", b64("2026-03-01T20:00:00Z|" + string(NewUserID()))},
	}
	for _, tt := range tests {
		t.Run(tt.name+" is refused", func(t *testing.T) {
			var ve *ValidationError
			if _, _, err := f.LiveRooms(t.Context(), 10, tt.cursor); !errors.As(err, &ve) || ve.Field != "cursor" {
				t.Errorf("err = %v, want a ValidationError on cursor", err)
			}
		})
	}
}

func TestServiceLiveRoomsLimits(t *testing.T) {
	f := newServiceFixture(t)
	host := f.member(t, "Host")
	for range DefaultPageSize + 1 {
		f.room(t, host, "r")
	}
	tests := []struct {
		name     string
		limit    int
		want     int
		wantNext bool
	}{
		{"zero means the default page size", 0, DefaultPageSize, true},
		{"one is the smallest page", 1, 1, true},
		{"the maximum is allowed and here takes all", MaxPageSize, DefaultPageSize + 1, false},
		{"a negative limit is refused", -1, -1, false},
		{"one over the maximum is refused", MaxPageSize + 1, -1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, next, err := f.LiveRooms(t.Context(), tt.limit, "")
			if tt.want < 0 {
				var ve *ValidationError
				if !errors.As(err, &ve) || ve.Field != "limit" {
					t.Errorf("err = %v, want a ValidationError on limit", err)
				}
				return
			}
			if err != nil || len(got) != tt.want || (next != "") != tt.wantNext {
				t.Errorf("got %d rooms, next %q, err %v; want %d rooms, a next cursor: %v", len(got), next, err, tt.want, tt.wantNext)
			}
		})
	}
}

// FuzzDecodeCursor feeds the cursor parser what a client may send: it must
// never panic, refuse garbage as a cursor validation error, and give back
// what encodeCursor put in.
func FuzzDecodeCursor(f *testing.F) {
	f.Add(encodeCursor(time.Date(2026, 3, 1, 20, 0, 0, 123_000_000, time.UTC), NewRoomID()))
	f.Add("")
	f.Add("fA")
	f.Add(base64.RawURLEncoding.EncodeToString([]byte("|")))
	f.Add(base64.RawURLEncoding.EncodeToString([]byte("0000-01-01T00:00:00Z|rm_aaaaaaaaaaaaaaaaaaaaaaaaaa")))
	f.Fuzz(func(t *testing.T, c string) {
		tm, id, err := decodeCursor(c)
		if err != nil {
			var ve *ValidationError
			if !errors.As(err, &ve) || ve.Field != "cursor" {
				t.Fatalf("decodeCursor(%q) err = %v, want a ValidationError on cursor", c, err)
			}
			return
		}
		tm2, id2, err := decodeCursor(encodeCursor(tm, id))
		if err != nil || !tm2.Equal(tm) || id2 != id {
			t.Fatalf("cursor %q decoded to (%v, %s) but re-encoded to (%v, %s), %v", c, tm, id, tm2, id2, err)
		}
	})
}
