package rooms

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley-audio/parley/internal/testenv"
)

// serviceLimits are short enough to read in a test: a stage of three.
var serviceLimits = Limits{StageCap: 3, ReconnectGrace: 30 * time.Second, LeaseTTL: 30 * time.Second, EmptyStageGrace: 2 * time.Minute}

type serviceFixture struct {
	*Service
	db      *SQLStore
	members *memberDirectory
	bus     *MemoryBus
	clock   *testenv.Clock
}

// newServiceFixture wires the service over the real default stores.
func newServiceFixture(t *testing.T) serviceFixture {
	t.Helper()
	db := openTestSQLite(t, filepath.Join(t.TempDir(), "parley.db"))
	// Sub-millisecond digits, so that truncation is visible.
	c := testenv.NewClock(time.Date(2026, 3, 1, 20, 0, 0, 123_456_789, time.UTC))
	return newServiceOn(t, db, newMemberDirectory(), c)
}

// newServiceOn is a service process over db: its own live store and bus,
// as after a restart.
func newServiceOn(t *testing.T, db *SQLStore, members *memberDirectory, c *testenv.Clock) serviceFixture {
	t.Helper()
	bus := NewMemoryBus()
	t.Cleanup(func() {
		if err := bus.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	svc := NewService(ServiceParams{Rooms: db, Members: members, Live: NewMemoryLive(bus), Bus: bus, Limits: serviceLimits, Now: c.Now})
	return serviceFixture{Service: svc, db: db, members: members, bus: bus, clock: c}
}

// ms is the clock's time as the service stores it.
func (f serviceFixture) ms() time.Time { return f.clock.Now().UTC().Truncate(time.Millisecond) }

func (f serviceFixture) member(t *testing.T, name string) Member {
	t.Helper()
	m, err := f.CreateMember(t.Context(), name)
	if err != nil {
		t.Fatalf("CreateMember(%q): %v", name, err)
	}
	return m
}

func (f serviceFixture) room(t *testing.T, host Member, title string) Room {
	t.Helper()
	r, err := f.CreateRoom(t.Context(), host.ID, NewRoom{Title: title, Description: ""})
	if err != nil {
		t.Fatalf("CreateRoom(%q): %v", title, err)
	}
	return r
}

func (f serviceFixture) join(t *testing.T, r Room, m Member, s SessionID) Joined {
	t.Helper()
	j, err := f.Join(t.Context(), r.ID, m.ID, s)
	if err != nil {
		t.Fatalf("Join(%s, %s): %v", r.Title, m.DisplayName, err)
	}
	return j
}

func (f serviceFixture) act(t *testing.T, r Room, a Action) {
	t.Helper()
	if err := f.Act(t.Context(), r.ID, a); err != nil {
		t.Fatalf("%s by %s in %s: %v", a.Kind, a.Actor, r.Title, err)
	}
}

// speaker brings m on stage in r, invited by host.
func (f serviceFixture) speaker(t *testing.T, r Room, host, m Member) {
	t.Helper()
	f.act(t, r, Action{Kind: ActInvite, Actor: host.ID, Target: m.ID})
	f.act(t, r, Action{Kind: ActAcceptInvite, Actor: m.ID})
}

// watch records the room's events from now on.
func (f serviceFixture) watch(t *testing.T, r Room) *eventLog {
	t.Helper()
	return watchRoom(t, f.bus, r.ID)
}

func (f serviceFixture) snapshot(t *testing.T, r Room) Snapshot {
	t.Helper()
	s, err := f.Snapshot(t.Context(), r.ID)
	if err != nil {
		t.Fatalf("Snapshot(%s): %v", r.Title, err)
	}
	return s
}

// sameRecords compares participants field by field, times by instant.
func sameRecords(a, b []Participant) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := a[i], b[i]
		if x.UserID != y.UserID || x.DisplayName != y.DisplayName || x.Role != y.Role || !x.JoinedAt.Equal(y.JoinedAt) ||
			x.Muted != y.Muted || x.Invited != y.Invited || x.HandSeq != y.HandSeq || !x.StageSince.Equal(y.StageSince) ||
			x.Session != y.Session {
			return false
		}
	}
	return true
}

func checkRecords(t *testing.T, what string, got, want []Participant) {
	t.Helper()
	if !sameRecords(got, want) {
		t.Errorf("%s =\n\t%+v\nwant\n\t%+v", what, got, want)
	}
}

// eventTypes lists the events' types and causes, for short comparisons.
func eventTypes(evs []Event) []string {
	out := make([]string, len(evs))
	for i, ev := range evs {
		out[i] = fmt.Sprintf("%d %s", ev.Seq, ev.Type)
		if ev.Cause != "" {
			out[i] += " " + string(ev.Cause)
		}
		if ev.Reason != "" {
			out[i] += " " + ev.Reason
		}
	}
	return out
}

func checkEventTypes(t *testing.T, what string, got []Event, want ...string) {
	t.Helper()
	if g := eventTypes(got); strings.Join(g, "; ") != strings.Join(want, "; ") {
		t.Errorf("%s: events = %q, want %q", what, g, want)
	}
}

func TestServiceMembersAndRooms(t *testing.T) {
	f := newServiceFixture(t)
	wantTime := time.Date(2026, 3, 1, 20, 0, 0, 123_000_000, time.UTC)
	m := f.member(t, "  Ada  ")
	if m.DisplayName != "Ada" || !m.CreatedAt.Equal(wantTime) || !userIDShape.MatchString(string(m.ID)) {
		t.Errorf("CreateMember = %+v; want Ada at %v with a fresh ID", m, wantTime)
	}
	r, err := f.CreateRoom(t.Context(), m.ID, NewRoom{Title: " Late show ", Description: "  all\nwelcome "})
	if err != nil {
		t.Fatal(err)
	}
	if r.Title != "Late show" || r.Description != "all\nwelcome" || r.HostName != "Ada" || r.CreatedBy != m.ID || !r.CreatedAt.Equal(wantTime) {
		t.Errorf("CreateRoom = %+v", r)
	}
	v, err := f.Room(t.Context(), r.ID)
	if err != nil {
		t.Fatal(err)
	}
	checkRoom(t, v.Room, r)
	if _, err := f.CreateRoom(t.Context(), NewUserID(), NewRoom{Title: "Nobody's", Description: ""}); !errors.Is(err, ErrMemberNotFound) {
		t.Errorf("CreateRoom by an unknown member: err = %v, want ErrMemberNotFound", err)
	}
	if _, err := f.Room(t.Context(), NewRoomID()); !errors.Is(err, ErrRoomNotFound) {
		t.Errorf("Room of an unknown ID: err = %v, want ErrRoomNotFound", err)
	}
	if _, err := f.Member(t.Context(), NewUserID()); !errors.Is(err, ErrMemberNotFound) {
		t.Errorf("Member of an unknown ID: err = %v, want ErrMemberNotFound", err)
	}
}

func TestServiceCreateRoomOpensTheLiveState(t *testing.T) {
	f := newServiceFixture(t)
	r := f.room(t, f.member(t, "Host"), "Fresh")
	if s := f.snapshot(t, r); len(s.Participants) != 0 || s.Seq != 0 || !s.HandsEnabled {
		t.Errorf("a new room's snapshot = %+v; want nobody, seq 0, hands on", s)
	}
}

func TestServiceCreatorJoinsAsModeratorAndOthersAsListeners(t *testing.T) {
	f := newServiceFixture(t)
	host, guest := f.member(t, "Host"), f.member(t, "Guest")
	r := f.room(t, host, "Roles")
	hs := NewSessionID()
	hj := f.join(t, r, host, hs)
	wantHost := Participant{UserID: host.ID, DisplayName: "Host", Role: RoleModerator, JoinedAt: f.ms(), StageSince: f.ms(), Session: hs}
	f.clock.Advance(time.Minute)
	gs := NewSessionID()
	gj := f.join(t, r, guest, gs)
	wantGuest := Participant{UserID: guest.ID, DisplayName: "Guest", Role: RoleListener, JoinedAt: f.ms(), Session: gs}

	checkRecords(t, "the host", []Participant{hj.Self}, []Participant{wantHost})
	checkRecords(t, "the guest", []Participant{gj.Self}, []Participant{wantGuest})
	checkRecords(t, "the guest's snapshot", gj.Participants, []Participant{wantHost, wantGuest})
	if gj.Seq != 2 || gj.Room.ID != r.ID || !gj.HandsEnabled {
		t.Errorf("Joined = seq %d, room %s, hands %t; want 2, %s, true", gj.Seq, gj.Room.ID, gj.HandsEnabled, r.ID)
	}
	v, err := f.Room(t.Context(), r.ID)
	if err != nil || v.Counts != (Counts{Speakers: 1, Listeners: 1}) {
		t.Errorf("Room counts = %+v, %v; want 1 speaker and 1 listener", v.Counts, err)
	}
}

func TestServiceJoinRefusals(t *testing.T) {
	f := newServiceFixture(t)
	host, troll := f.member(t, "Host"), f.member(t, "Troll")
	live := f.room(t, host, "Live")
	ended := f.room(t, host, "Ended")
	if _, err := f.EndRoom(t.Context(), host.ID, ended.ID); err != nil {
		t.Fatal(err)
	}
	f.join(t, live, host, NewSessionID())
	f.join(t, live, troll, NewSessionID())
	f.act(t, live, Action{Kind: ActRemove, Actor: host.ID, Target: troll.ID, Block: true})
	tests := []struct {
		name string
		room RoomID
		user UserID
		want error
	}{
		{"joining an unknown room is ErrRoomNotFound", NewRoomID(), host.ID, ErrRoomNotFound},
		{"joining an ended room is ErrRoomEnded, even for its creator", ended.ID, host.ID, ErrRoomEnded},
		{"an unknown member cannot join", live.ID, NewUserID(), ErrMemberNotFound},
		{"a member removed with a block cannot join again", live.ID, troll.ID, ErrBlocked},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := f.Join(t.Context(), tt.room, tt.user, NewSessionID()); !errors.Is(err, tt.want) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestServiceActAppliesTheRules(t *testing.T) {
	f := newServiceFixture(t)
	host, guest, stranger := f.member(t, "Host"), f.member(t, "Guest"), f.member(t, "Stranger")
	r := f.room(t, host, "Stage")
	f.join(t, r, host, NewSessionID())
	f.join(t, r, guest, NewSessionID())
	heard := f.watch(t, r)

	f.act(t, r, Action{Kind: ActRaiseHand, Actor: guest.ID})
	f.speaker(t, r, host, guest)
	f.act(t, r, Action{Kind: ActMute, Actor: host.ID, Target: guest.ID})
	checkEventTypes(t, "a hand, an invitation, a new speaker, a mute", heard.take(),
		"3 participant_updated hand_raised", "4 participant_updated invited",
		"5 participant_updated invite_accepted", "6 participant_updated muted")
	s := f.snapshot(t, r)
	if g := s.Participants[1]; g.Role != RoleSpeaker || !g.Muted || g.HandSeq != 0 || !g.StageSince.Equal(f.ms()) {
		t.Errorf("the guest is %+v; want a muted speaker without a hand, on stage since %v", g, f.ms())
	}

	tests := []struct {
		name string
		room RoomID
		a    Action
		want error
	}{
		{"a speaker may not remove the creator", r.ID, Action{Kind: ActRemove, Actor: guest.ID, Target: host.ID}, ErrForbidden},
		{"a moderator may not unmute someone else", r.ID, Action{Kind: ActUnmute, Actor: host.ID, Target: guest.ID}, ErrForbidden},
		{"a member not in the room may not act in it", r.ID, Action{Kind: ActRaiseHand, Actor: stranger.ID}, ErrNotParticipant},
		{"an action in an unknown room is ErrRoomNotFound", NewRoomID(), Action{Kind: ActRaiseHand, Actor: guest.ID}, ErrRoomNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := f.Act(t.Context(), tt.room, tt.a); !errors.Is(err, tt.want) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
			checkRecords(t, "after a refusal", f.snapshot(t, r).Participants, s.Participants)
			checkEventTypes(t, "after a refusal", heard.take())
		})
	}
}

func TestServiceActValidation(t *testing.T) {
	f := newServiceFixture(t)
	host, guest := f.member(t, "Host"), f.member(t, "Guest")
	r := f.room(t, host, "Strict")
	f.join(t, r, host, NewSessionID())
	f.join(t, r, guest, NewSessionID())
	heard := f.watch(t, r)
	tests := []struct {
		name  string
		a     Action
		field string
	}{
		{"an unknown action is refused on action", Action{Kind: "dance", Actor: host.ID}, "action"},
		{"an empty action is refused on action", Action{Actor: host.ID}, "action"},
	}
	for _, k := range Actions {
		if k.NeedsTarget() {
			tests = append(tests, struct {
				name  string
				a     Action
				field string
			}{string(k) + " without a target is refused on user_id", Action{Kind: k, Actor: host.ID}, "user_id"})
		}
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ve *ValidationError
			if err := f.Act(t.Context(), r.ID, tt.a); !errors.As(err, &ve) || ve.Field != tt.field {
				t.Errorf("err = %v, want a ValidationError on %s", err, tt.field)
			}
		})
	}
	if s := f.snapshot(t, r); s.Seq != 2 {
		t.Errorf("refused actions moved seq to %d", s.Seq)
	}
	checkEventTypes(t, "refused actions", heard.take())
}

func TestServiceEndRoom(t *testing.T) {
	// Each case has a room with its creator, a moderator, a speaker and a
	// listener in it, and someone who is not.
	type cast struct{ host, mod, speaker, listener, outsider Member }
	setUp := func(t *testing.T, f serviceFixture) (Room, cast) {
		c := cast{f.member(t, "Host"), f.member(t, "Mod"), f.member(t, "Speaker"), f.member(t, "Listener"), f.member(t, "Outsider")}
		r := f.room(t, c.host, "Ends")
		hs := NewSessionID()
		for _, m := range []Member{c.host, c.mod, c.speaker, c.listener} {
			s := NewSessionID()
			if m == c.host {
				s = hs
			}
			f.join(t, r, m, s)
		}
		f.speaker(t, r, c.host, c.mod)
		f.act(t, r, Action{Kind: ActMakeModerator, Actor: c.host.ID, Target: c.mod.ID})
		f.speaker(t, r, c.host, c.speaker)
		// The creator ends it from outside: they have left.
		if err := f.Leave(t.Context(), r.ID, c.host.ID, hs, ReasonLeft); err != nil {
			t.Fatal(err)
		}
		return r, c
	}
	tests := []struct {
		name  string
		actor func(cast) Member
		want  error
	}{
		{"the creator may end it from outside the room", func(c cast) Member { return c.host }, nil},
		{"a moderator in the room may end it", func(c cast) Member { return c.mod }, nil},
		{"a speaker may not", func(c cast) Member { return c.speaker }, ErrForbidden},
		{"a listener may not", func(c cast) Member { return c.listener }, ErrForbidden},
		{"a member not in the room may not", func(c cast) Member { return c.outsider }, ErrForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newServiceFixture(t)
			r, c := setUp(t, f)
			before := f.snapshot(t, r)
			heard := f.watch(t, r)
			f.clock.Advance(time.Hour)

			ended, err := f.EndRoom(t.Context(), tt.actor(c).ID, r.ID)
			if tt.want != nil {
				if !errors.Is(err, tt.want) {
					t.Fatalf("err = %v, want %v", err, tt.want)
				}
				if v, err := f.Room(t.Context(), r.ID); err != nil || !v.Live() {
					t.Errorf("after a refused end the record is %+v, %v; want it live", v.Room, err)
				}
				after := f.snapshot(t, r)
				checkRecords(t, "after a refused end", after.Participants, before.Participants)
				if after.Seq != before.Seq {
					t.Errorf("a refused end moved seq %d to %d", before.Seq, after.Seq)
				}
				checkEventTypes(t, "a refused end", heard.take())
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !ended.EndedAt.Equal(f.ms()) || ended.HostName != "Host" {
				t.Errorf("EndRoom = %+v; want ended at %v", ended, f.ms())
			}
			evs := heard.take()
			checkEventTypes(t, "the end", evs, fmt.Sprintf("%d room_ended %s", before.Seq+1, ReasonEndedByHost))
			if len(evs) == 1 && (!evs[0].At.Equal(f.ms()) || evs[0].Room != r.ID) {
				t.Errorf("room_ended = %+v; want it at %v in room %s", evs[0], f.ms(), r.ID)
			}
			if ps, seq, err := f.Participants(t.Context(), r.ID); len(ps) != 0 || seq != 0 || err != nil {
				t.Errorf("Participants after the end = %d at seq %d, %v; want none", len(ps), seq, err)
			}
			if v, err := f.Room(t.Context(), r.ID); err != nil || v.Live() || v.Counts != (Counts{}) {
				t.Errorf("Room after the end = %+v, %v", v, err)
			}
			if _, err := f.Join(t.Context(), r.ID, c.listener.ID, NewSessionID()); !errors.Is(err, ErrRoomEnded) {
				t.Errorf("a join after the end: err = %v, want ErrRoomEnded", err)
			}
			if _, err := f.EndRoom(t.Context(), c.host.ID, r.ID); !errors.Is(err, ErrRoomEnded) {
				t.Errorf("a second EndRoom: err = %v, want ErrRoomEnded", err)
			}
			checkEventTypes(t, "after the end", heard.take())
		})
	}
}

func TestServiceHandovers(t *testing.T) {
	f := newServiceFixture(t)
	host, guest := f.member(t, "Host"), f.member(t, "Guest")
	r := f.room(t, host, "Flaky wifi")
	f.join(t, r, host, NewSessionID())
	oldS, newS := NewSessionID(), NewSessionID()
	first := f.join(t, r, guest, oldS)
	f.act(t, r, Action{Kind: ActRaiseHand, Actor: guest.ID})
	first.Self.HandSeq = 3
	heard := f.watch(t, r)
	f.clock.Advance(time.Minute)

	t.Run("a rejoin publishes session_replaced with the old session and keeps the hand", func(t *testing.T) {
		j := f.join(t, r, guest, newS)
		want := first.Self
		want.Session = newS
		checkRecords(t, "the guest back", []Participant{j.Self}, []Participant{want})
		evs := heard.take()
		checkEventTypes(t, "the rejoin", evs, "0 session_replaced "+ReasonReplaced)
		if len(evs) == 1 && (evs[0].Participant.UserID != guest.ID || evs[0].Participant.Session != oldS) {
			t.Errorf("session_replaced names %s/%s; want the guest's old session", evs[0].Participant.UserID, evs[0].Participant.Session)
		}
		if j.Seq != 3 {
			t.Errorf("seq after the handover = %d, want it unchanged at 3", j.Seq)
		}
	})
	t.Run("a leave by the replaced session publishes nothing and keeps the place", func(t *testing.T) {
		if err := f.Leave(t.Context(), r.ID, guest.ID, oldS, ReasonLeft); err != nil {
			t.Fatal(err)
		}
		checkEventTypes(t, "the stale leave", heard.take())
		if v, _ := f.Room(t.Context(), r.ID); v.Listeners != 1 {
			t.Errorf("listeners = %d after the stale leave, want 1", v.Listeners)
		}
	})
	t.Run("a leave by the current session publishes participant_left", func(t *testing.T) {
		if err := f.Leave(t.Context(), r.ID, guest.ID, newS, ReasonLeft); err != nil {
			t.Fatal(err)
		}
		evs := heard.take()
		checkEventTypes(t, "the leave", evs, "4 participant_left "+ReasonLeft)
		if len(evs) == 1 && (evs[0].Participant.UserID != guest.ID || evs[0].Participant.Session != newS || !evs[0].Audience) {
			t.Errorf("participant_left = %+v; want the guest's new session, for the audience", evs[0])
		}
	})
}

func TestServiceRepeatJoinOnTheSameSessionPublishesNothing(t *testing.T) {
	// A session that joins again (a retried join after a failed leave)
	// still holds its place: nobody was replaced, so nobody may be told to
	// disconnect, least of all that very session.
	f := newServiceFixture(t)
	host := f.member(t, "Host")
	r := f.room(t, host, "Retry")
	s := NewSessionID()
	first := f.join(t, r, host, s)
	heard := f.watch(t, r)
	again := f.join(t, r, host, s)
	checkEventTypes(t, "a repeat join", heard.take())
	if again.Seq != first.Seq || again.Self.Session != s || again.Self.Role != RoleModerator {
		t.Errorf("repeat join = %+v; want the same place at seq %d", again, first.Seq)
	}
}

func TestServiceEventsArriveInSeqOrderWithoutGaps(t *testing.T) {
	f := newServiceFixture(t)
	host := f.member(t, "Host")
	r := f.room(t, host, "Crowd")
	f.join(t, r, host, NewSessionID())
	const members, rounds = 8, 25
	ms := make([]Member, members)
	for i := range ms {
		ms[i] = f.member(t, fmt.Sprint("m", i))
	}
	heard := f.watch(t, r)
	var wg sync.WaitGroup
	for _, m := range ms {
		wg.Go(func() {
			for i := range rounds {
				s := NewSessionID()
				if _, err := f.Join(t.Context(), r.ID, m.ID, s); err != nil {
					t.Errorf("Join: %v", err)
					return
				}
				if err := f.Act(t.Context(), r.ID, Action{Kind: ActRaiseHand, Actor: m.ID}); err != nil {
					t.Errorf("raise a hand: %v", err)
					return
				}
				if i%4 == 3 {
					continue // stay, so that the next join is a handover
				}
				if err := f.Leave(t.Context(), r.ID, m.ID, s, ReasonLeft); err != nil {
					t.Errorf("Leave: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
	next := uint64(2)
	var replaced int
	for _, ev := range heard.all() {
		if ev.Type == EventSessionReplaced {
			replaced++ // changes nothing others see, so carries no seq
			continue
		}
		if ev.Seq != next {
			t.Fatalf("event %s has seq %d, want %d: out of order or a gap", ev.Type, ev.Seq, next)
		}
		next++
	}
	if s := f.snapshot(t, r); next-1 != s.Seq || replaced == 0 {
		t.Errorf("heard seqs up to %d with %d handovers; the room is at seq %d", next-1, replaced, s.Seq)
	}
}

func TestServiceLimitsDefaultToTheDocumentedOnes(t *testing.T) {
	want := Limits{StageCap: 20, ReconnectGrace: 30 * time.Second, LeaseTTL: 30 * time.Second, EmptyStageGrace: 2 * time.Minute}
	if got := DefaultLimits(); got != want {
		t.Errorf("DefaultLimits() = %+v, want docs/stage.md's %+v", got, want)
	}
	if got := NewService(ServiceParams{}).Limits(); got != want {
		t.Errorf("a service without limits applies %+v, want the defaults", got)
	}
	if got := newServiceFixture(t).Limits(); got != serviceLimits {
		t.Errorf("a service with limits applies %+v, want %+v", got, serviceLimits)
	}
}

func TestServiceSpeakingIsPublishedWithoutSeq(t *testing.T) {
	f := newServiceFixture(t)
	host := f.member(t, "Host")
	r := f.room(t, host, "Talk")
	f.join(t, r, host, NewSessionID())
	heard := f.watch(t, r)
	f.SetSpeaking(t.Context(), r.ID, host.ID, true)
	evs := heard.take()
	if len(evs) != 1 || evs[0].Type != EventSpeaking || !evs[0].Speaking || evs[0].Seq != 0 || evs[0].Participant.UserID != host.ID {
		t.Errorf("events = %+v; want one speaking event without seq", evs)
	}
	if s := f.snapshot(t, r); s.Seq != 1 {
		t.Errorf("speaking moved seq to %d", s.Seq)
	}
}

func TestServiceValidation(t *testing.T) {
	f := newServiceFixture(t)
	host := f.member(t, "Host")
	tests := []struct {
		name  string
		call  func() error
		field string
	}{
		{"an empty title", func() error {
			_, err := f.CreateRoom(t.Context(), host.ID, NewRoom{Title: "  ", Description: ""})
			return err
		}, "title"},
		{"a title one character too long", func() error {
			_, err := f.CreateRoom(t.Context(), host.ID, NewRoom{Title: strings.Repeat("t", MaxTitleLen+1), Description: ""})
			return err
		}, "title"},
		{"a title on two lines", func() error {
			_, err := f.CreateRoom(t.Context(), host.ID, NewRoom{Title: "a\nb", Description: ""})
			return err
		}, "title"},
		{"a description one character too long", func() error {
			_, err := f.CreateRoom(t.Context(), host.ID, NewRoom{Title: "ok", Description: strings.Repeat("d", MaxDescriptionLen+1)})
			return err
		}, "description"},
		{"a description with a NUL", func() error {
			_, err := f.CreateRoom(t.Context(), host.ID, NewRoom{Title: "ok", Description: "a\x00"})
			return err
		}, "description"},
		{"a loudest_n below -1", func() error {
			_, err := f.CreateRoom(t.Context(), host.ID, NewRoom{Title: "ok", LoudestN: -2})
			return err
		}, "loudest_n"},
		{"a loudest_n over the most", func() error {
			_, err := f.CreateRoom(t.Context(), host.ID, NewRoom{Title: "ok", LoudestN: MaxLoudestN + 1})
			return err
		}, "loudest_n"},
		{"an empty display name", func() error { _, err := f.CreateMember(t.Context(), ""); return err }, "display_name"},
		{"a display name one character too long", func() error {
			_, err := f.CreateMember(t.Context(), strings.Repeat("n", MaxDisplayNameLen+1))
			return err
		}, "display_name"},
		{"a display name with a bell", func() error { _, err := f.CreateMember(t.Context(), "ding\a"); return err }, "display_name"},
	}
	for _, tt := range tests {
		t.Run(tt.name+" is refused on "+tt.field, func(t *testing.T) {
			var ve *ValidationError
			if err := tt.call(); !errors.As(err, &ve) || ve.Field != tt.field {
				t.Errorf("err = %v, want a ValidationError on %s", err, tt.field)
			}
		})
	}
	if list, _, err := f.LiveRooms(t.Context(), 0, ""); err != nil || len(list) != 0 {
		t.Errorf("refused rooms were stored: %+v, %v", list, err)
	}
	if _, err := f.CreateRoom(t.Context(), host.ID, NewRoom{Title: strings.Repeat("é", MaxTitleLen), Description: strings.Repeat("d", MaxDescriptionLen)}); err != nil {
		t.Errorf("a title and description at their limits were refused: %v", err)
	}
}

func TestServiceReadyFollowsTheStores(t *testing.T) {
	f := newServiceFixture(t)
	if err := f.Ready(t.Context()); err != nil {
		t.Fatalf("Ready with open stores: %v", err)
	}
	if err := f.db.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Ready(t.Context()); !errors.Is(err, ErrUnavailable) {
		t.Errorf("Ready with the database closed: err = %v, want ErrUnavailable", err)
	}
}
