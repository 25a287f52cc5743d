package rooms

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

func ptr[T any](v T) *T { return &v }

// at is a start time as a client sends it.
func at(t time.Time) *string { return ptr(t.Format(time.RFC3339Nano)) }

// fieldsOf lists the fields of every ValidationError joined in err.
func fieldsOf(err error) []string {
	var out []string
	var walk func(error)
	walk = func(e error) {
		if ve, ok := e.(*ValidationError); ok {
			out = append(out, ve.Field)
			return
		}
		if j, ok := e.(interface{ Unwrap() []error }); ok {
			for _, c := range j.Unwrap() {
				walk(c)
			}
		}
	}
	walk(err)
	return out
}

// An event from scheduling to its live room: co-hosts, the upcoming list,
// RSVPs, edits by the host, and a start by a co-host that opens a room
// where host and co-hosts are moderators.
func TestEventLifecycle(t *testing.T) {
	f := newDataFixture(t, nil)
	host, co, fan, other := f.member(t, "Host"), f.member(t, "Co"), f.member(t, "Fan"), f.member(t, "Other")
	starts := f.ms().Add(24 * time.Hour)
	e, err := f.CreateEvent(t.Context(), host.ID, EventInput{
		Title: ptr(" Launch day "), Description: ptr("We ship\nit"), StartsAt: at(starts.Add(500 * time.Microsecond)),
		Cohosts: ptr([]string{string(co.ID)}),
	})
	if err != nil {
		t.Fatal(err)
	}
	if e.Title != "Launch day" || !e.StartsAt.Equal(starts) || !slices.Equal(e.Cohosts, []UserID{co.ID}) ||
		e.Names[co.ID] != "Co" || e.Names[host.ID] != "Host" || e.Status() != EventScheduled {
		t.Errorf("created event = %+v", e)
	}

	// Listed for everyone, soonest first, with each viewer's RSVP.
	later, err := f.CreateEvent(t.Context(), other.ID, EventInput{Title: ptr("Later"), StartsAt: at(starts.Add(time.Hour))})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.RSVP(t.Context(), fan.ID, e.ID, true); err != nil {
		t.Fatal(err)
	}
	up, next, err := f.UpcomingEvents(t.Context(), fan.ID, 1, "")
	if err != nil || len(up) != 1 || up[0].ID != e.ID || !up[0].RSVPed || up[0].RSVPs != 1 || next == "" {
		t.Fatalf("first page = %+v, %q, %v", up, next, err)
	}
	up, next, err = f.UpcomingEvents(t.Context(), fan.ID, 1, next)
	if err != nil || len(up) != 1 || up[0].ID != later.ID || up[0].RSVPed || next != "" {
		t.Fatalf("second page = %+v, %q, %v", up, next, err)
	}

	// Only the host edits and cancels; only hosts start.
	if _, err := f.UpdateEvent(t.Context(), co.ID, e.ID, EventInput{Title: ptr("Mine now")}); !errors.Is(err, ErrForbidden) {
		t.Errorf("a co-host editing: err = %v, want ErrForbidden", err)
	}
	if _, err := f.CancelEvent(t.Context(), fan.ID, e.ID); !errors.Is(err, ErrForbidden) {
		t.Errorf("a fan cancelling: err = %v, want ErrForbidden", err)
	}
	if _, _, err := f.StartEvent(t.Context(), fan.ID, e.ID); !errors.Is(err, ErrForbidden) {
		t.Errorf("a fan starting: err = %v, want ErrForbidden", err)
	}
	edited, err := f.UpdateEvent(t.Context(), host.ID, e.ID, EventInput{Description: ptr("Shipped"), Cohosts: ptr([]string{string(co.ID), string(other.ID)})})
	if err != nil {
		t.Fatal(err)
	}
	if edited.Title != "Launch day" || edited.Description != "Shipped" || len(edited.Cohosts) != 2 || edited.RSVPs != 1 {
		t.Errorf("edited event = %+v; want the title kept and the rest changed", edited)
	}

	// A co-host starts it: a live room whose creator is the host.
	f.clock.Advance(time.Minute)
	started, room, err := f.StartEvent(t.Context(), co.ID, e.ID)
	if err != nil {
		t.Fatal(err)
	}
	if started.Status() != EventLive || started.Room != room.ID || started.StartedBy != co.ID || room.CreatedBy != host.ID ||
		room.Title != "Launch day" || room.HostName != "Host" || !slices.Equal(room.Cohosts, []UserID{co.ID, other.ID}) {
		t.Errorf("started = %+v, room %+v", started, room)
	}
	for _, m := range []Member{co, fan, host, other} {
		j := f.join(t, room, m, NewSessionID())
		want := RoleModerator
		if m == fan {
			want = RoleListener
		}
		if j.Self.Role != want {
			t.Errorf("%s joined the event's room as %s, want %s", m.DisplayName, j.Self.Role, want)
		}
	}
	if up, _, _ := f.UpcomingEvents(t.Context(), fan.ID, 10, ""); len(up) != 1 || up[0].ID != later.ID {
		t.Errorf("upcoming after the start = %+v, want only the later event", up)
	}
	for name, call := range map[string]func() error{
		"a second start": func() error { _, _, err := f.StartEvent(t.Context(), host.ID, e.ID); return err },
		"an edit": func() error {
			_, err := f.UpdateEvent(t.Context(), host.ID, e.ID, EventInput{Title: ptr("x")})
			return err
		},
		"a cancel": func() error { _, err := f.CancelEvent(t.Context(), host.ID, e.ID); return err },
		"an RSVP":  func() error { _, err := f.RSVP(t.Context(), other.ID, e.ID, true); return err },
	} {
		if err := call(); !errors.Is(err, ErrEventStarted) {
			t.Errorf("%s after the start: err = %v, want ErrEventStarted", name, err)
		}
	}

	// The other event is cancelled, and stays so.
	cancelled, err := f.CancelEvent(t.Context(), other.ID, later.ID)
	if err != nil || cancelled.Status() != EventCancelled {
		t.Fatalf("cancel = %+v, %v", cancelled, err)
	}
	if _, _, err := f.StartEvent(t.Context(), other.ID, later.ID); !errors.Is(err, ErrEventCancelled) {
		t.Errorf("starting a cancelled event: err = %v, want ErrEventCancelled", err)
	}
	if _, err := f.Event(t.Context(), fan.ID, NewEventID()); !errors.Is(err, ErrEventNotFound) {
		t.Errorf("an unknown event: err = %v, want ErrEventNotFound", err)
	}
}

// A restart opens an event's room again with its co-hosts.
func TestEventRoomKeepsItsCohostsAfterARestart(t *testing.T) {
	f := newDataFixture(t, nil)
	host, co := f.member(t, "Host"), f.member(t, "Co")
	e, err := f.CreateEvent(t.Context(), host.ID, EventInput{Title: ptr("Long"), StartsAt: at(f.ms().Add(time.Hour)), Cohosts: ptr([]string{string(co.ID)})})
	if err != nil {
		t.Fatal(err)
	}
	_, room, err := f.StartEvent(t.Context(), host.ID, e.ID)
	if err != nil {
		t.Fatal(err)
	}
	// A new process on the same database: its live store is empty.
	bus := NewMemoryBus()
	t.Cleanup(func() { _ = bus.Close() })
	again := NewService(ServiceParams{Rooms: f.db, Members: f.members, Live: NewMemoryLive(bus), Bus: bus, Limits: serviceLimits, Now: f.clock.Now, Data: f.db})
	if err := again.Recover(t.Context()); err != nil {
		t.Fatal(err)
	}
	j, err := again.Join(t.Context(), room.ID, co.ID, NewSessionID())
	if err != nil || j.Self.Role != RoleModerator {
		t.Errorf("the co-host after a restart: %+v, %v; want a moderator", j.Self, err)
	}
}

func TestEventInputIsCheckedWhole(t *testing.T) {
	f := newDataFixture(t, nil)
	host, co := f.member(t, "Host"), f.member(t, "Co")
	now := f.ms()
	for name, c := range map[string]struct {
		in     EventInput
		fields []string
	}{
		"nothing": {EventInput{}, []string{"title", "starts_at"}},
		"every field wrong": {EventInput{
			Title: ptr(""), Description: ptr(strings.Repeat("d", MaxDescriptionLen+1)), StartsAt: at(now.Add(-time.Minute)),
			Cohosts: ptr([]string{"usr_nope", string(host.ID), string(co.ID), string(co.ID), string(NewUserID())}),
		}, []string{"title", "description", "starts_at", "cohosts[0]", "cohosts[1]", "cohosts[3]", "cohosts[4]"}},
		"a start too far ahead":   {EventInput{Title: ptr("t"), StartsAt: at(now.Add(MaxEventLead + time.Hour))}, []string{"starts_at"}},
		"a start now":             {EventInput{Title: ptr("t"), StartsAt: at(now)}, []string{"starts_at"}},
		"a zero start":            {EventInput{Title: ptr("t"), StartsAt: at(time.Time{})}, []string{"starts_at"}},
		"a start that is no time": {EventInput{Title: ptr("t"), StartsAt: ptr("tomorrow")}, []string{"starts_at"}},
		"a title of two lines":    {EventInput{Title: ptr("a\nb"), StartsAt: at(now.Add(time.Hour))}, []string{"title"}},
		"too many co-hosts":       {EventInput{Title: ptr("t"), StartsAt: at(now.Add(time.Hour)), Cohosts: ptr(make([]string, MaxCohosts+1))}, []string{"cohosts"}},
	} {
		_, err := f.CreateEvent(t.Context(), host.ID, c.in)
		if !errors.Is(err, ErrInvalid) || !slices.Equal(fieldsOf(err), c.fields) {
			t.Errorf("%s: err = %v (fields %v), want fields %v", name, err, fieldsOf(err), c.fields)
		}
	}
	if up, _, _ := f.UpcomingEvents(t.Context(), host.ID, 0, ""); len(up) != 0 {
		t.Errorf("refused events were stored: %+v", up)
	}
	for name, cursor := range map[string]string{"forged": "forged", "base64 of junk": "anVuaw"} {
		var ve *ValidationError
		if _, _, err := f.UpcomingEvents(t.Context(), host.ID, 0, cursor); !errors.As(err, &ve) || ve.Field != "cursor" {
			t.Errorf("a %s cursor: err = %v, want a cursor ValidationError", name, err)
		}
	}
}

// followDirectory is an Audience in memory: follows, and no blocks.
type followDirectory struct {
	mu      sync.Mutex // guards follows
	follows map[[2]UserID]bool
}

func (d *followDirectory) Followed(_ context.Context, follower UserID, among []UserID) ([]UserID, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []UserID
	for _, u := range among {
		if d.follows[[2]UserID{follower, u}] {
			out = append(out, u)
		}
	}
	return out, nil
}

func (d *followDirectory) Blockers(context.Context, UserID, []UserID) ([]UserID, error) {
	return nil, nil
}

// With follows, only followers of a host or co-host RSVP; anyone may
// withdraw.
func TestRSVPIsForFollowersWhenFollowsAreKnown(t *testing.T) {
	follows := &followDirectory{follows: map[[2]UserID]bool{}}
	f := newDataFixture(t, func(p *ServiceParams) { p.Audience = follows })
	host, co, fan, stranger := f.member(t, "Host"), f.member(t, "Co"), f.member(t, "Fan"), f.member(t, "Stranger")
	follows.follows[[2]UserID{fan.ID, co.ID}] = true
	e, err := f.CreateEvent(t.Context(), host.ID, EventInput{Title: ptr("Fans only"), StartsAt: at(f.ms().Add(time.Hour)), Cohosts: ptr([]string{string(co.ID)})})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.RSVP(t.Context(), stranger.ID, e.ID, true); !errors.Is(err, ErrForbidden) {
		t.Errorf("a stranger's RSVP: err = %v, want ErrForbidden", err)
	}
	for _, m := range []Member{fan, co} {
		v, err := f.RSVP(t.Context(), m.ID, e.ID, true)
		if err != nil || !v.RSVPed {
			t.Errorf("%s's RSVP: %+v, %v", m.DisplayName, v, err)
		}
	}
	if _, err := f.RSVP(t.Context(), stranger.ID, e.ID, false); err != nil {
		t.Errorf("withdrawing an RSVP never made: %v", err)
	}
	v, err := f.RSVP(t.Context(), fan.ID, e.ID, false)
	if err != nil || v.RSVPed || v.RSVPs != 1 {
		t.Errorf("after the fan withdrew: %+v, %v; want 1 RSVP, not theirs", v, err)
	}
}
