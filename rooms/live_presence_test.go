package rooms

import (
	"testing"
	"time"
)

// Parts of the live contract suite (live_test.go) about guests, the
// lineup and each member's whereabouts.

// guest makes name a guest of the cast.
func (r *liveRoom) guest(name string) UserID {
	id := NewGuestID()
	r.users[name], r.names[id] = id, name
	return id
}

func (r *liveRoom) lineup() Lineup {
	r.t.Helper()
	l, err := r.live.Lineup(r.t.Context(), r.id)
	if err != nil {
		r.t.Fatalf("Lineup(%s): %v", r.id, err)
	}
	return l
}

func (r *liveRoom) checkLineup(what string, got Lineup, stage []string, c Counts) {
	r.t.Helper()
	if got.Counts != c {
		r.t.Errorf("%s: counts %+v, want %+v", what, got.Counts, c)
	}
	if len(got.OnStage) != len(stage) {
		r.t.Fatalf("%s: %d on stage, want %v", what, len(got.OnStage), stage)
	}
	for i, name := range stage {
		want := r.record(name)
		r.checkParticipant(what+": on stage", got.OnStage[i], want)
	}
}

func testLiveLineup(t *testing.T, live LiveStore, bus Bus) {
	r := newLiveRoom(t, live, bus, liveLimits)
	if l := r.lineup(); len(l.OnStage) != 0 || l.Counts != (Counts{}) {
		t.Errorf("the lineup of a room never opened: %+v", l)
	}
	r.open("creator")
	r.tick(time.Second)
	r.join("early")
	r.tick(time.Second)
	r.join("creator")
	r.join("later")
	r.guest("g")
	r.join("g")
	r.onStage("creator", "later")
	r.onStage("creator", "early")
	// In join order, not the order they went on stage.
	r.checkLineup("a stage of three", r.lineup(), []string{"early", "creator", "later"}, Counts{Speakers: 3, Listeners: 1, Guests: 1})
	if c := r.counts(); c != (Counts{Speakers: 3, Listeners: 1, Guests: 1}) {
		t.Errorf("Counts = %+v", c)
	}
	if err := live.End(t.Context(), r.id, ReasonEndedByHost, r.now); err != nil {
		t.Fatal(err)
	}
	if l := r.lineup(); len(l.OnStage) != 0 || l.Counts != (Counts{}) {
		t.Errorf("the lineup of an ended room: %+v", l)
	}
}

func testLiveGuestsCounted(t *testing.T, live LiveStore, bus Bus) {
	r := newLiveRoom(t, live, bus, liveLimits)
	r.open("creator")
	r.join("creator")
	for _, g := range []string{"g1", "g2", "g3"} {
		r.guest(g)
		r.join(g)
	}
	r.join("member")
	if c := r.counts(); c != (Counts{Speakers: 1, Listeners: 4, Guests: 3}) {
		t.Errorf("three guests and a member in the audience: %+v", c)
	}
	// A guest joining again (a reconnection) is not counted twice.
	r.rejoin("g1")
	r.leave("g2")
	r.do(ruleAct{kind: ActRemove, actor: "creator", target: "g3", block: true})
	if c := r.counts(); c != (Counts{Speakers: 1, Listeners: 2, Guests: 1}) {
		t.Errorf("after a guest left and one was removed: %+v", c)
	}
	// A guest whose connection is gone for the grace is gone from the count.
	r.disconnect("g1", r.session("g1"))
	r.tick(liveLimits.ReconnectGrace)
	r.expire()
	if c := r.counts(); c != (Counts{Speakers: 1, Listeners: 1}) {
		t.Errorf("after the last guest's grace ran out: %+v", c)
	}
}

func testLivePresence(t *testing.T, live LiveStore, _ Bus) {
	ctx := t.Context()
	ttl := time.Minute
	now := liveEpoch
	ada, bob := NewUserID(), NewUserID()
	a := Whereabouts{Room: NewRoomID(), Session: NewSessionID()}
	b := Whereabouts{Room: NewRoomID(), Session: NewSessionID()}
	claim := func(u UserID, w Whereabouts) Whereabouts {
		t.Helper()
		prev, err := live.ClaimPresence(ctx, u, w, ttl, now)
		if err != nil {
			t.Fatal(err)
		}
		return prev
	}
	where := func(u UserID) Whereabouts {
		t.Helper()
		w, err := live.Presence(ctx, u, now)
		if err != nil {
			t.Fatal(err)
		}
		return w
	}

	if got := where(ada); !got.IsZero() {
		t.Errorf("a member never seen is at %+v", got)
	}
	if prev := claim(ada, a); !prev.IsZero() {
		t.Errorf("the first claim replaced %+v", prev)
	}
	now = now.Add(time.Second)
	if prev := claim(ada, b); prev != a {
		t.Errorf("the second claim replaced %+v, want %+v", prev, a)
	}
	if got := where(ada); got != b {
		t.Errorf("whereabouts %+v, want %+v", got, b)
	}
	if got := where(bob); !got.IsZero() {
		t.Errorf("bob is at %+v, though only ada claimed", got)
	}

	// Releasing whereabouts that are no longer the member's changes nothing.
	if err := live.ReleasePresence(ctx, ada, a); err != nil {
		t.Fatal(err)
	}
	if got := where(ada); got != b {
		t.Errorf("a stale release forgot the newer claim: %+v", got)
	}
	if err := live.ReleasePresence(ctx, ada, b); err != nil {
		t.Fatal(err)
	}
	if got := where(ada); !got.IsZero() {
		t.Errorf("after release: %+v", got)
	}

	// Whereabouts lapse after the TTL unless renewed by the process that
	// holds the session in the room.
	renew := func(room RoomID, held ...Held) {
		t.Helper()
		if err := live.RenewPresence(ctx, room, held, ttl, now); err != nil {
			t.Fatal(err)
		}
	}
	claim(ada, a)
	claim(bob, b)
	now = now.Add(ttl - time.Millisecond)
	renew(a.Room, Held{User: ada, Session: a.Session})
	now = now.Add(time.Millisecond)
	if got := where(bob); !got.IsZero() {
		t.Errorf("bob's whereabouts outlived the TTL: %+v", got)
	}
	if prev := claim(bob, b); !prev.IsZero() {
		t.Errorf("a claim after a lapse replaced %+v", prev)
	}
	if got := where(ada); got != a {
		t.Errorf("ada's renewed whereabouts: %+v, want %+v", got, a)
	}
	// Renewed at the first lapse less 1 ms, so they last until the
	// second less 1 ms: here, 1 ms before that.
	now = now.Add(ttl - 2*time.Millisecond)
	if got := where(ada); got != a {
		t.Errorf("ada's whereabouts lapsed early: %+v", got)
	}
	now = now.Add(time.Millisecond)
	if got := where(ada); !got.IsZero() {
		t.Errorf("ada's whereabouts outlived their renewal: %+v", got)
	}

	// A renewal records whereabouts that were lost (lapsed, or Redis
	// restarted empty), but never overrides a newer join elsewhere.
	renew(b.Room, Held{User: bob, Session: b.Session}, Held{User: ada, Session: a.Session})
	if got := where(bob); got != b {
		t.Errorf("bob's whereabouts after a renewal: %+v, want %+v", got, b)
	}
	if got := where(ada); got != (Whereabouts{Room: b.Room, Session: a.Session}) {
		t.Errorf("ada's lost whereabouts after a renewal in room b: %+v", got)
	}
	elsewhere := Whereabouts{Room: NewRoomID(), Session: NewSessionID()}
	claim(bob, elsewhere)
	renew(b.Room, Held{User: bob, Session: b.Session})
	if got := where(bob); got != elsewhere {
		t.Errorf("a renewal by the old room overrode bob's newer join: %+v, want %+v", got, elsewhere)
	}
	renew(b.Room)
}

func testLiveMovedIsNotBatched(t *testing.T, live LiveStore, bus Bus) {
	r := newLiveRoom(t, live, bus, liveLimits)
	r.open("creator")
	r.join("creator")
	r.join("a")
	r.join("b")
	a, b := r.record("a"), r.record("b")
	r.log.take()
	if err := live.Leave(t.Context(), r.id, a.UserID, a.Session, ReasonMoved, r.now, r.limits); err != nil {
		t.Fatal(err)
	}
	r.leave("b")
	r.checkTaken("a moves to another room, b leaves",
		r.evLeft(4, a, ReasonMoved, "", false, false), r.evLeft(5, b, ReasonLeft, "", false, true))
}
