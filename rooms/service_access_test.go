package rooms

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/parley-audio/parley/internal/testenv"
)

// fakeAudience is Audience in memory: members' follows and blocks.
type fakeAudience struct {
	mu      sync.Mutex // guards follows, blocks and calls
	follows map[[2]UserID]bool
	blocks  map[[2]UserID]bool
	calls   int
}

func newFakeAudience() *fakeAudience {
	return &fakeAudience{follows: map[[2]UserID]bool{}, blocks: map[[2]UserID]bool{}}
}

func (a *fakeAudience) follow(who, whom Member) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.follows[[2]UserID{who.ID, whom.ID}] = true
}

func (a *fakeAudience) block(who, whom Member) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.blocks[[2]UserID{who.ID, whom.ID}] = true
}

func (a *fakeAudience) Followed(_ context.Context, follower UserID, among []UserID) ([]UserID, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.calls++
	var out []UserID
	for _, o := range among {
		if a.follows[[2]UserID{follower, o}] {
			out = append(out, o)
		}
	}
	return out, nil
}

func (a *fakeAudience) Blockers(_ context.Context, user UserID, among []UserID) ([]UserID, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.calls++
	var out []UserID
	for _, b := range among {
		if a.blocks[[2]UserID{b, user}] {
			out = append(out, b)
		}
	}
	return out, nil
}

func (a *fakeAudience) callCount() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.calls
}

// stepLimiter allows n events per key, then refuses with a minute to wait.
type stepLimiter struct {
	mu   sync.Mutex // guards used
	n    int
	used map[string]int
}

func (l *stepLimiter) Allow(_ context.Context, key string, _ time.Time) (bool, time.Duration, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.used == nil {
		l.used = map[string]int{}
	}
	if l.used[key] >= l.n {
		return false, time.Minute, nil
	}
	l.used[key]++
	return true, 0, nil
}

type accessFixture struct {
	serviceFixture
	aud *fakeAudience
}

func newAccessFixture(t *testing.T, p ServiceParams) accessFixture {
	t.Helper()
	db := openTestSQLite(t, filepath.Join(t.TempDir(), "parley.db"))
	c := testenv.NewClock(time.Date(2026, 3, 1, 20, 0, 0, 0, time.UTC))
	bus := NewMemoryBus()
	t.Cleanup(func() { _ = bus.Close() })
	aud := newFakeAudience()
	members := newMemberDirectory()
	p.Rooms, p.Members, p.Live, p.Bus, p.Limits, p.Now = db, members, NewMemoryLive(bus), bus, serviceLimits, c.Now
	if p.Audience == nil {
		p.Audience = aud
	}
	return accessFixture{serviceFixture{Service: NewService(p), db: db, members: members, bus: bus, clock: c}, aud}
}

func (f accessFixture) roomWith(t *testing.T, host Member, title string, v Visibility) Room {
	t.Helper()
	r, err := f.CreateRoom(t.Context(), host.ID, NewRoom{Title: title, Visibility: v})
	if err != nil {
		t.Fatalf("CreateRoom(%q, %s): %v", title, v, err)
	}
	f.clock.Advance(time.Second) // rooms list newest first
	return r
}

// sees reports whether m finds r in the list, may read it, and may join
// it; the three must agree.
func (f accessFixture) sees(t *testing.T, m Member, r Room) bool {
	t.Helper()
	listed := false
	list, _, err := f.VisibleRooms(t.Context(), m.ID, MaxPageSize, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range list {
		if v.ID == r.ID {
			listed = true
		}
	}
	_, err = f.RoomFor(t.Context(), m.ID, r.ID)
	readable := err == nil
	if err != nil && !errors.Is(err, ErrRoomNotFound) {
		t.Fatalf("RoomFor: %v", err)
	}
	s := NewSessionID()
	_, err = f.Join(t.Context(), r.ID, m.ID, s)
	joinable := err == nil
	if err != nil && !errors.Is(err, ErrRoomNotFound) {
		t.Fatalf("Join: %v", err)
	}
	if joinable {
		if err := f.Leave(t.Context(), r.ID, m.ID, s, ReasonLeft); err != nil {
			t.Fatal(err)
		}
	}
	if listed != readable || readable != joinable {
		t.Errorf("%s and %s: listed %v, readable %v, joinable %v; want all three alike", m.DisplayName, r.Title, listed, readable, joinable)
	}
	return listed && readable && joinable
}

func TestVisibilityOnListingReadingAndJoining(t *testing.T) {
	f := newAccessFixture(t, ServiceParams{})
	fan, modFan, stranger, invitee, blocked := f.member(t, "Fan"), f.member(t, "ModFan"), f.member(t, "Stranger"), f.member(t, "Invitee"), f.member(t, "Blocked")
	// Each room has its creator and a moderator the creator invited and
	// promoted (a member is in one room at a time, so one each).
	type hosted struct {
		r         Room
		host, mod Member
	}
	var rs []hosted
	for _, v := range []Visibility{VisibilityOpen, VisibilitySocial, VisibilityClosed} {
		host, mod := f.member(t, "Host of "+string(v)), f.member(t, "Mod of "+string(v))
		r := f.roomWith(t, host, string(v), v)
		f.join(t, r, host, NewSessionID())
		if _, err := f.InviteToRoom(t.Context(), host.ID, r.ID, mod.ID); err != nil {
			t.Fatal(err)
		}
		f.join(t, r, mod, NewSessionID())
		f.speaker(t, r, host, mod)
		f.act(t, r, Action{Kind: ActMakeModerator, Actor: host.ID, Target: mod.ID})
		if _, err := f.InviteToRoom(t.Context(), mod.ID, r.ID, invitee.ID); err != nil {
			t.Fatal(err)
		}
		f.aud.follow(fan, host)
		f.aud.follow(modFan, mod)
		f.aud.block(mod, blocked) // a moderator's block keeps them out as the creator's would
		rs = append(rs, hosted{r, host, mod})
	}
	open, social, closed := rs[0], rs[1], rs[2]

	for _, c := range []struct {
		who                  Member
		open, social, closed bool
	}{
		{fan, true, true, false},
		{modFan, true, true, false},
		{stranger, true, false, false},
		{invitee, true, true, true},
		{blocked, false, false, false},
	} {
		for _, rc := range []struct {
			h    hosted
			want bool
		}{{open, c.open}, {social, c.social}, {closed, c.closed}} {
			if got := f.sees(t, c.who, rc.h.r); got != rc.want {
				t.Errorf("%s sees %s: %v, want %v", c.who.DisplayName, rc.h.r.Title, got, rc.want)
			}
		}
	}
	// Creators and moderators read and list their rooms.
	for _, h := range rs {
		for _, m := range []Member{h.host, h.mod} {
			if _, err := f.RoomFor(t.Context(), m.ID, h.r.ID); err != nil {
				t.Errorf("%s reads their room: %v", m.DisplayName, err)
			}
		}
	}

	// The moderators step down: their followers and their blocks no
	// longer count.
	for _, h := range rs {
		f.act(t, h.r, Action{Kind: ActStepDown, Actor: h.mod.ID})
	}
	if !f.sees(t, blocked, open.r) {
		t.Error("a member blocked only by a former moderator is still kept out")
	}
	if f.sees(t, modFan, social.r) {
		t.Error("a follower of a former moderator still sees the social room")
	}
	// The creator's own block keeps them out of the open room.
	f.aud.block(open.host, stranger)
	if f.sees(t, stranger, open.r) {
		t.Error("a member the creator blocks sees the open room")
	}
	// Whoever is in a room may read it, though it closed after they came.
	f.join(t, social.r, fan, NewSessionID())
	if _, err := f.SetVisibility(t.Context(), social.host.ID, social.r.ID, VisibilityClosed); err != nil {
		t.Fatal(err)
	}
	if _, err := f.RoomFor(t.Context(), fan.ID, social.r.ID); err != nil {
		t.Errorf("a listener reads the room they are in: %v", err)
	}
}

func TestVisibleRoomsPagesPastHiddenRooms(t *testing.T) {
	f := newAccessFixture(t, ServiceParams{})
	host, viewer := f.member(t, "Host"), f.member(t, "Viewer")
	var want []RoomID
	for i := range 40 {
		v := VisibilityClosed
		if i%7 == 0 {
			v = VisibilityOpen
		}
		r := f.roomWith(t, host, fmt.Sprint("r", i), v)
		if v == VisibilityOpen {
			want = append([]RoomID{r.ID}, want...)
		}
	}
	for _, limit := range []int{1, 2, 5} {
		var got []RoomID
		cursor := ""
		for pages := 0; ; pages++ {
			if pages > 100 {
				t.Fatal("paging does not end")
			}
			list, next, err := f.VisibleRooms(t.Context(), viewer.ID, limit, cursor)
			if err != nil {
				t.Fatal(err)
			}
			if len(list) > limit {
				t.Fatalf("a page of %d rooms, over the limit %d", len(list), limit)
			}
			for _, v := range list {
				got = append(got, v.ID)
			}
			if next == "" {
				break
			}
			cursor = next
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("pages of %d: %v, want %v", limit, got, want)
		}
	}
	// The host sees all 40.
	list, _, err := f.VisibleRooms(t.Context(), host.ID, 100, "")
	if err != nil || len(list) != 40 {
		t.Errorf("the host's list: %d rooms, %v", len(list), err)
	}
	for _, bad := range []struct {
		limit  int
		cursor string
	}{{-1, ""}, {101, ""}, {10, "nope"}} {
		if _, _, err := f.VisibleRooms(t.Context(), viewer.ID, bad.limit, bad.cursor); !errors.Is(err, ErrInvalid) {
			t.Errorf("limit %d cursor %q: %v, want ErrInvalid", bad.limit, bad.cursor, err)
		}
	}
}

func TestRoomInviteesAndVisibilityAreTheHostsToSet(t *testing.T) {
	f := newAccessFixture(t, ServiceParams{})
	ctx := t.Context()
	host, mod, listener, outsider, guest := f.member(t, "Host"), f.member(t, "Mod"), f.member(t, "Listener"), f.member(t, "Outsider"), f.member(t, "Guest")
	r := f.roomWith(t, host, "Room", VisibilityOpen)
	f.join(t, r, host, NewSessionID())
	f.join(t, r, mod, NewSessionID())
	f.speaker(t, r, host, mod)
	f.act(t, r, Action{Kind: ActMakeModerator, Actor: host.ID, Target: mod.ID})
	f.join(t, r, listener, NewSessionID())

	if _, err := f.InviteToRoom(ctx, listener.ID, r.ID, guest.ID); !errors.Is(err, ErrForbidden) {
		t.Errorf("a listener invites: %v, want ErrForbidden", err)
	}
	if _, err := f.SetVisibility(ctx, listener.ID, r.ID, VisibilityClosed); !errors.Is(err, ErrForbidden) {
		t.Errorf("a listener closes the room: %v, want ErrForbidden", err)
	}
	v, err := f.SetVisibility(ctx, mod.ID, r.ID, VisibilityClosed)
	if err != nil || v.Visibility != VisibilityClosed || v.Speakers != 2 {
		t.Fatalf("a moderator closes the room: %+v, %v", v, err)
	}
	// Now closed: the outsider is told there is no such room, even when
	// trying to manage it.
	if _, err := f.InviteToRoom(ctx, outsider.ID, r.ID, outsider.ID); !errors.Is(err, ErrRoomNotFound) {
		t.Errorf("an outsider invites to a closed room: %v, want ErrRoomNotFound", err)
	}
	if _, err := f.SetVisibility(ctx, host.ID, r.ID, "secret"); !errors.Is(err, ErrInvalid) {
		t.Errorf("a nonsense visibility: %v, want ErrInvalid", err)
	}
	if _, err := f.InviteToRoom(ctx, host.ID, r.ID, NewUserID()); !errors.Is(err, ErrNoSuchMember) {
		t.Errorf("inviting a stranger: %v, want ErrNoSuchMember", err)
	}
	if _, err := f.InviteToRoom(ctx, host.ID, NewRoomID(), guest.ID); !errors.Is(err, ErrRoomNotFound) {
		t.Errorf("inviting to no room: %v, want ErrRoomNotFound", err)
	}
	inv, err := f.InviteToRoom(ctx, mod.ID, r.ID, guest.ID)
	if err != nil || inv.Name != "Guest" || inv.InvitedBy != mod.ID {
		t.Fatalf("a moderator invites: %+v, %v", inv, err)
	}
	if !f.sees(t, guest, r) {
		t.Error("the invitee cannot see the closed room")
	}
	list, next, err := f.RoomInvitees(ctx, host.ID, r.ID, 0, "")
	if err != nil || len(list) != 1 || list[0].Member != guest.ID || next != "" {
		t.Errorf("RoomInvitees = %+v, %q, %v", list, next, err)
	}
	if _, _, err := f.RoomInvitees(ctx, listener.ID, r.ID, 0, ""); !errors.Is(err, ErrForbidden) {
		t.Errorf("a listener reads the invitees: %v, want ErrForbidden", err)
	}
	if _, _, err := f.RoomInvitees(ctx, host.ID, r.ID, 0, "junk"); !errors.Is(err, ErrInvalid) {
		t.Errorf("a bad cursor: %v, want ErrInvalid", err)
	}
	if err := f.UninviteFromRoom(ctx, host.ID, r.ID, guest.ID); err != nil {
		t.Fatal(err)
	}
	if f.sees(t, guest, r) {
		t.Error("an uninvited member still sees the closed room")
	}
	// The listener who was in the room before it closed stays in it.
	if p, _, _ := f.Participants(ctx, r.ID); len(p) != 3 {
		t.Errorf("%d in the room after it closed, want 3", len(p))
	}
	if _, err := f.EndRoom(ctx, host.ID, r.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.InviteToRoom(ctx, host.ID, r.ID, guest.ID); !errors.Is(err, ErrRoomEnded) {
		t.Errorf("inviting to an ended room: %v, want ErrRoomEnded", err)
	}
}

func TestOneRoomAtATime(t *testing.T) {
	f := newAccessFixture(t, ServiceParams{})
	host, ada := f.member(t, "Host"), f.member(t, "Ada")
	a, b := f.roomWith(t, host, "A", VisibilityOpen), f.roomWith(t, host, "B", VisibilityOpen)
	logA := f.watch(t, a)
	s1, s2 := NewSessionID(), NewSessionID()
	f.join(t, a, ada, s1)
	logA.take()
	f.join(t, b, ada, s2)
	checkEventTypes(t, "room A after Ada joined B", logA.take(), "2 participant_left moved")
	if p, _, _ := f.Participants(t.Context(), a.ID); len(p) != 0 {
		t.Errorf("Ada is still in A: %+v", p)
	}
	if p, _, _ := f.Participants(t.Context(), b.ID); len(p) != 1 || p[0].UserID != ada.ID {
		t.Errorf("B holds %+v, want Ada", p)
	}
	// Reconnecting to B, from a new session, keeps her there.
	f.join(t, b, ada, NewSessionID())
	if p, _, _ := f.Participants(t.Context(), b.ID); len(p) != 1 {
		t.Errorf("B after a reconnection: %+v", p)
	}
	// Leaving forgets where she was: joining A again takes no one out.
	w, _ := f.live.Presence(t.Context(), ada.ID, f.clock.Now())
	if err := f.Leave(t.Context(), b.ID, ada.ID, w.Session, ReasonLeft); err != nil {
		t.Fatal(err)
	}
	if w, _ := f.live.Presence(t.Context(), ada.ID, f.clock.Now()); !w.IsZero() {
		t.Errorf("whereabouts after leaving: %+v", w)
	}
}

func TestOneRoomAtATimeWhenJoinsRace(t *testing.T) {
	f := newAccessFixture(t, ServiceParams{})
	host, ada := f.member(t, "Host"), f.member(t, "Ada")
	var rooms []Room
	for i := range 4 {
		rooms = append(rooms, f.roomWith(t, host, fmt.Sprint("R", i), VisibilityOpen))
	}
	for round := range 20 {
		var wg sync.WaitGroup
		for _, r := range rooms {
			wg.Go(func() {
				if _, err := f.Join(t.Context(), r.ID, ada.ID, NewSessionID()); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		in := 0
		for _, r := range rooms {
			p, _, _ := f.Participants(t.Context(), r.ID)
			in += len(p)
		}
		if in != 1 {
			t.Fatalf("round %d: Ada is in %d rooms at once", round, in)
		}
	}
}

func TestJoinRateLimit(t *testing.T) {
	f := newAccessFixture(t, ServiceParams{JoinLimiter: &stepLimiter{n: 3}})
	host, ada, bob := f.member(t, "Host"), f.member(t, "Ada"), f.member(t, "Bob")
	var rs []Room
	for i := range 4 {
		rs = append(rs, f.roomWith(t, host, fmt.Sprint("R", i), VisibilityOpen))
	}
	for _, r := range rs[:3] {
		f.join(t, r, ada, NewSessionID())
	}
	// Back into the room she is in, from another session: free.
	for range 3 {
		f.join(t, rs[2], ada, NewSessionID())
	}
	_, err := f.Join(t.Context(), rs[3].ID, ada.ID, NewSessionID())
	var rle *RateLimitError
	if !errors.Is(err, ErrRateLimited) || !errors.As(err, &rle) || rle.RetryAfter != time.Minute {
		t.Fatalf("the fourth room: %v, want a RateLimitError of a minute", err)
	}
	// The refused join changed nothing: she is still in the third room.
	if p, _, _ := f.Participants(t.Context(), rs[2].ID); len(p) != 1 || p[0].UserID != ada.ID {
		t.Errorf("after the refused join, room 3 holds %+v", p)
	}
	if p, _, _ := f.Participants(t.Context(), rs[3].ID); len(p) != 0 {
		t.Errorf("the refused join let her in: %+v", p)
	}
	// The limit is per member.
	f.join(t, rs[3], bob, NewSessionID())
}

func TestGuestsOnlyListenToOpenRooms(t *testing.T) {
	ctx := t.Context()
	off := newAccessFixture(t, ServiceParams{})
	host := off.member(t, "Host")
	r := off.roomWith(t, host, "Open", VisibilityOpen)
	if _, _, err := off.GuestPass(ctx, r.ID); !errors.Is(err, ErrGuestsDisabled) || !errors.Is(err, ErrForbidden) {
		t.Errorf("a guest pass with guests off: %v, want ErrGuestsDisabled", err)
	}
	if _, err := off.Join(ctx, r.ID, NewGuestID(), NewSessionID()); !errors.Is(err, ErrGuestsDisabled) {
		t.Errorf("a guest joins with guests off: %v, want ErrGuestsDisabled", err)
	}

	f := newAccessFixture(t, ServiceParams{Guests: true})
	host = f.member(t, "Host")
	open := f.roomWith(t, host, "Open", VisibilityOpen)
	social := f.roomWith(t, host, "Social", VisibilitySocial)
	closed := f.roomWith(t, host, "Closed", VisibilityClosed)
	f.join(t, open, host, NewSessionID())
	for _, hidden := range []Room{social, closed} {
		if _, _, err := f.GuestPass(ctx, hidden.ID); !errors.Is(err, ErrRoomNotFound) {
			t.Errorf("a guest pass to %s: %v, want ErrRoomNotFound", hidden.Title, err)
		}
		if _, err := f.Join(ctx, hidden.ID, NewGuestID(), NewSessionID()); !errors.Is(err, ErrRoomNotFound) {
			t.Errorf("a guest joins %s: %v, want ErrRoomNotFound", hidden.Title, err)
		}
	}
	if _, _, err := f.GuestPass(ctx, NewRoomID()); !errors.Is(err, ErrRoomNotFound) {
		t.Errorf("a guest pass to no room: %v", err)
	}
	got, guest, err := f.GuestPass(ctx, open.ID)
	if err != nil || got.ID != open.ID || !guest.IsGuest() {
		t.Fatalf("GuestPass = %+v, %s, %v", got, guest, err)
	}
	s := NewSessionID()
	j, err := f.Join(ctx, open.ID, guest, s)
	if err != nil {
		t.Fatal(err)
	}
	if j.Self.Role != RoleListener || j.Self.DisplayName != GuestName {
		t.Errorf("the guest joined as %+v", j.Self)
	}
	v, err := f.RoomFor(ctx, host.ID, open.ID)
	if err != nil || v.Counts != (Counts{Speakers: 1, Listeners: 1, Guests: 1}) {
		t.Errorf("counts with a guest: %+v, %v", v.Counts, err)
	}
	// A guest may do nothing but listen, and may not be invited to speak.
	for _, a := range []Action{
		{Kind: ActRaiseHand, Actor: guest}, {Kind: ActLowerHand, Actor: guest}, {Kind: ActMute, Actor: guest},
		{Kind: ActAcceptInvite, Actor: guest}, {Kind: ActStepDown, Actor: guest},
		{Kind: ActInvite, Actor: guest, Target: host.ID}, {Kind: ActMuteAll, Actor: guest},
		{Kind: ActSetHands, Actor: guest, Enabled: false},
		{Kind: ActInvite, Actor: host.ID, Target: guest},
	} {
		if err := f.Act(ctx, open.ID, a); !errors.Is(err, ErrForbidden) {
			t.Errorf("%s by %s: %v, want ErrForbidden", a.Kind, a.Actor, err)
		}
	}
	if _, err := f.EndRoom(ctx, guest, open.ID); !errors.Is(err, ErrForbidden) {
		t.Errorf("a guest ends the room: %v, want ErrForbidden", err)
	}
	snap := f.snapshot(t, open)
	for _, p := range snap.Participants {
		if p.UserID == guest && (p.Role != RoleListener || p.HandSeq != 0 || p.Invited) {
			t.Errorf("the guest's record changed: %+v", p)
		}
	}
	// A moderator may remove a guest.
	f.act(t, open, Action{Kind: ActRemove, Actor: host.ID, Target: guest})
	if v, _ := f.RoomFor(ctx, host.ID, open.ID); v.Guests != 0 || v.Listeners != 0 {
		t.Errorf("counts after the guest was removed: %+v", v.Counts)
	}
	// A guest has no whereabouts: a pass is for one room.
	if w, _ := f.live.Presence(ctx, guest, f.clock.Now()); !w.IsZero() {
		t.Errorf("a guest's whereabouts: %+v", w)
	}
	if _, err := f.EndRoom(ctx, host.ID, open.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.GuestPass(ctx, open.ID); !errors.Is(err, ErrRoomEnded) {
		t.Errorf("a guest pass to an ended room: %v, want ErrRoomEnded", err)
	}
}

// A page of rooms asks the Audience about all its hosts at once, not once
// per room: listing costs the members store two questions per batch.
func TestVisibleRoomsAskTheAudienceOncePerBatch(t *testing.T) {
	f := newAccessFixture(t, ServiceParams{})
	viewer := f.member(t, "Viewer")
	for i := range 30 {
		host := f.member(t, fmt.Sprint("Host ", i))
		v := VisibilitySocial
		if i%2 == 0 {
			v = VisibilityOpen
			f.aud.follow(viewer, host)
		}
		f.roomWith(t, host, fmt.Sprint("R", i), v)
	}
	before := f.aud.callCount()
	list, _, err := f.VisibleRooms(t.Context(), viewer.ID, 50, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 15 {
		t.Errorf("%d rooms listed, want the 15 open ones", len(list))
	}
	if n := f.aud.callCount() - before; n != 2 {
		t.Errorf("listing asked the Audience %d times, want 2 (who blocks, whom the viewer follows)", n)
	}
}

func TestEvictTakesAMemberOutOfTheRoomTheyAreIn(t *testing.T) {
	f := newAccessFixture(t, ServiceParams{})
	host, ada, bob := f.member(t, "Host"), f.member(t, "Ada"), f.member(t, "Bob")
	a := f.roomWith(t, host, "A", VisibilityOpen)
	log := f.watch(t, a)
	f.join(t, a, host, NewSessionID())
	f.join(t, a, ada, NewSessionID())
	s := NewSessionID()
	f.join(t, a, bob, s)
	// Bob's connection dropped: his place is kept for the grace, and
	// eviction takes it at once all the same.
	if err := f.Disconnect(t.Context(), a.ID, bob.ID, s); err != nil {
		t.Fatal(err)
	}
	log.take()
	for _, m := range []Member{ada, bob} {
		if err := f.Evict(t.Context(), m.ID, ReasonAccountDeleted); err != nil {
			t.Fatal(err)
		}
	}
	checkEventTypes(t, "room A after the evictions", log.take(),
		"4 participant_left account_deleted", "5 participant_left account_deleted")
	if p, _, _ := f.Participants(t.Context(), a.ID); len(p) != 1 || p[0].UserID != host.ID {
		t.Errorf("A holds %+v, want the host alone", p)
	}
	for _, m := range []Member{ada, bob} {
		if w, _ := f.live.Presence(t.Context(), m.ID, f.clock.Now()); !w.IsZero() {
			t.Errorf("%s's whereabouts after eviction: %+v", m.DisplayName, w)
		}
		// Again, or someone in no room: nothing to do.
		if err := f.Evict(t.Context(), m.ID, ReasonAccountDeleted); err != nil {
			t.Errorf("evicting %s again: %v", m.DisplayName, err)
		}
	}
	if got := log.take(); len(got) != 0 {
		t.Errorf("evicting no one sent %v", got)
	}
}
