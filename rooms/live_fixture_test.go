package rooms

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// The fixture of the live contract suite (live_test.go). It drives a
// LiveStore through its interface only and watches the events through the
// Bus, so that the memory and the Redis stores both run it.

// liveEpoch is where every fake clock of the suite starts. Times print as
// offsets from it, and every step is a whole millisecond, so that a store
// keeping milliseconds loses nothing.
var liveEpoch = time.Date(2026, 3, 1, 18, 0, 0, 0, time.UTC)

// busWait bounds every wait for the bus. A wait ends as soon as what it
// waits for arrives; this only turns a hang into a failure.
const busWait = 10 * time.Second

// eventLog records what a bus delivers for one room. Its sync publishes a
// marker on the bus and waits for it: a room's events arrive in order, so
// once the marker is in, so is everything emitted before it.
type eventLog struct {
	t    *testing.T
	bus  Bus
	room RoomID

	mu      sync.Mutex // guards evs, markers and seen
	evs     []Event
	markers map[UserID]bool // who the markers are "about"; they are not recorded
	seen    map[UserID]bool // markers delivered
	arrived chan struct{}   // capacity 1: something was delivered

	taken int         // len(evs) at the last take; the test goroutine's own
	hook  func(Event) // called first for every event but markers, on the bus's goroutine
}

// watchRoom subscribes a new log to the room until the test ends.
func watchRoom(t *testing.T, bus Bus, room RoomID) *eventLog {
	t.Helper()
	return watchRoomHook(t, bus, room, nil)
}

// watchRoomHook is watchRoom with a hook that sees every event first: once
// sync returns, the hook has run for everything emitted before it.
func watchRoomHook(t *testing.T, bus Bus, room RoomID, hook func(Event)) *eventLog {
	t.Helper()
	l := &eventLog{
		t: t, bus: bus, room: room, hook: hook,
		markers: make(map[UserID]bool), seen: make(map[UserID]bool), arrived: make(chan struct{}, 1),
	}
	t.Cleanup(bus.Subscribe(room, l.handle))
	return l
}

func (l *eventLog) handle(ev Event) {
	l.mu.Lock()
	marker := ev.Type == EventSpeaking && l.markers[ev.Participant.UserID]
	l.mu.Unlock()
	if l.hook != nil && !marker {
		l.hook(ev)
	}
	l.mu.Lock()
	if ev.Type == EventSpeaking && l.markers[ev.Participant.UserID] {
		l.seen[ev.Participant.UserID] = true
	} else {
		l.evs = append(l.evs, ev)
	}
	l.mu.Unlock()
	select {
	case l.arrived <- struct{}{}:
	default:
	}
}

// sync returns once the bus has delivered everything emitted before it.
func (l *eventLog) sync() {
	l.t.Helper()
	marker := NewUserID()
	l.mu.Lock()
	l.markers[marker] = true
	l.mu.Unlock()
	ev := Event{Type: EventSpeaking, Room: l.room, Participant: Participant{UserID: marker}, Speaking: true}
	if err := l.bus.Publish(l.t.Context(), ev); err != nil {
		l.t.Fatalf("Publish a marker on room %s: %v", l.room, err)
	}
	timeout := time.NewTimer(busWait)
	defer timeout.Stop()
	for {
		l.mu.Lock()
		in := l.seen[marker]
		l.mu.Unlock()
		if in {
			return
		}
		select {
		case <-l.arrived:
		case <-timeout.C:
			l.t.Fatalf("room %s: the bus did not deliver, within %v, an event published after Subscribe returned", l.room, busWait)
		}
	}
}

// take returns the events delivered since the last take.
func (l *eventLog) take() []Event {
	l.t.Helper()
	l.sync()
	l.mu.Lock()
	defer l.mu.Unlock()
	evs := slices.Clone(l.evs[l.taken:])
	l.taken = len(l.evs)
	return evs
}

// all returns every event delivered so far.
func (l *eventLog) all() []Event {
	l.t.Helper()
	l.sync()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.taken = len(l.evs)
	return slices.Clone(l.evs)
}

// liveRoom is one room of a store under test, with a fake clock and a cast
// of members known by name.
type liveRoom struct {
	t      *testing.T
	live   LiveStore
	id     RoomID
	limits Limits
	now    time.Time
	log    *eventLog

	users    map[string]UserID
	names    map[UserID]string
	sessions map[string]SessionID // each name's latest session
	labels   map[SessionID]string // "name/2" for the second session of name
}

// newLiveRoom names a new room and starts watching it; it does not open it.
func newLiveRoom(t *testing.T, live LiveStore, bus Bus, l Limits) *liveRoom {
	t.Helper()
	r := &liveRoom{
		t: t, live: live, id: NewRoomID(), limits: l, now: liveEpoch,
		users: make(map[string]UserID), names: make(map[UserID]string),
		sessions: make(map[string]SessionID), labels: make(map[SessionID]string),
	}
	r.log = watchRoom(t, bus, r.id)
	return r
}

// user returns the ID of the member called name, making one up the first
// time; "" is nobody.
func (r *liveRoom) user(name string) UserID {
	if name == "" {
		return ""
	}
	id, ok := r.users[name]
	if !ok {
		id = NewUserID()
		r.users[name], r.names[id] = id, name
	}
	return id
}

// newSession gives name a new session and returns it.
func (r *liveRoom) newSession(name string) SessionID {
	s := NewSessionID()
	n := 1
	for _, l := range r.labels {
		if strings.HasPrefix(l, name+"/") {
			n++
		}
	}
	r.sessions[name], r.labels[s] = s, fmt.Sprintf("%s/%d", name, n)
	return s
}

func (r *liveRoom) session(name string) SessionID {
	if s, ok := r.sessions[name]; ok {
		return s
	}
	return r.newSession(name)
}

func (r *liveRoom) tick(d time.Duration) { r.now = r.now.Add(d) }

func (r *liveRoom) open(creator string) {
	r.t.Helper()
	if err := r.live.Open(r.t.Context(), r.id, r.user(creator), nil, r.now, r.limits); err != nil {
		r.t.Fatalf("Open(%s): %v", r.id, err)
	}
}

// tryJoin joins name with their latest session (a new one the first time).
func (r *liveRoom) tryJoin(name string) (JoinResult, error) {
	p := Participant{UserID: r.user(name), DisplayName: name, JoinedAt: r.now, Session: r.session(name)}
	return r.live.Join(r.t.Context(), r.id, p, r.now, r.limits)
}

func (r *liveRoom) join(name string) JoinResult {
	r.t.Helper()
	res, err := r.tryJoin(name)
	if err != nil {
		r.t.Fatalf("%s joins: %v", name, err)
	}
	return res
}

// rejoin joins name again from a new session.
func (r *liveRoom) rejoin(name string) JoinResult {
	r.t.Helper()
	r.newSession(name)
	return r.join(name)
}

func (r *liveRoom) leave(name string) {
	r.t.Helper()
	r.leaveSession(name, r.session(name))
}

func (r *liveRoom) leaveSession(name string, s SessionID) {
	r.t.Helper()
	if err := r.live.Leave(r.t.Context(), r.id, r.user(name), s, ReasonLeft, r.now, r.limits); err != nil {
		r.t.Fatalf("%s leaves: %v", name, err)
	}
}

func (r *liveRoom) disconnect(name string, s SessionID) {
	r.t.Helper()
	if err := r.live.Disconnect(r.t.Context(), r.id, r.user(name), s, r.now, r.limits); err != nil {
		r.t.Fatalf("%s disconnects: %v", name, err)
	}
}

func (r *liveRoom) renew(held ...Held) {
	r.t.Helper()
	if err := r.live.Renew(r.t.Context(), r.id, held, r.now, r.limits); err != nil {
		r.t.Fatalf("Renew: %v", err)
	}
}

func (r *liveRoom) held(name string) Held { return Held{User: r.user(name), Session: r.session(name)} }

// ruleAct is an action with its people named by cast names.
type ruleAct struct {
	kind           ActionKind
	actor, target  string
	block, enabled bool
}

func act(kind ActionKind, actor, target string) ruleAct {
	return ruleAct{kind: kind, actor: actor, target: target}
}

func (a ruleAct) String() string {
	s := a.actor + " " + string(a.kind)
	if a.target != "" {
		s += " " + a.target
	}
	if a.block {
		s += " (block)"
	}
	if a.kind == ActSetHands {
		s += fmt.Sprintf(" (enabled %t)", a.enabled)
	}
	return s
}

func (r *liveRoom) try(a ruleAct) error {
	return r.live.Act(r.t.Context(), r.id, Action{
		Kind: a.kind, Actor: r.user(a.actor), Target: r.user(a.target), Block: a.block, Enabled: a.enabled,
	}, r.now, r.limits)
}

func (r *liveRoom) do(acts ...ruleAct) {
	r.t.Helper()
	for _, a := range acts {
		if err := r.try(a); err != nil {
			r.t.Fatalf("%s: %v", a, err)
		}
	}
}

func (r *liveRoom) snapshot() Snapshot {
	r.t.Helper()
	s, err := r.live.Snapshot(r.t.Context(), r.id)
	if err != nil {
		r.t.Fatalf("Snapshot(%s): %v", r.id, err)
	}
	return s
}

// record returns name's record in the room, failing if they are not in it.
func (r *liveRoom) record(name string) Participant {
	r.t.Helper()
	for _, p := range r.snapshot().Participants {
		if p.UserID == r.user(name) {
			return p
		}
	}
	r.t.Fatalf("%s is not in the room", name)
	return Participant{}
}

func (r *liveRoom) expire() bool {
	r.t.Helper()
	end, err := r.live.Expire(r.t.Context(), r.id, r.now, r.limits)
	if err != nil {
		r.t.Fatalf("Expire(%s): %v", r.id, err)
	}
	return end
}

// due reports whether Due lists the room at the current time. Other rooms
// of the store may be due too, so it looks for this one only.
func (r *liveRoom) due() bool {
	r.t.Helper()
	ids, err := r.live.Due(r.t.Context(), r.now, 100_000)
	if err != nil {
		r.t.Fatalf("Due: %v", err)
	}
	return slices.Contains(ids, r.id)
}

func (r *liveRoom) counts() Counts {
	r.t.Helper()
	c, err := r.live.Counts(r.t.Context(), r.id)
	if err != nil {
		r.t.Fatalf("Counts(%s): %v", r.id, err)
	}
	return c
}

// Rendering: records, events and snapshots are compared as text, with
// people by name and times as offsets, so that a failure reads as a story
// and times compare by instant whatever their location.

func (r *liveRoom) at(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return "+" + t.Sub(liveEpoch).String()
}

func (r *liveRoom) who(id UserID) string {
	if id == "" {
		return "-"
	}
	if n, ok := r.names[id]; ok {
		return n
	}
	return string(id)
}

func (r *liveRoom) showSession(s SessionID) string {
	if s == "" {
		return "-"
	}
	if l, ok := r.labels[s]; ok {
		return l
	}
	return string(s)
}

func (r *liveRoom) showParticipant(p Participant) string {
	return fmt.Sprintf("%s{%s muted=%t invited=%t hand=%d stage=%s name=%q joined=%s session=%s}",
		r.who(p.UserID), p.Role, p.Muted, p.Invited, p.HandSeq, r.at(p.StageSince), p.DisplayName,
		r.at(p.JoinedAt), r.showSession(p.Session))
}

func (r *liveRoom) showEvent(ev Event) string {
	var b strings.Builder
	fmt.Fprintf(&b, "#%d %s at=%s", ev.Seq, ev.Type, r.at(ev.At))
	if ev.Room != r.id {
		fmt.Fprintf(&b, " room=%s", ev.Room)
	}
	switch ev.Type {
	case EventParticipantJoined, EventParticipantUpdated:
		b.WriteString(" " + r.showParticipant(ev.Participant))
	case EventParticipantLeft, EventSessionReplaced, EventSpeaking:
		fmt.Fprintf(&b, " %s session=%s", r.who(ev.Participant.UserID), r.showSession(ev.Participant.Session))
	case EventRoomUpdated:
		fmt.Fprintf(&b, " hands=%t", ev.HandsEnabled)
	}
	if ev.Cause != "" {
		fmt.Fprintf(&b, " cause=%s", ev.Cause)
	}
	if ev.By != "" {
		fmt.Fprintf(&b, " by=%s", r.who(ev.By))
	}
	if ev.Reason != "" {
		fmt.Fprintf(&b, " reason=%s", ev.Reason)
	}
	if ev.Blocked {
		b.WriteString(" blocked")
	}
	if ev.Audience {
		b.WriteString(" audience")
	}
	return b.String()
}

func (r *liveRoom) showSnapshot(s Snapshot) string {
	lines := []string{fmt.Sprintf("seq=%d hands=%t", s.Seq, s.HandsEnabled)}
	for _, p := range s.Participants {
		lines = append(lines, "  "+r.showParticipant(p))
	}
	return strings.Join(lines, "\n")
}

func (r *liveRoom) showEvents(evs []Event) string {
	if len(evs) == 0 {
		return "  (none)"
	}
	lines := make([]string, len(evs))
	for i, ev := range evs {
		lines[i] = "  " + r.showEvent(ev)
	}
	return strings.Join(lines, "\n")
}

// checkEvents fails unless got are exactly want, in order.
func (r *liveRoom) checkEvents(what string, got, want []Event) {
	r.t.Helper()
	if g, w := r.showEvents(got), r.showEvents(want); g != w {
		r.t.Errorf("%s: events =\n%s\nwant\n%s", what, g, w)
	}
}

// checkTaken takes the events delivered since the last take and checks them.
func (r *liveRoom) checkTaken(what string, want ...Event) {
	r.t.Helper()
	r.checkEvents(what, r.log.take(), want)
}

func (r *liveRoom) checkSnapshot(what string, got, want Snapshot) {
	r.t.Helper()
	if g, w := r.showSnapshot(got), r.showSnapshot(want); g != w {
		r.t.Errorf("%s: snapshot =\n%s\nwant\n%s", what, g, w)
	}
}

func (r *liveRoom) checkParticipant(what string, got, want Participant) {
	r.t.Helper()
	if g, w := r.showParticipant(got), r.showParticipant(want); g != w {
		r.t.Errorf("%s:\n  got  %s\n  want %s", what, g, w)
	}
}

// Expected events, stamped with the room and the current time.

func (r *liveRoom) evJoined(seq uint64, p Participant) Event {
	return Event{Type: EventParticipantJoined, Room: r.id, Seq: seq, At: r.now, Participant: p, Audience: p.Role == RoleListener}
}

func (r *liveRoom) evUpdated(seq uint64, p Participant, cause Cause, by string, audience bool) Event {
	return Event{Type: EventParticipantUpdated, Room: r.id, Seq: seq, At: r.now, Participant: p, Cause: cause, By: r.user(by), Audience: audience}
}

func (r *liveRoom) evLeft(seq uint64, p Participant, reason string, by string, blocked, audience bool) Event {
	return Event{
		Type: EventParticipantLeft, Room: r.id, Seq: seq, At: r.now, Participant: Participant{UserID: p.UserID, Session: p.Session},
		Reason: reason, By: r.user(by), Blocked: blocked, Audience: audience,
	}
}

func (r *liveRoom) evReplaced(old Participant) Event {
	return Event{Type: EventSessionReplaced, Room: r.id, At: r.now, Participant: Participant{UserID: old.UserID, Session: old.Session}, Reason: ReasonReplaced}
}

func (r *liveRoom) evHands(seq uint64, enabled bool) Event {
	return Event{Type: EventRoomUpdated, Room: r.id, Seq: seq, At: r.now, HandsEnabled: enabled}
}

func (r *liveRoom) evEnded(seq uint64, reason string) Event {
	return Event{Type: EventRoomEnded, Room: r.id, Seq: seq, At: r.now, Reason: reason}
}

// Records as the rules make them, for expected values.

func asListener(p Participant) Participant {
	p.Role, p.Muted, p.Invited, p.StageSince = RoleListener, false, false, time.Time{}
	return p
}

func asSpeaker(p Participant, since time.Time) Participant {
	p.Role, p.Muted, p.Invited, p.HandSeq, p.StageSince = RoleSpeaker, false, false, 0, since
	return p
}

func withRole(p Participant, role Role) Participant { p.Role = role; return p }

func withMute(p Participant, muted bool) Participant { p.Muted = muted; return p }

func withHand(p Participant, seq uint64) Participant { p.HandSeq = seq; return p }

func withInvite(p Participant, invited bool) Participant { p.Invited = invited; return p }

func withSession(p Participant, s SessionID) Participant { p.Session = s; return p }
