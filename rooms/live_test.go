package rooms

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"
)

// testLive is the contract every LiveStore passes, together with the Bus it
// emits on: the rules of docs/stage.md, checked through the interfaces, the
// sentinel errors and the events the bus delivers. open returns a new store
// and its bus for each call and owns their cleanup; a store may be shared
// by several rooms of one test, never by two tests. Nothing here may
// depend on one engine: the memory and the Redis stores both run it.
//
// The suite asks of the bus that an event published after Subscribe
// returned is delivered, and that a room's events arrive in the order they
// were emitted: it waits for what it expects by publishing a marker and
// waiting for it to come back.
func testLive(t *testing.T, open func(t *testing.T) (LiveStore, Bus)) {
	t.Run("the rules of the stage", func(t *testing.T) {
		live, bus := open(t)
		testRules(t, live, bus)
	})
	tests := []struct {
		name string
		run  func(t *testing.T, live LiveStore, bus Bus)
	}{
		{"the creator joins as a moderator and everyone else as a listener, in join order", testLiveJoinOrder},
		{"someone who leaves and joins again is a new listener at the end of the list", testLiveLeaveAndComeBack},
		{"a join from another session keeps role, mute, hand and invitation and replaces the old session", testLiveRejoinKeepsThePlace},
		{"a join from the session that holds the place changes nothing", testLiveRejoinSameSession},
		{"a leave by a replaced session changes nothing; the current one's takes the member out", testLiveStaleLeave},
		{"leaving a room one is not in, or one that is gone, changes nothing", testLiveLeaveNothing},
		{"a dropped connection keeps its place for the reconnect grace", testLiveReconnectGrace},
		{"a disconnect by a replaced session starts no grace", testLiveStaleDisconnect},
		{"renewed leases keep participants and lapsed ones take them out", testLiveLeases},
		{"the longest-serving speaker succeeds the last moderator", testLiveSuccession},
		{"a stage left empty for the grace ends the room", testLiveEmptyStage},
		{"ending a room emits room_ended once and keeps it ended", testLiveEnd},
		{"ending a room that was never opened keeps it ended", testLiveEndUnopened},
		{"every action on an ended room is room_ended and on an unknown room room_not_found", testLiveActOnGoneRooms},
		{"someone removed with a block cannot join again; without one they can", testLiveBlocked},
		{"raised hands queue in the order they went up", testLiveHandQueue},
		{"turning hands off lowers every hand and refuses new ones until they are back on", testLiveHandsOff},
		{"counts put everyone on stage among speakers and the rest among listeners", testLiveCounts},
		{"opening a room that is open changes nothing", testLiveOpenTwice},
		{"rooms are independent", testLiveRoomsIndependent},
		{"an event's change can be read from the store when the event arrives", testLiveEventsFollowState},
		{"Due lists at most as many rooms as asked", testLiveDueLimit},
		{"co-hosts join as moderators every time, and have no other privilege", testLiveCohosts},
		{"Participant reads one record, or says why it cannot", testLiveParticipant},
		{"a room restored after the store lost it keeps its co-hosts", testLiveRestoreKeepsCohosts},
		{"the lineup is the stage in join order with the head counts", testLiveLineup},
		{"guests are counted among listeners and as guests until they go", testLiveGuestsCounted},
		{"each member's whereabouts: a claim replaces, a release forgets, a lapse ends", testLivePresence},
		{"a listener who moved to another room is announced at once, not batched", testLiveMovedIsNotBatched},
		{"after the store lost a room, what the processes hold puts it back and it goes on", testLiveRestore},
		{"the store answers Ping", func(t *testing.T, live LiveStore, _ Bus) {
			if err := live.Ping(t.Context()); err != nil {
				t.Errorf("Ping: %v", err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			live, bus := open(t)
			tt.run(t, live, bus)
		})
	}
	t.Run("hands, invitations and demotions racing keep the stage whole and the events gapless", func(t *testing.T) {
		live, bus := open(t)
		testLiveConcurrency(t, live, bus)
	})
}

// liveLimits are the suite's numbers unless a test needs others. The lease
// is long, so that only the tests about leases see one run out.
var liveLimits = Limits{StageCap: 3, ReconnectGrace: 30 * time.Second, LeaseTTL: 10 * time.Minute, EmptyStageGrace: 2 * time.Minute}

// onStage invites name and has them accept: a speaker from now.
func (r *liveRoom) onStage(by, name string) {
	r.t.Helper()
	r.tick(time.Second)
	r.do(act(ActInvite, by, name))
	r.tick(time.Second)
	r.do(act(ActAcceptInvite, name, ""))
}

func testLiveJoinOrder(t *testing.T, live LiveStore, bus Bus) {
	r := newLiveRoom(t, live, bus, liveLimits)
	r.open("creator")
	r.tick(time.Second)
	// A joining record's role, mute, hand and invitation are the store's
	// to decide, whatever the caller sends.
	asked := Participant{
		UserID: r.user("early"), DisplayName: "early", Role: RoleModerator, JoinedAt: r.now, Muted: true,
		Invited: true, HandSeq: 9, StageSince: r.now, Session: r.session("early"),
	}
	res, err := live.Join(t.Context(), r.id, asked, r.now, r.limits)
	if err != nil {
		t.Fatal(err)
	}
	early := Participant{UserID: asked.UserID, DisplayName: "early", Role: RoleListener, JoinedAt: r.now, Session: asked.Session}
	r.checkParticipant("the first to join, before the creator", res.Participant, early)
	r.checkTaken("the first join", r.evJoined(1, early))

	r.tick(time.Second)
	res = r.join("creator")
	creator := Participant{UserID: r.user("creator"), DisplayName: "creator", Role: RoleModerator, JoinedAt: r.now, StageSince: r.now, Session: r.session("creator")}
	r.checkParticipant("the creator", res.Participant, creator)
	r.checkTaken("the creator's join", r.evJoined(2, creator))

	r.tick(time.Second)
	res = r.join("late")
	late := Participant{UserID: r.user("late"), DisplayName: "late", Role: RoleListener, JoinedAt: r.now, Session: r.session("late")}
	want := Snapshot{Participants: []Participant{early, creator, late}, HandsEnabled: true, Seq: 3}
	r.checkSnapshot("the join's snapshot", res.Snapshot, want)
	r.checkSnapshot("after three joins", r.snapshot(), want)
	r.checkTaken("the third join", r.evJoined(3, late))

	// The creator leaves and comes back: a moderator again, every time.
	r.tick(time.Second)
	r.leave("creator")
	r.checkTaken("the creator's leave", r.evLeft(4, creator, ReasonLeft, "", false, false))
	r.tick(time.Second)
	r.newSession("creator")
	res = r.join("creator")
	back := Participant{UserID: creator.UserID, DisplayName: "creator", Role: RoleModerator, JoinedAt: r.now, StageSince: r.now, Session: r.session("creator")}
	r.checkParticipant("the creator back", res.Participant, back)
	r.checkTaken("the creator's return", r.evJoined(5, back))
	r.checkSnapshot("after the return", r.snapshot(), Snapshot{Participants: []Participant{early, late, back}, HandsEnabled: true, Seq: 5})
}

func testLiveLeaveAndComeBack(t *testing.T, live LiveStore, bus Bus) {
	r := newLiveRoom(t, live, bus, liveLimits)
	r.open("creator")
	r.join("creator")
	r.tick(time.Second)
	r.join("a")
	r.join("b")
	r.tick(time.Second)
	r.do(act(ActRaiseHand, "a", ""), act(ActInvite, "creator", "a"))
	a := r.record("a")
	r.log.take()
	seq := r.snapshot().Seq

	r.tick(time.Second)
	r.leave("a")
	r.checkTaken("a listener leaves", r.evLeft(seq+1, a, ReasonLeft, "", false, true))
	r.tick(time.Second)
	r.newSession("a")
	res := r.join("a")
	fresh := Participant{UserID: a.UserID, DisplayName: "a", Role: RoleListener, JoinedAt: r.now, Session: r.session("a")}
	r.checkParticipant("back without hand or invitation", res.Participant, fresh)
	r.checkTaken("the return", r.evJoined(seq+2, fresh))
	if ps := r.snapshot().Participants; len(ps) != 3 || ps[2].UserID != a.UserID {
		t.Errorf("after coming back a is not last:\n%s", r.showSnapshot(r.snapshot()))
	}
}

func testLiveRejoinKeepsThePlace(t *testing.T, live LiveStore, bus Bus) {
	r := newLiveRoom(t, live, bus, liveLimits)
	r.open("creator")
	r.join("creator")
	for _, n := range []string{"speaker", "hand", "next"} {
		r.tick(time.Second)
		r.join(n)
	}
	r.onStage("creator", "speaker")
	r.tick(time.Second)
	r.do(act(ActMute, "speaker", ""), act(ActRaiseHand, "hand", ""), act(ActInvite, "creator", "hand"), act(ActRaiseHand, "next", ""))
	r.log.take()
	before := r.snapshot()

	for _, name := range []string{"speaker", "hand"} {
		r.tick(time.Minute)
		old := r.record(name)
		res := r.rejoin(name)
		if res.Replaced != old.Session {
			t.Errorf("%s: Replaced = %s, want the old session %s", name, r.showSession(res.Replaced), r.showSession(old.Session))
		}
		kept := withSession(old, r.session(name))
		r.checkParticipant(name+" back from another session", res.Participant, kept)
		r.checkTaken(name+"'s second session", r.evReplaced(old))
		for i, p := range before.Participants {
			if p.UserID == old.UserID {
				before.Participants[i] = kept
			}
		}
		r.checkSnapshot(name+"'s join result", res.Snapshot, before)
		r.checkSnapshot("after "+name+"'s second session", r.snapshot(), before)
	}
	// The hand kept its place in the queue, ahead of next's.
	if h, n := r.record("hand").HandSeq, r.record("next").HandSeq; h == 0 || h >= n {
		t.Errorf("hand's place %d is not ahead of next's %d", h, n)
	}
}

func testLiveRejoinSameSession(t *testing.T, live LiveStore, bus Bus) {
	r := newLiveRoom(t, live, bus, liveLimits)
	r.open("creator")
	first := r.join("creator")
	r.tick(time.Second)
	r.log.take()
	again := r.join("creator")
	if again.Replaced != "" {
		t.Errorf("Replaced = %s, want none: nobody was replaced", r.showSession(again.Replaced))
	}
	r.checkParticipant("the same session again", again.Participant, first.Participant)
	r.checkSnapshot("the same session again", again.Snapshot, first.Snapshot)
	r.checkTaken("the same session again")
}

func testLiveStaleLeave(t *testing.T, live LiveStore, bus Bus) {
	r := newLiveRoom(t, live, bus, liveLimits)
	r.open("creator")
	r.join("creator")
	r.tick(time.Second)
	old := r.join("a").Participant
	r.join("speaker")
	r.onStage("creator", "speaker")
	r.tick(time.Second)
	cur := r.rejoin("a").Participant
	r.log.take()
	before := r.snapshot()

	r.tick(time.Second)
	r.leaveSession("a", old.Session)
	r.checkTaken("a leave by the replaced session")
	r.checkSnapshot("after a leave by the replaced session", r.snapshot(), before)

	r.tick(time.Second)
	r.leave("a")
	r.checkTaken("a leave by the current session", r.evLeft(before.Seq+1, cur, ReasonLeft, "", false, true))
	speaker := r.record("speaker")
	r.tick(time.Second)
	r.leave("speaker")
	r.checkTaken("a speaker's leave goes out at once", r.evLeft(before.Seq+2, speaker, ReasonLeft, "", false, false))
}

func testLiveLeaveNothing(t *testing.T, live LiveStore, bus Bus) {
	r := newLiveRoom(t, live, bus, liveLimits)
	r.open("creator")
	r.join("creator")
	r.log.take()
	before := r.snapshot()
	r.leave("stranger")
	if err := live.Leave(t.Context(), NewRoomID(), r.user("creator"), r.session("creator"), ReasonLeft, r.now, r.limits); err != nil {
		t.Errorf("Leave of a room that does not exist: %v", err)
	}
	r.checkTaken("leaves of no one")
	r.checkSnapshot("after leaves of no one", r.snapshot(), before)
}

func testLiveHandQueue(t *testing.T, live LiveStore, bus Bus) {
	r := newLiveRoom(t, live, bus, liveLimits)
	r.open("creator")
	r.join("creator")
	for _, n := range []string{"a", "b", "c"} {
		r.join(n)
	}
	r.log.take()
	seq := r.snapshot().Seq
	a, b, c := r.record("a"), r.record("b"), r.record("c")
	r.tick(time.Second)
	r.do(act(ActRaiseHand, "c", ""), act(ActRaiseHand, "a", ""), act(ActRaiseHand, "b", ""))
	// Each hand's place is the seq of the event that raised it.
	r.checkTaken("three hands go up",
		r.evUpdated(seq+1, withHand(c, seq+1), CauseHandRaised, "", true),
		r.evUpdated(seq+2, withHand(a, seq+2), CauseHandRaised, "", true),
		r.evUpdated(seq+3, withHand(b, seq+3), CauseHandRaised, "", true))
	r.tick(time.Second)
	r.do(act(ActLowerHand, "a", ""), act(ActRaiseHand, "a", ""))
	r.checkTaken("one goes down and up again, to the end of the queue",
		r.evUpdated(seq+4, a, CauseHandLowered, "", true),
		r.evUpdated(seq+5, withHand(a, seq+5), CauseHandRaised, "", true))
	r.checkSnapshot("the queue is c, b, a", r.snapshot(), Snapshot{
		Participants: []Participant{r.record("creator"), withHand(a, seq+5), withHand(b, seq+3), withHand(c, seq+1)},
		HandsEnabled: true, Seq: seq + 5,
	})
}

func testLiveHandsOff(t *testing.T, live LiveStore, bus Bus) {
	r := newLiveRoom(t, live, bus, liveLimits)
	r.open("creator")
	r.join("creator")
	r.join("a")
	r.join("b")
	r.do(act(ActRaiseHand, "a", ""), act(ActRaiseHand, "b", ""))
	r.log.take()
	a, b := withHand(r.record("a"), 0), withHand(r.record("b"), 0)
	seq := r.snapshot().Seq

	r.tick(time.Second)
	r.do(act(ActSetHands, "creator", ""))
	r.checkTaken("hands off", r.evHands(seq+1, false),
		r.evUpdated(seq+2, a, CauseHandsCleared, "creator", false), r.evUpdated(seq+3, b, CauseHandsCleared, "creator", false))
	if err := r.try(act(ActRaiseHand, "a", "")); !errors.Is(err, ErrHandsDisabled) {
		t.Errorf("a hand raised while hands are off: err = %v, want ErrHandsDisabled", err)
	}
	r.tick(time.Second)
	r.do(ruleAct{kind: ActSetHands, actor: "creator", enabled: true}, act(ActRaiseHand, "a", ""))
	r.checkTaken("hands back on", r.evHands(seq+4, true), r.evUpdated(seq+5, withHand(a, seq+5), CauseHandRaised, "", true))
}

func testLiveCounts(t *testing.T, live LiveStore, bus Bus) {
	r := newLiveRoom(t, live, bus, liveLimits)
	r.open("creator")
	if c := r.counts(); c != (Counts{}) {
		t.Errorf("Counts of a room nobody joined = %+v", c)
	}
	for _, n := range []string{"creator", "speaker", "a", "b", "dropped"} {
		r.join(n)
	}
	r.onStage("creator", "speaker")
	r.disconnect("dropped", r.session("dropped")) // still in, for the grace
	if c := r.counts(); c != (Counts{Speakers: 2, Listeners: 3}) {
		t.Errorf("Counts = %+v, want 2 on stage and 3 listening", c)
	}
	r.do(act(ActStepDown, "speaker", ""))
	if c := r.counts(); c != (Counts{Speakers: 1, Listeners: 4}) {
		t.Errorf("Counts after a step down = %+v, want 1 on stage and 4 listening", c)
	}
	if c, err := live.Counts(t.Context(), NewRoomID()); err != nil || c != (Counts{}) {
		t.Errorf("Counts of an unknown room = %+v, %v; want none", c, err)
	}
}

func testLiveOpenTwice(t *testing.T, live LiveStore, bus Bus) {
	r := newLiveRoom(t, live, bus, liveLimits)
	r.open("creator")
	r.join("creator")
	r.join("a")
	r.do(act(ActRaiseHand, "a", ""), act(ActSetHands, "creator", ""))
	r.log.take()
	before := r.snapshot()
	r.tick(time.Minute)
	r.open("creator")
	r.checkSnapshot("after a second Open", r.snapshot(), before)
	r.checkTaken("a second Open")
}

func testLiveRoomsIndependent(t *testing.T, live LiveStore, bus Bus) {
	a := newLiveRoom(t, live, bus, liveLimits)
	b := newLiveRoom(t, live, bus, liveLimits)
	// The same member in both rooms, with the same session.
	b.users, b.names, b.sessions, b.labels = a.users, a.names, a.sessions, a.labels
	a.open("creator")
	b.open("other")
	a.join("creator")
	a.join("both")
	b.join("both")
	a.do(act(ActRaiseHand, "both", ""))
	bBoth := b.record("both")
	if bBoth.HandSeq != 0 || bBoth.Role != RoleListener {
		t.Errorf("a hand raised in room a shows in room b: %s", b.showParticipant(bBoth))
	}
	if err := live.End(t.Context(), a.id, ReasonEndedByHost, a.now); err != nil {
		t.Fatal(err)
	}
	b.checkSnapshot("room b after room a ended", b.snapshot(), Snapshot{Participants: []Participant{bBoth}, HandsEnabled: true, Seq: 1})
	b.checkTaken("room b", b.evJoined(1, bBoth))
	if n := len(a.log.take()); n != 4 {
		t.Errorf("room a delivered %d events, want 4", n)
	}
}

func testLiveEventsFollowState(t *testing.T, live LiveStore, bus Bus) {
	r := newLiveRoom(t, live, bus, liveLimits)
	var behind []string // only the bus's goroutine appends, until the sync below
	// Handlers run on the bus's goroutine and may call the store.
	hooked := watchRoomHook(t, bus, r.id, func(ev Event) {
		if ev.Seq == 0 {
			return
		}
		if s, err := live.Snapshot(t.Context(), r.id); err != nil || s.Seq < ev.Seq {
			behind = append(behind, fmt.Sprintf("%s: the store is at seq %d, %v", r.showEvent(ev), s.Seq, err))
		}
	})
	r.open("creator")
	r.join("creator")
	r.join("a")
	r.onStage("creator", "a")
	r.do(act(ActMuteAll, "creator", ""), act(ActStepDown, "a", ""), act(ActRaiseHand, "a", ""))
	if n := len(hooked.all()); n != 7 {
		t.Errorf("the hooked subscriber got %d events, want 7", n)
	}
	for _, b := range behind {
		t.Errorf("an event arrived before its change could be read: %s", b)
	}
}

func testLiveDueLimit(t *testing.T, live LiveStore, bus Bus) {
	var rooms []*liveRoom
	for range 3 {
		r := newLiveRoom(t, live, bus, liveLimits)
		r.open("creator")
		rooms = append(rooms, r)
	}
	at := liveEpoch.Add(liveLimits.EmptyStageGrace)
	for _, tt := range []struct{ limit, want int }{{2, 2}, {3, 3}, {10, 3}} {
		ids, err := live.Due(t.Context(), at, tt.limit)
		if err != nil {
			t.Fatal(err)
		}
		if len(ids) != tt.want {
			t.Errorf("Due with limit %d = %d rooms, want %d", tt.limit, len(ids), tt.want)
		}
		for _, id := range ids {
			if !slices.ContainsFunc(rooms, func(r *liveRoom) bool { return r.id == id }) {
				t.Errorf("Due lists %s, which is none of the rooms", id)
			}
		}
	}
}
