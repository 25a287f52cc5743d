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

// testEventRecords is the contract of EventRecords, part of testRecords.
func testEventRecords(t *testing.T, open func(t *testing.T) recordsUnderTest) {
	t.Run("a created event reads back with its co-hosts in order, scheduled, in UTC at millisecond precision", func(t *testing.T) {
		st := open(t)
		e := newEvent("Launch", recordsEpoch.Add(24*time.Hour+1500*time.Microsecond), NewUserID(), NewUserID())
		mustCreateEvent(t, st, e)
		got, err := st.Event(t.Context(), e.ID, "")
		if err != nil {
			t.Fatal(err)
		}
		want := e
		want.StartsAt = recordsEpoch.Add(24*time.Hour + time.Millisecond)
		checkEvent(t, got, want)
		if got.Status() != EventScheduled {
			t.Errorf("status %s, want scheduled", got.Status())
		}
	})

	t.Run("an unknown event is ErrEventNotFound for every method that names one", func(t *testing.T) {
		st := open(t)
		id := NewEventID()
		calls := map[string]func() error{
			"Event":       func() error { _, err := st.Event(t.Context(), id, ""); return err },
			"UpdateEvent": func() error { _, err := st.UpdateEvent(t.Context(), ScheduledEvent{ID: id, Title: "x"}); return err },
			"CancelEvent": func() error { _, err := st.CancelEvent(t.Context(), id, recordsEpoch); return err },
			"StartEvent": func() error {
				_, err := st.StartEvent(t.Context(), id, NewUserID(), Room{ID: NewRoomID(), CreatedAt: recordsEpoch})
				return err
			},
			"SetRSVP": func() error { return st.SetRSVP(t.Context(), id, NewUserID(), true, recordsEpoch) },
		}
		for name, call := range calls {
			if err := call(); !errors.Is(err, ErrEventNotFound) {
				t.Errorf("%s: err = %v, want ErrEventNotFound", name, err)
			}
		}
	})

	t.Run("an update replaces the title, description, start and co-hosts", func(t *testing.T) {
		st := open(t)
		a, b, c := NewUserID(), NewUserID(), NewUserID()
		e := newEvent("Draft", recordsEpoch.Add(time.Hour), a, b)
		mustCreateEvent(t, st, e)
		e.Title, e.Description, e.StartsAt, e.Cohosts = "Final", "now with more", recordsEpoch.Add(2*time.Hour), []UserID{c, a}
		e.UpdatedAt = recordsEpoch.Add(time.Minute)
		got, err := st.UpdateEvent(t.Context(), e)
		if err != nil {
			t.Fatal(err)
		}
		checkEvent(t, got, e)
		got, _ = st.Event(t.Context(), e.ID, "")
		checkEvent(t, got, e)
	})

	t.Run("a cancelled event stays cancelled: no update, no start, no RSVP, no second cancel", func(t *testing.T) {
		st := open(t)
		e := newEvent("Off", recordsEpoch.Add(time.Hour))
		mustCreateEvent(t, st, e)
		got, err := st.CancelEvent(t.Context(), e.ID, recordsEpoch.Add(time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		if got.Status() != EventCancelled || !got.CancelledAt.Equal(recordsEpoch.Add(time.Minute)) {
			t.Errorf("cancelled event = %+v", got)
		}
		room := Room{ID: NewRoomID(), CreatedAt: recordsEpoch.Add(2 * time.Minute)}
		checkRefused(t, ErrEventCancelled, map[string]func() error{
			"CancelEvent": func() error { _, err := st.CancelEvent(t.Context(), e.ID, recordsEpoch); return err },
			"UpdateEvent": func() error { _, err := st.UpdateEvent(t.Context(), e); return err },
			"StartEvent":  func() error { _, err := st.StartEvent(t.Context(), e.ID, e.Host, room); return err },
			"SetRSVP":     func() error { return st.SetRSVP(t.Context(), e.ID, NewUserID(), true, recordsEpoch) },
		})
		if _, err := st.Room(t.Context(), room.ID); !errors.Is(err, ErrRoomNotFound) {
			t.Errorf("the refused start stored its room: %v", err)
		}
	})

	t.Run("starting an event stores its live room with the event's host, text and co-hosts, once", func(t *testing.T) {
		st := open(t)
		cohost := NewUserID()
		e := newEvent("Go live", recordsEpoch.Add(time.Hour), cohost)
		mustCreateEvent(t, st, e)
		room := Room{ID: NewRoomID(), Title: "ignored", CreatedAt: recordsEpoch.Add(50 * time.Minute)}
		got, err := st.StartEvent(t.Context(), e.ID, cohost, room)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status() != EventLive || got.Room != room.ID || got.StartedBy != cohost || !got.StartedAt.Equal(room.CreatedAt) {
			t.Errorf("started event = %+v", got)
		}
		r, err := st.Room(t.Context(), room.ID)
		if err != nil {
			t.Fatal(err)
		}
		checkRoom(t, r, Room{ID: room.ID, Title: e.Title, Description: e.Description, CreatedBy: e.Host, CreatedAt: room.CreatedAt, Cohosts: []UserID{cohost}})
		if !r.IsHost(cohost) || !r.IsHost(e.Host) || r.IsHost(NewUserID()) {
			t.Error("IsHost does not name exactly the host and the co-host")
		}
		other := Room{ID: NewRoomID(), CreatedAt: recordsEpoch.Add(time.Hour)}
		checkRefused(t, ErrEventStarted, map[string]func() error{
			"StartEvent":  func() error { _, err := st.StartEvent(t.Context(), e.ID, e.Host, other); return err },
			"CancelEvent": func() error { _, err := st.CancelEvent(t.Context(), e.ID, recordsEpoch); return err },
			"UpdateEvent": func() error { _, err := st.UpdateEvent(t.Context(), e); return err },
			"SetRSVP":     func() error { return st.SetRSVP(t.Context(), e.ID, NewUserID(), false, recordsEpoch) },
		})
		if _, err := st.Room(t.Context(), other.ID); !errors.Is(err, ErrRoomNotFound) {
			t.Errorf("the second start stored a room: %v", err)
		}
	})

	t.Run("of eight concurrent starts of one event exactly one opens a room", func(t *testing.T) {
		st := open(t)
		e := newEvent("Rush", recordsEpoch.Add(time.Hour))
		mustCreateEvent(t, st, e)
		var wg sync.WaitGroup
		errs := make(chan error, 8)
		for i := range 8 {
			wg.Go(func() {
				_, err := st.StartEvent(t.Context(), e.ID, e.Host, Room{ID: NewRoomID(), CreatedAt: recordsEpoch.Add(time.Duration(i) * time.Second)})
				errs <- err
			})
		}
		wg.Wait()
		close(errs)
		var ok int
		for err := range errs {
			switch {
			case err == nil:
				ok++
			case !errors.Is(err, ErrEventStarted):
				t.Errorf("StartEvent: %v", err)
			}
		}
		live, err := st.LiveRooms(t.Context(), ListQuery{Limit: 10})
		if ok != 1 || err != nil || len(live) != 1 {
			t.Errorf("%d starts succeeded, %d live rooms (%v); want 1 and 1", ok, len(live), err)
		}
	})

	t.Run("upcoming events are the scheduled ones from a time on, soonest first, paged without gaps", func(t *testing.T) {
		st := open(t)
		from := recordsEpoch.Add(time.Hour)
		mustCreateEvent(t, st, newEvent("too early", from.Add(-time.Millisecond)))
		var want []ScheduledEvent
		for i, n := range []int{3, 1, 3} {
			for range n {
				e := newEvent(fmt.Sprint("at ", i), from.Add(time.Duration(i)*time.Minute))
				mustCreateEvent(t, st, e)
				want = append(want, e)
			}
		}
		cancelled := newEvent("cancelled", from.Add(time.Second))
		started := newEvent("started", from.Add(time.Second))
		mustCreateEvent(t, st, cancelled)
		mustCreateEvent(t, st, started)
		if _, err := st.CancelEvent(t.Context(), cancelled.ID, recordsEpoch); err != nil {
			t.Fatal(err)
		}
		if _, err := st.StartEvent(t.Context(), started.ID, started.Host, Room{ID: NewRoomID(), CreatedAt: recordsEpoch}); err != nil {
			t.Fatal(err)
		}
		slices.SortFunc(want, func(a, b ScheduledEvent) int {
			return cmp.Or(a.StartsAt.Compare(b.StartsAt), cmp.Compare(a.ID, b.ID))
		})
		for _, size := range []int{1, 2, 3, 7, 8} {
			var walked []ScheduledEvent
			q := EventQuery{From: from, Limit: size}
			for page := 0; ; page++ {
				if page > len(want) {
					t.Fatal("paging does not end")
				}
				got, err := st.UpcomingEvents(t.Context(), q)
				if err != nil {
					t.Fatal(err)
				}
				walked = append(walked, got...)
				if len(got) < size {
					break
				}
				q.After = got[len(got)-1].cursor()
			}
			if !slices.Equal(eventIDs(walked), eventIDs(want)) {
				t.Errorf("pages of %d walked %v, want %v", size, eventIDs(walked), eventIDs(want))
			}
		}
		if _, err := st.UpcomingEvents(t.Context(), EventQuery{Limit: 0}); !errors.Is(err, ErrInvalid) {
			t.Errorf("limit 0: err = %v, want ErrInvalid", err)
		}
	})

	t.Run("RSVPs are counted once per member, seen by their viewer, and withdrawn", func(t *testing.T) {
		st := open(t)
		e := newEvent("Party", recordsEpoch.Add(time.Hour))
		mustCreateEvent(t, st, e)
		ann, bob := NewUserID(), NewUserID()
		for _, u := range []UserID{ann, ann, bob} {
			if err := st.SetRSVP(t.Context(), e.ID, u, true, recordsEpoch); err != nil {
				t.Fatal(err)
			}
		}
		checkRSVP := func(what string, viewer UserID, count int, mine bool) {
			t.Helper()
			got, err := st.Event(t.Context(), e.ID, viewer)
			if err != nil {
				t.Fatal(err)
			}
			if got.RSVPs != count || got.RSVPed != mine {
				t.Errorf("%s: %d RSVPs, viewer's %v; want %d, %v", what, got.RSVPs, got.RSVPed, count, mine)
			}
			up, err := st.UpcomingEvents(t.Context(), EventQuery{Limit: 5, Viewer: viewer})
			if err != nil || len(up) != 1 || up[0].RSVPs != count || up[0].RSVPed != mine {
				t.Errorf("%s: upcoming = %+v, %v", what, up, err)
			}
		}
		checkRSVP("ann", ann, 2, true)
		checkRSVP("someone else", NewUserID(), 2, false)
		if err := st.SetRSVP(t.Context(), e.ID, ann, false, recordsEpoch); err != nil {
			t.Fatal(err)
		}
		if err := st.SetRSVP(t.Context(), e.ID, ann, false, recordsEpoch); err != nil {
			t.Fatal(err)
		}
		checkRSVP("ann after withdrawing", ann, 1, false)
	})

	t.Run("a member's hosted events and RSVPs page newest first", func(t *testing.T) {
		st := open(t)
		host, fan := NewUserID(), NewUserID()
		var hosted []ScheduledEvent
		for i := range 5 {
			e := newEvent(fmt.Sprint(i), recordsEpoch.Add(time.Hour))
			e.Host = host
			e.CreatedAt = recordsEpoch.Add(time.Duration(i/2) * time.Second) // ties
			e.UpdatedAt = e.CreatedAt
			mustCreateEvent(t, st, e)
			hosted = append(hosted, e)
			if err := st.SetRSVP(t.Context(), e.ID, fan, true, e.CreatedAt); err != nil {
				t.Fatal(err)
			}
		}
		mustCreateEvent(t, st, newEvent("someone else's", recordsEpoch.Add(time.Hour)))
		slices.SortFunc(hosted, func(a, b ScheduledEvent) int {
			return cmp.Or(b.CreatedAt.Compare(a.CreatedAt), cmp.Compare(b.ID, a.ID))
		})
		var walked []ScheduledEvent
		var after Cursor
		for {
			got, err := st.EventsHostedBy(t.Context(), host, after, 2)
			if err != nil {
				t.Fatal(err)
			}
			walked = append(walked, got...)
			if len(got) < 2 {
				break
			}
			after = Cursor{At: got[1].CreatedAt, ID: string(got[1].ID)}
		}
		if !slices.Equal(eventIDs(walked), eventIDs(hosted)) {
			t.Errorf("hosted = %v, want %v", eventIDs(walked), eventIDs(hosted))
		}
		var rsvps []EventID
		after = Cursor{}
		for {
			got, err := st.RSVPsBy(t.Context(), fan, after, 2)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range got {
				if r.User != fan {
					t.Errorf("RSVP of %s in %s's list", r.User, fan)
				}
				rsvps = append(rsvps, r.Event)
			}
			if len(got) < 2 {
				break
			}
			after = Cursor{At: got[1].CreatedAt, ID: string(got[1].Event)}
		}
		if !slices.Equal(rsvps, eventIDs(hosted)) {
			t.Errorf("RSVPs = %v, want %v", rsvps, eventIDs(hosted))
		}
	})

	t.Run("every event method fails with the context's error once it is cancelled", func(t *testing.T) {
		st := open(t)
		e := newEvent("x", recordsEpoch)
		mustCreateEvent(t, st, e)
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		calls := map[string]func() error{
			"CreateEvent":    func() error { return st.CreateEvent(ctx, newEvent("y", recordsEpoch)) },
			"Event":          func() error { _, err := st.Event(ctx, e.ID, ""); return err },
			"UpdateEvent":    func() error { _, err := st.UpdateEvent(ctx, e); return err },
			"CancelEvent":    func() error { _, err := st.CancelEvent(ctx, e.ID, recordsEpoch); return err },
			"StartEvent":     func() error { _, err := st.StartEvent(ctx, e.ID, e.Host, Room{ID: NewRoomID()}); return err },
			"UpcomingEvents": func() error { _, err := st.UpcomingEvents(ctx, EventQuery{Limit: 1}); return err },
			"SetRSVP":        func() error { return st.SetRSVP(ctx, e.ID, e.Host, true, recordsEpoch) },
			"EventsHostedBy": func() error { _, err := st.EventsHostedBy(ctx, e.Host, Cursor{}, 1); return err },
			"RSVPsBy":        func() error { _, err := st.RSVPsBy(ctx, e.Host, Cursor{}, 1); return err },
		}
		checkRefused(t, context.Canceled, calls)
	})
}

func newEvent(title string, starts time.Time, cohosts ...UserID) ScheduledEvent {
	return ScheduledEvent{
		ID: NewEventID(), Host: NewUserID(), Cohosts: cohosts, Title: title, Description: "about " + title,
		StartsAt: starts, CreatedAt: recordsEpoch, UpdatedAt: recordsEpoch,
	}
}

func mustCreateEvent(t *testing.T, st EventRecords, e ScheduledEvent) {
	t.Helper()
	if err := st.CreateEvent(t.Context(), e); err != nil {
		t.Fatalf("CreateEvent(%q): %v", e.Title, err)
	}
}

// checkEvent compares events by instant, insisting on UTC.
func checkEvent(t *testing.T, got, want ScheduledEvent) {
	t.Helper()
	g, w := got, want
	for _, e := range []*ScheduledEvent{&g, &w} {
		for _, tm := range []*time.Time{&e.StartsAt, &e.CreatedAt, &e.UpdatedAt, &e.CancelledAt, &e.StartedAt} {
			if e == &g && !tm.IsZero() && tm.Location() != time.UTC {
				t.Errorf("event %s: a time in %v, want UTC", got.ID, tm.Location())
			}
			*tm = tm.UTC()
		}
		e.RSVPs, e.RSVPed = 0, false
	}
	if !reflect.DeepEqual(g, w) {
		t.Errorf("event =\n\t%+v\nwant\n\t%+v", got, want)
	}
}

func eventIDs(evs []ScheduledEvent) []EventID {
	ids := make([]EventID, len(evs))
	for i, e := range evs {
		ids[i] = e.ID
	}
	return ids
}

// checkRefused runs each call and checks that it fails with want.
func checkRefused(t *testing.T, want error, calls map[string]func() error) {
	t.Helper()
	for name, call := range calls {
		if err := call(); !errors.Is(err, want) {
			t.Errorf("%s: err = %v, want %v", name, err, want)
		}
	}
}
