package rooms

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// The Redis store against the memory store, step for step: random runs of
// every operation on one room, with both stores compared after each step
// (errors to the letter, results, snapshots, counts, due) and their event
// streams compared at the end. The memory store is the reference; the
// contract suite checks it against docs/stage.md.

func TestRedisLiveMatchesMemory(t *testing.T) {
	client, prefix := testRedis(t)
	seen := make(map[string]bool) // event types and causes the runs made
	for seed := range uint64(24) {
		t.Run(fmt.Sprintf("seed %d", seed), func(t *testing.T) {
			red := NewRedisLive(client, prefix)
			t.Cleanup(func() { _ = red.Close() })
			bus := NewMemoryBus()
			t.Cleanup(func() { _ = bus.Close() })
			for _, ev := range runTwins(t, rand.New(rand.NewPCG(seed, 0x9a71e7)), NewMemoryLive(bus), bus, red) {
				seen[string(ev.Type)], seen[string(ev.Cause)] = true, true
			}
		})
	}
	// The runs must reach every event and every cause, or they prove little.
	for _, want := range []string{
		string(EventParticipantJoined), string(EventParticipantUpdated), string(EventParticipantLeft),
		string(EventRoomUpdated), string(EventRoomEnded), string(EventSessionReplaced),
		string(CauseHandRaised), string(CauseHandLowered), string(CauseInvited), string(CauseInviteAccepted),
		string(CauseInviteDeclined), string(CauseMovedToAudience), string(CauseMadeModerator), string(CauseMuted),
		string(CauseUnmuted), string(CauseSteppedDown), string(CauseSuccession), string(CauseHandsCleared),
	} {
		if !seen[want] && !t.Failed() {
			t.Errorf("no run made a %s event", want)
		}
	}
}

// twins drives two stores through the same steps.
type twins struct {
	t        *testing.T
	rnd      *rand.Rand
	stores   [2]LiveStore // memory, Redis
	room     RoomID
	ended    bool
	now      time.Time
	limits   Limits
	users    []UserID // users[0] is the creator
	sessions [][]SessionID
	steps    []string // what was done, for the failure message
}

// runTwins returns the events of the memory store.
func runTwins(t *testing.T, rnd *rand.Rand, mem LiveStore, memBus Bus, red *RedisLive) []Event {
	w := &twins{
		t: t, rnd: rnd, stores: [2]LiveStore{mem, red},
		// A small stage, and graces short enough that people expire and
		// rooms end within a run.
		limits: Limits{StageCap: 3, ReconnectGrace: 3 * time.Second, LeaseTTL: 5 * time.Second, EmptyStageGrace: 8 * time.Second},
	}
	for range 8 {
		w.users = append(w.users, NewUserID())
		w.sessions = append(w.sessions, []SessionID{NewSessionID()})
	}
	var events []Event
	for range 3 {
		// A room, until it ends or has seen enough.
		w.room, w.now = NewRoomID(), redisEpoch
		logs := [2]*twinLog{watchTwin(t, memBus, w.room), watchTwin(t, red, w.room)}
		w.step("open", func(s LiveStore) (string, error) {
			return "", s.Open(t.Context(), w.room, w.users[0], nil, w.now, w.limits)
		})
		// Everyone comes in, the creator first, as rooms start.
		for u := range w.users {
			w.join(u)
		}
		for i := 0; i < 300 && !w.ended; i++ {
			w.randomStep()
			if t.Failed() {
				t.Fatalf("the stores parted after:\n  %s", strings.Join(w.steps, "\n  "))
			}
		}
		w.ended = false
		evs := [2][]Event{logs[0].all(t), logs[1].all(t)}
		if got, want := w.showEvents(evs[1]), w.showEvents(evs[0]); got != want {
			t.Fatalf("events: Redis =\n%s\nmemory =\n%s", got, want)
		}
		events = append(events, evs[0]...)
	}
	return events
}

// step does one thing to both stores and fails unless they agree.
func (w *twins) step(what string, do func(LiveStore) (string, error)) {
	w.t.Helper()
	w.steps = append(w.steps, fmt.Sprintf("%s at +%v", what, w.now.Sub(redisEpoch)))
	var got [2]string
	for i, s := range w.stores {
		out, err := do(s)
		got[i] = out
		if err != nil {
			got[i] += " error: " + err.Error()
		}
	}
	if got[0] != got[1] {
		w.t.Errorf("%s:\n  Redis  %s\n  memory %s", what, got[1], got[0])
	}
}

func (w *twins) pick() int { return w.rnd.IntN(len(w.users)) }

// someone is a user of the cast, or (rarely) a stranger.
func (w *twins) someone() UserID {
	if w.rnd.IntN(12) == 0 {
		return NewUserID()
	}
	return w.users[w.pick()]
}

func (w *twins) randomStep() {
	ctx := w.t.Context()
	switch n := w.rnd.IntN(100); {
	case n < 12:
		u := w.pick()
		if w.rnd.IntN(4) == 0 {
			w.sessions[u] = append(w.sessions[u], NewSessionID())
		}
		w.join(u)
	case n < 16:
		u, ses := w.pick(), w.anySession()
		w.step(fmt.Sprintf("leave u%d", u), func(s LiveStore) (string, error) {
			return "", s.Leave(ctx, w.room, w.users[u], ses, ReasonLeft, w.now, w.limits)
		})
	case n < 20:
		u, ses := w.pick(), w.anySession()
		w.step(fmt.Sprintf("disconnect u%d", u), func(s LiveStore) (string, error) {
			return "", s.Disconnect(ctx, w.room, w.users[u], ses, w.now, w.limits)
		})
	case n < 26:
		var held []Held
		for u := range w.users {
			if w.rnd.IntN(2) == 0 {
				held = append(held, Held{User: w.users[u], Session: w.anySession()})
			}
		}
		w.step("renew", func(s LiveStore) (string, error) { return "", s.Renew(ctx, w.room, held, w.now, w.limits) })
	case n < 70:
		a := w.randomAction()
		w.step(fmt.Sprintf("act %+v", a), func(s LiveStore) (string, error) { return "", s.Act(ctx, w.room, a, w.now, w.limits) })
	case n < 80:
		w.now = w.now.Add(time.Duration(w.rnd.IntN(1500)) * time.Millisecond)
	case n < 86:
		var endNow bool
		w.step("expire", func(s LiveStore) (string, error) {
			end, err := s.Expire(ctx, w.room, w.now, w.limits)
			endNow = end
			return fmt.Sprint("end now ", end), err
		})
		if endNow {
			w.end(ReasonEmptyStage)
		}
	case n < 100:
		if n == 99 && w.rnd.IntN(4) == 0 {
			w.end(ReasonEndedByHost)
			return
		}
		w.step("read", func(s LiveStore) (string, error) {
			snap, err := s.Snapshot(ctx, w.room)
			if err != nil {
				return "", err
			}
			c, err := s.Counts(ctx, w.room)
			if err != nil {
				return "", err
			}
			due, err := s.Due(ctx, w.now, 0)
			return fmt.Sprintf("%s\ncounts %+v due %t", w.showSnapshot(snap), c, slices.Contains(due, w.room)), err
		})
	}
}

func (w *twins) join(u int) {
	p := Participant{UserID: w.users[u], DisplayName: fmt.Sprint("user ", u), JoinedAt: w.now, Session: w.current(u)}
	w.step(fmt.Sprintf("join u%d", u), func(s LiveStore) (string, error) {
		res, err := s.Join(w.t.Context(), w.room, p, w.now, w.limits)
		return fmt.Sprintf("%s replaced=%s\n%s", w.showP(res.Participant), w.showSession(res.Replaced), w.showSnapshot(res.Snapshot)), err
	})
}

func (w *twins) end(reason string) {
	w.ended = true
	w.step("end "+reason, func(s LiveStore) (string, error) { return "", s.End(w.t.Context(), w.room, reason, w.now) })
}

func (w *twins) current(u int) SessionID { return w.sessions[u][len(w.sessions[u])-1] }

// anySession is mostly someone's current session, sometimes an old one.
func (w *twins) anySession() SessionID {
	u := w.pick()
	if w.rnd.IntN(5) == 0 {
		return w.sessions[u][w.rnd.IntN(len(w.sessions[u]))]
	}
	return w.current(u)
}

func (w *twins) randomAction() Action {
	kinds := append(slices.Clone(Actions), "dance")
	a := Action{Kind: kinds[w.rnd.IntN(len(kinds))], Actor: w.someone(), Block: w.rnd.IntN(2) == 0, Enabled: w.rnd.IntN(2) == 0}
	switch w.rnd.IntN(4) {
	case 0:
		// no target
	case 1:
		a.Target = a.Actor
	default:
		a.Target = w.someone()
	}
	// Invitations are what lets people on stage; make them common.
	if w.rnd.IntN(5) == 0 {
		a.Kind = []ActionKind{ActInvite, ActAcceptInvite}[w.rnd.IntN(2)]
	}
	// Often a moderator acts on someone on stage, or an invited listener
	// answers, if there are any (asking the reference store), so that
	// moderation and invitations get done.
	snap, err := w.stores[0].Snapshot(w.t.Context(), w.room)
	if err != nil {
		return a
	}
	var mods, stage, listeners, invited []UserID
	for _, p := range snap.Participants {
		switch {
		case p.Role == RoleModerator:
			mods = append(mods, p.UserID)
		case p.Invited:
			invited = append(invited, p.UserID)
		}
		if p.Role.OnStage() {
			stage = append(stage, p.UserID)
		} else {
			listeners = append(listeners, p.UserID)
		}
	}
	anyOf := func(ids []UserID, or UserID) UserID {
		if len(ids) == 0 {
			return or
		}
		return ids[w.rnd.IntN(len(ids))]
	}
	switch w.rnd.IntN(6) {
	case 0:
		a.Actor = anyOf(mods, a.Actor)
		a.Target = anyOf(slices.DeleteFunc(stage, func(u UserID) bool { return u == a.Actor }), a.Target)
	case 1:
		a.Kind, a.Actor, a.Target = ActInvite, anyOf(mods, a.Actor), anyOf(listeners, a.Target)
	case 2:
		if len(invited) > 0 {
			a.Kind = []ActionKind{ActAcceptInvite, ActDeclineInvite}[w.rnd.IntN(2)]
			a.Actor = invited[w.rnd.IntN(len(invited))]
		}
	}
	return a
}

// Rendering, with times as offsets so that both stores' times compare by
// instant.

func (w *twins) at(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.Sub(redisEpoch).String()
}

func (w *twins) showSession(s SessionID) string { return string(s) }

func (w *twins) showP(p Participant) string {
	return fmt.Sprintf("%s{%s %q joined=%s muted=%t invited=%t hand=%d stage=%s session=%s}",
		p.UserID, p.Role, p.DisplayName, w.at(p.JoinedAt), p.Muted, p.Invited, p.HandSeq, w.at(p.StageSince), p.Session)
}

func (w *twins) showSnapshot(s Snapshot) string {
	lines := []string{fmt.Sprintf("seq=%d hands=%t", s.Seq, s.HandsEnabled)}
	for _, p := range s.Participants {
		lines = append(lines, "  "+w.showP(p))
	}
	return strings.Join(lines, "\n")
}

func (w *twins) showEvents(evs []Event) string {
	lines := make([]string, len(evs))
	for i, ev := range evs {
		lines[i] = fmt.Sprintf("  #%d %s room=%s at=%s %s cause=%s by=%s reason=%s blocked=%t hands=%t audience=%t speaking=%t",
			ev.Seq, ev.Type, ev.Room, w.at(ev.At), w.showP(ev.Participant), ev.Cause, ev.By, ev.Reason,
			ev.Blocked, ev.HandsEnabled, ev.Audience, ev.Speaking)
	}
	return strings.Join(lines, "\n")
}

// twinLog collects a room's events from a bus. all waits for a marker it
// publishes, so it holds everything emitted before it was called.
type twinLog struct {
	bus  Bus
	room RoomID

	mu      sync.Mutex // guards evs and markers
	evs     []Event
	markers map[UserID]bool
	arrived chan struct{} // capacity 1
}

func watchTwin(t *testing.T, bus Bus, room RoomID) *twinLog {
	l := &twinLog{bus: bus, room: room, markers: make(map[UserID]bool), arrived: make(chan struct{}, 1)}
	t.Cleanup(bus.Subscribe(room, func(ev Event) {
		l.mu.Lock()
		if ev.Type == EventSpeaking && ev.Speaking {
			l.markers[ev.Participant.UserID] = true
		} else {
			l.evs = append(l.evs, ev)
		}
		l.mu.Unlock()
		select {
		case l.arrived <- struct{}{}:
		default:
		}
	}))
	return l
}

func (l *twinLog) all(t *testing.T) []Event {
	t.Helper()
	marker := NewUserID()
	ev := Event{Type: EventSpeaking, Room: l.room, Participant: Participant{UserID: marker}, Speaking: true}
	if err := l.bus.Publish(t.Context(), ev); err != nil {
		t.Fatalf("publish a marker: %v", err)
	}
	deadline := time.NewTimer(10 * time.Second)
	defer deadline.Stop()
	for {
		l.mu.Lock()
		in, evs := l.markers[marker], slices.Clone(l.evs)
		l.mu.Unlock()
		if in {
			return evs
		}
		select {
		case <-l.arrived:
		case <-deadline.C:
			t.Fatalf("room %s: the marker did not come back within 10s", l.room)
		}
	}
}
