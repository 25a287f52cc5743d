package rooms

import (
	"errors"
	"testing"
	"time"
)

// Contract tests of the live store for co-hosts and Participant (run by
// testLive, on both stores).

// testLiveCohosts: an event's co-hosts join its room as moderators, like
// its creator, every time; anyone else as a listener. They have no other
// privilege: only the creator acts on moderators.
func testLiveCohosts(t *testing.T, live LiveStore, bus Bus) {
	r := newLiveRoom(t, live, bus, liveLimits)
	if err := live.Open(t.Context(), r.id, r.user("host"), []UserID{r.user("co1"), r.user("co2")}, r.now, r.limits); err != nil {
		t.Fatal(err)
	}
	r.tick(time.Second)
	res := r.join("co1")
	co1 := Participant{UserID: r.user("co1"), DisplayName: "co1", Role: RoleModerator, JoinedAt: r.now, StageSince: r.now, Session: r.session("co1")}
	r.checkParticipant("the first co-host", res.Participant, co1)
	r.checkTaken("the co-host's join", r.evJoined(1, co1))

	r.tick(time.Second)
	r.join("guest")
	if got := r.record("guest").Role; got != RoleListener {
		t.Errorf("someone who is not a host joined as %s, want listener", got)
	}
	r.tick(time.Second)
	r.join("co2")
	if got := r.record("co2").Role; got != RoleModerator {
		t.Errorf("the second co-host joined as %s, want moderator", got)
	}
	// A co-host is a moderator like any other: they invite, and only the
	// creator may move another co-host.
	r.do(act(ActInvite, "co1", "guest"))
	if err := r.try(act(ActMoveToAudience, "co1", "co2")); !errors.Is(err, ErrForbidden) {
		t.Errorf("a co-host moving another to the audience: err = %v, want ErrForbidden", err)
	}
	r.join("host")
	r.do(act(ActMoveToAudience, "host", "co2"))

	// Back after leaving: a moderator again.
	r.tick(time.Second)
	r.leave("co2")
	r.tick(time.Second)
	r.rejoin("co2")
	if got := r.record("co2").Role; got != RoleModerator {
		t.Errorf("a co-host joining again is %s, want moderator", got)
	}
	// Opening again (a restart's Recover) changes nothing, co-hosts
	// included.
	if err := live.Open(t.Context(), r.id, r.user("host"), nil, r.now, r.limits); err != nil {
		t.Fatal(err)
	}
	r.tick(time.Second)
	r.leave("co1")
	r.rejoin("co1")
	if got := r.record("co1").Role; got != RoleModerator {
		t.Errorf("a co-host after a second Open joined as %s, want moderator", got)
	}
}

// testLiveRestoreKeepsCohosts: a room the store lost and a process put
// back (Restore) keeps its co-hosts.
func testLiveRestoreKeepsCohosts(t *testing.T, live LiveStore, bus Bus) {
	r := newLiveRoom(t, live, bus, liveLimits)
	if err := live.Restore(t.Context(), r.id, r.user("host"), []UserID{r.user("co")}, nil, 7, r.now, r.limits); err != nil {
		t.Fatal(err)
	}
	r.join("listener")
	r.join("co")
	if got := r.record("co").Role; got != RoleModerator {
		t.Errorf("a co-host of a restored room joined as %s, want moderator", got)
	}
	if got := r.record("listener").Role; got != RoleListener {
		t.Errorf("someone else joined a restored room as %s, want listener", got)
	}
}

// testLiveParticipant: Participant reads one record, or says why not.
func testLiveParticipant(t *testing.T, live LiveStore, bus Bus) {
	r := newLiveRoom(t, live, bus, liveLimits)
	if _, err := live.Participant(t.Context(), r.id, r.user("ann")); !errors.Is(err, ErrRoomNotFound) {
		t.Errorf("in a room never opened: err = %v, want ErrRoomNotFound", err)
	}
	r.open("host")
	r.join("host")
	r.join("ann")
	r.do(act(ActRaiseHand, "ann", ""))
	for _, name := range []string{"host", "ann"} {
		got, err := live.Participant(t.Context(), r.id, r.user(name))
		if err != nil {
			t.Fatal(err)
		}
		r.checkParticipant(name, got, r.record(name))
	}
	if _, err := live.Participant(t.Context(), r.id, r.user("nobody")); !errors.Is(err, ErrNotParticipant) {
		t.Errorf("someone not in the room: err = %v, want ErrNotParticipant", err)
	}
	if err := live.End(t.Context(), r.id, ReasonEndedByHost, r.now); err != nil {
		t.Fatal(err)
	}
	if _, err := live.Participant(t.Context(), r.id, r.user("ann")); !errors.Is(err, ErrRoomEnded) {
		t.Errorf("in an ended room: err = %v, want ErrRoomEnded", err)
	}
}
