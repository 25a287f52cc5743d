package rooms

import (
	"errors"
	"testing"
	"time"
)

// The parts of testLive (live_test.go) about how long a room and its
// people last: reconnect grace, leases, succession of moderators, the
// empty stage, ending, and removal.

func testLiveReconnectGrace(t *testing.T, live LiveStore, bus Bus) {
	r := newLiveRoom(t, live, bus, liveLimits)
	r.open("creator")
	r.join("creator")
	r.join("speaker")
	r.join("hand")
	r.onStage("creator", "speaker")
	r.tick(time.Second)
	r.do(act(ActMute, "speaker", ""), act(ActRaiseHand, "hand", ""), act(ActInvite, "creator", "hand"))
	r.log.take()
	before := r.snapshot()
	speaker := r.record("speaker")

	r.tick(time.Second)
	dropped := r.now
	r.disconnect("speaker", r.session("speaker"))
	r.disconnect("hand", r.session("hand"))
	r.checkTaken("two connections drop")
	r.checkSnapshot("two connections dropped", r.snapshot(), before)

	r.now = dropped.Add(r.limits.ReconnectGrace - time.Millisecond)
	if r.due() {
		t.Error("Due lists the room before the grace ran out")
	}
	if r.expire() {
		t.Error("Expire says end the room, with the creator on stage")
	}
	r.checkTaken("an expiry within the grace")
	r.checkSnapshot("an expiry within the grace", r.snapshot(), before)

	// hand is back just in time, with everything.
	old := r.record("hand")
	res := r.rejoin("hand")
	kept := withSession(old, r.session("hand"))
	r.checkParticipant("back within the grace", res.Participant, kept)
	if res.Replaced != old.Session {
		t.Errorf("Replaced = %s, want the dropped session %s", r.showSession(res.Replaced), r.showSession(old.Session))
	}
	r.checkTaken("the return within the grace", r.evReplaced(old))

	r.now = dropped.Add(r.limits.ReconnectGrace)
	if !r.due() {
		t.Error("Due does not list the room once the grace ran out")
	}
	if r.expire() {
		t.Error("Expire says end the room, with the creator on stage")
	}
	r.checkTaken("the grace ran out", r.evLeft(before.Seq+1, speaker, ReasonDisconnected, "", false, false))
	r.checkSnapshot("after the grace", r.snapshot(), Snapshot{
		Participants: []Participant{before.Participants[0], kept}, HandsEnabled: true, Seq: before.Seq + 1,
	})
}

func testLiveStaleDisconnect(t *testing.T, live LiveStore, bus Bus) {
	r := newLiveRoom(t, live, bus, liveLimits)
	r.open("creator")
	r.join("creator")
	old := r.join("a").Participant
	r.rejoin("a")
	r.log.take()
	before := r.snapshot()
	r.tick(time.Second)
	r.disconnect("a", old.Session)
	r.tick(r.limits.ReconnectGrace)
	if r.due() {
		t.Error("Due lists the room after a disconnect of a replaced session")
	}
	r.expire()
	r.checkTaken("the grace of a replaced session")
	r.checkSnapshot("the grace of a replaced session", r.snapshot(), before)
}

func testLiveLeases(t *testing.T, live LiveStore, bus Bus) {
	// The lease is longer than the grace, so that a renewal that wrongly
	// extended a dropped session would show.
	l := Limits{StageCap: 3, ReconnectGrace: 30 * time.Second, LeaseTTL: time.Minute, EmptyStageGrace: time.Hour}
	r := newLiveRoom(t, live, bus, l)
	r.open("creator")
	r.tick(time.Second)
	start := r.now
	r.join("renewed")
	r.join("lapsed")
	r.join("dropped")
	r.disconnect("dropped", r.session("dropped"))
	r.log.take()
	renewed, lapsed, dropped := r.record("renewed"), r.record("lapsed"), r.record("dropped")

	r.tick(20 * time.Second)
	// A stale session and a stranger are ignored, and renewing a dropped
	// session does not stretch its grace.
	r.renew(r.held("renewed"), Held{User: lapsed.UserID, Session: NewSessionID()},
		Held{User: r.user("stranger"), Session: NewSessionID()}, r.held("dropped"))
	r.checkTaken("a renewal")

	r.now = start.Add(l.ReconnectGrace)
	r.expire()
	r.checkTaken("the grace of the dropped", r.evLeft(4, dropped, ReasonDisconnected, "", false, true))

	r.now = start.Add(l.LeaseTTL - time.Millisecond)
	if r.due() {
		t.Error("Due lists the room before any lease ran out")
	}
	r.expire()
	r.checkTaken("an expiry before the lease ran out")

	r.now = start.Add(l.LeaseTTL)
	if !r.due() {
		t.Error("Due does not list the room once a lease ran out")
	}
	r.expire()
	r.checkTaken("the lapsed lease", r.evLeft(5, lapsed, ReasonDisconnected, "", false, true))

	renewedUntil := start.Add(20*time.Second + l.LeaseTTL)
	r.now = renewedUntil.Add(-time.Millisecond)
	r.expire()
	r.checkTaken("an expiry within the renewed lease")
	r.checkSnapshot("within the renewed lease", r.snapshot(), Snapshot{Participants: []Participant{renewed}, HandsEnabled: true, Seq: 5})

	r.now = renewedUntil
	r.expire()
	r.checkTaken("the renewed lease runs out", r.evLeft(6, renewed, ReasonDisconnected, "", false, true))
}

func testLiveSuccession(t *testing.T, live LiveStore, bus Bus) {
	// setUp makes a room with the creator on stage, then "late" and "early"
	// on stage in that order, though "early" joined first.
	setUp := func(t *testing.T) *liveRoom {
		r := newLiveRoom(t, live, bus, liveLimits)
		r.open("creator")
		r.join("creator")
		r.tick(time.Second)
		r.join("early")
		r.tick(time.Second)
		r.join("late")
		r.join("listener")
		r.onStage("creator", "late")
		r.onStage("creator", "early")
		r.log.take()
		return r
	}
	tests := []struct {
		name string
		run  func(r *liveRoom) // the last moderator goes; returns their event
		gone func(r *liveRoom, seq uint64, creator Participant) Event
	}{
		{"when the last moderator leaves the room", func(r *liveRoom) { r.leave("creator") },
			func(r *liveRoom, seq uint64, c Participant) Event {
				return r.evLeft(seq, c, ReasonLeft, "", false, false)
			}},
		{"when the last moderator steps down", func(r *liveRoom) { r.do(act(ActStepDown, "creator", "")) },
			func(r *liveRoom, seq uint64, c Participant) Event {
				return r.evUpdated(seq, asListener(c), CauseSteppedDown, "", false)
			}},
		{"when the last moderator's connection is gone for the grace", func(r *liveRoom) {
			r.disconnect("creator", r.session("creator"))
			r.tick(r.limits.ReconnectGrace)
			if r.expire() {
				r.t.Error("Expire says end the room, with speakers on stage")
			}
		}, func(r *liveRoom, seq uint64, c Participant) Event {
			return r.evLeft(seq, c, ReasonDisconnected, "", false, false)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := setUp(t)
			creator, late := r.record("creator"), r.record("late")
			seq := r.snapshot().Seq
			r.tick(time.Second)
			tt.run(r)
			r.checkTaken("the last moderator goes",
				tt.gone(r, seq+1, creator), r.evUpdated(seq+2, withRole(late, RoleModerator), CauseSuccession, "", false))
		})
	}

	t.Run("a speaker who stepped down and came back lost their seniority", func(t *testing.T) {
		r := setUp(t)
		r.tick(time.Second)
		r.do(act(ActStepDown, "late", ""))
		r.onStage("creator", "late")
		r.log.take()
		creator, early := r.record("creator"), r.record("early")
		seq := r.snapshot().Seq
		r.tick(time.Second)
		r.leave("creator")
		r.checkTaken("the last moderator leaves", r.evLeft(seq+1, creator, ReasonLeft, "", false, false),
			r.evUpdated(seq+2, withRole(early, RoleModerator), CauseSuccession, "", false))
	})

	t.Run("an invitation accepted onto a stage without a moderator makes a moderator", func(t *testing.T) {
		r := newLiveRoom(t, live, bus, liveLimits)
		r.open("creator")
		r.join("creator")
		r.join("guest")
		r.do(act(ActInvite, "creator", "guest"))
		r.tick(time.Second)
		r.leave("creator") // the stage is empty; the invitation stays
		r.log.take()
		guest := r.record("guest")
		r.tick(time.Second)
		r.do(act(ActAcceptInvite, "guest", ""))
		r.checkTaken("the accept", r.evUpdated(5, asSpeaker(guest, r.now), CauseInviteAccepted, "", false),
			r.evUpdated(6, withRole(asSpeaker(guest, r.now), RoleModerator), CauseSuccession, "", false))
	})

	t.Run("nobody succeeds while another moderator remains", func(t *testing.T) {
		r := setUp(t)
		r.tick(time.Second)
		r.do(act(ActMakeModerator, "creator", "early"))
		r.log.take()
		creator := r.record("creator")
		seq := r.snapshot().Seq
		r.tick(time.Second)
		r.leave("creator")
		r.checkTaken("a moderator leaves", r.evLeft(seq+1, creator, ReasonLeft, "", false, false))
	})

	t.Run("nobody succeeds when no speaker remains", func(t *testing.T) {
		r := newLiveRoom(t, live, bus, liveLimits)
		r.open("creator")
		r.join("creator")
		r.join("listener")
		r.log.take()
		creator, listener := r.record("creator"), r.record("listener")
		r.tick(time.Second)
		r.leave("creator")
		r.checkTaken("the last one on stage leaves", r.evLeft(3, creator, ReasonLeft, "", false, false))
		r.checkSnapshot("an empty stage", r.snapshot(), Snapshot{Participants: []Participant{listener}, HandsEnabled: true, Seq: 3})
	})
}

func testLiveEmptyStage(t *testing.T, live LiveStore, bus Bus) {
	grace := liveLimits.EmptyStageGrace
	// endsAt checks that the room is neither due nor to end just before
	// at, and is both at it.
	endsAt := func(r *liveRoom, at time.Time) {
		r.t.Helper()
		r.now = at.Add(-time.Millisecond)
		if r.due() || r.expire() {
			r.t.Errorf("the room is due or to end at %s, before %s", r.at(r.now), r.at(at))
		}
		r.now = at
		if !r.due() {
			r.t.Errorf("Due does not list the room at %s", r.at(at))
		}
		if !r.expire() {
			r.t.Errorf("Expire does not say end the room at %s", r.at(at))
		}
	}

	t.Run("a new room counts as empty from when it opened", func(t *testing.T) {
		r := newLiveRoom(t, live, bus, liveLimits)
		r.open("creator")
		opened := r.now
		r.tick(time.Minute)
		listener := r.join("listener").Participant // the audience does not count
		r.checkTaken("a listener joins", r.evJoined(1, listener))
		endsAt(r, opened.Add(grace))
		r.checkTaken("the room is empty")
	})
	t.Run("someone on stage stops the countdown, and it starts again when they leave", func(t *testing.T) {
		r := newLiveRoom(t, live, bus, liveLimits)
		r.open("creator")
		opened := r.now
		r.tick(time.Minute)
		r.join("creator")
		r.now = opened.Add(grace)
		if r.due() || r.expire() {
			t.Error("the room is due or to end with the creator on stage")
		}
		r.tick(10 * time.Minute)
		r.leave("creator")
		endsAt(r, r.now.Add(grace))
	})
	t.Run("the last one on stage stepping down starts the countdown", func(t *testing.T) {
		r := newLiveRoom(t, live, bus, liveLimits)
		r.open("creator")
		r.join("creator")
		r.tick(5 * time.Minute)
		r.do(act(ActStepDown, "creator", ""))
		endsAt(r, r.now.Add(grace))
	})
}

func testLiveEnd(t *testing.T, live LiveStore, bus Bus) {
	r := newLiveRoom(t, live, bus, liveLimits)
	r.open("creator")
	r.join("creator")
	r.join("listener")
	r.log.take()
	seq := r.snapshot().Seq

	r.tick(time.Second)
	if err := live.End(t.Context(), r.id, ReasonEndedByHost, r.now); err != nil {
		t.Fatalf("End: %v", err)
	}
	r.checkTaken("the end", r.evEnded(seq+1, ReasonEndedByHost))

	r.tick(time.Second)
	for _, name := range []string{"creator", "newcomer"} {
		if _, err := r.tryJoin(name); !errors.Is(err, ErrRoomEnded) {
			t.Errorf("%s joins after the end: err = %v, want ErrRoomEnded", name, err)
		}
	}
	if err := r.try(act(ActStepDown, "creator", "")); !errors.Is(err, ErrRoomEnded) {
		t.Errorf("an action after the end: err = %v, want ErrRoomEnded", err)
	}
	if _, err := live.Snapshot(t.Context(), r.id); !errors.Is(err, ErrRoomEnded) {
		t.Errorf("Snapshot after the end: err = %v, want ErrRoomEnded", err)
	}
	if c := r.counts(); c != (Counts{}) {
		t.Errorf("Counts after the end = %+v, want none", c)
	}
	// Late calls from the servers that held connections are harmless.
	r.leave("listener")
	r.disconnect("creator", r.session("creator"))
	r.renew(r.held("creator"))
	r.tick(time.Hour)
	if r.due() || r.expire() {
		t.Error("an ended room is due or to end")
	}
	if err := live.End(t.Context(), r.id, ReasonEmptyStage, r.now); err != nil {
		t.Errorf("a second End: %v", err)
	}
	// A process that restarts and opens the rooms it believes live must
	// not bring this one back.
	r.open("creator")
	if _, err := r.tryJoin("creator"); !errors.Is(err, ErrRoomEnded) {
		t.Errorf("a join after Open of an ended room: err = %v, want ErrRoomEnded", err)
	}
	r.checkTaken("after the end")
}

func testLiveEndUnopened(t *testing.T, live LiveStore, bus Bus) {
	r := newLiveRoom(t, live, bus, liveLimits)
	if err := live.End(t.Context(), r.id, ReasonEndedByHost, r.now); err != nil {
		t.Fatalf("End of a room never opened: %v", err)
	}
	r.open("creator")
	if _, err := r.tryJoin("creator"); !errors.Is(err, ErrRoomEnded) {
		t.Errorf("a join after the end: err = %v, want ErrRoomEnded", err)
	}
}

func testLiveActOnGoneRooms(t *testing.T, live LiveStore, bus Bus) {
	ended := newLiveRoom(t, live, bus, liveLimits)
	ended.open("creator")
	ended.join("creator")
	ended.join("listener")
	if err := live.End(t.Context(), ended.id, ReasonEndedByHost, ended.now); err != nil {
		t.Fatal(err)
	}
	ended.log.take()
	unknown := newLiveRoom(t, live, bus, liveLimits)
	for _, tt := range []struct {
		r    *liveRoom
		want error
	}{{ended, ErrRoomEnded}, {unknown, ErrRoomNotFound}} {
		for _, k := range Actions {
			a := ruleAct{kind: k, actor: "creator", enabled: true}
			if k.NeedsTarget() {
				a.target = "listener"
			}
			if err := tt.r.try(a); !errors.Is(err, tt.want) {
				t.Errorf("%s: err = %v, want %v", a, err, tt.want)
			}
		}
	}
	ended.checkTaken("actions on an ended room")
	if _, err := unknown.tryJoin("creator"); !errors.Is(err, ErrRoomNotFound) {
		t.Errorf("a join of an unknown room: err = %v, want ErrRoomNotFound", err)
	}
	if _, err := live.Snapshot(t.Context(), unknown.id); !errors.Is(err, ErrRoomNotFound) {
		t.Errorf("Snapshot of an unknown room: err = %v, want ErrRoomNotFound", err)
	}
	if c := unknown.counts(); c != (Counts{}) {
		t.Errorf("Counts of an unknown room = %+v, want none", c)
	}
	unknown.checkTaken("calls on an unknown room")
}

func testLiveBlocked(t *testing.T, live LiveStore, bus Bus) {
	r := newLiveRoom(t, live, bus, liveLimits)
	r.open("creator")
	r.join("creator")
	r.join("troll")
	r.join("guest")
	r.tick(time.Second)
	r.do(ruleAct{kind: ActRemove, actor: "creator", target: "troll", block: true}, act(ActRemove, "creator", "guest"))
	r.log.take()
	before := r.snapshot()

	r.tick(time.Second)
	if _, err := r.tryJoin("troll"); !errors.Is(err, ErrBlocked) {
		t.Errorf("a blocked member joins: err = %v, want ErrBlocked", err)
	}
	r.newSession("troll")
	if _, err := r.tryJoin("troll"); !errors.Is(err, ErrBlocked) {
		t.Errorf("a blocked member joins from a new session: err = %v, want ErrBlocked", err)
	}
	r.checkTaken("refused joins")
	r.checkSnapshot("after refused joins", r.snapshot(), before)

	r.newSession("guest")
	res := r.join("guest")
	guest := Participant{UserID: r.user("guest"), DisplayName: "guest", Role: RoleListener, JoinedAt: r.now, Session: r.session("guest")}
	r.checkParticipant("removed without a block, back", res.Participant, guest)
	r.checkTaken("the return", r.evJoined(before.Seq+1, guest))
}
