package signaling

import (
	"context"
	"encoding/json"
	"log/slog"
	"sync"
	"time"

	"github.com/parley-audio/parley/rooms"
	"github.com/parley-audio/parley/sfu"
)

// hub is one room as this process sees it: the local sessions in the room,
// the room's SFU router, and the subscription that brings the room's
// events. It exists while at least one local session holds it.
type hub struct {
	id     rooms.RoomID
	router *sfu.Router
	log    *slog.Logger

	mu sync.Mutex // guards everything below
	// members holds every local session in the room, including those still
	// joining (not yet active), whose events are held in pending.
	members  map[*session]*membership
	byUser   map[rooms.UserID]*session
	speaking map[rooms.UserID]bool
	// batch holds audience events (listeners joining, leaving, raising
	// hands) until the next flush, so that a thousand listeners joining
	// is a few messages a second per client, not a million in all.
	batch []numbered
	// chatOff is the room's chat switch as the last chat_settings event
	// left it, once one came (chatKnown): fresher than the record a
	// session read when it joined, and what a resync reports.
	chatOff, chatKnown bool
	refs               int // sessions and relays holding the hub, guarded by the server's mu
	// maxSeq is the highest seq the hub has seen: after the live store
	// lost the room, it is restored past it (cluster_rebuild.go).
	maxSeq uint64

	unsubscribe func()
	// cluster relays the room's audio from other nodes and holds the room
	// in the registry; nil on a single node.
	cluster *hubCluster
}

type membership struct {
	active  bool
	pending []numbered
	peer    *sfu.Peer
	// lastSeq is the seq of the last numbered event sent to the session;
	// anything at or below it is a duplicate.
	lastSeq uint64
	// rec is the participant's record as the latest event or snapshot
	// gave it, which is what this node knows to restore.
	rec rooms.Participant
}

// numbered is an event frame and its seq (0 for unnumbered ones).
type numbered struct {
	seq   uint64
	frame []byte
}

func newHub(id rooms.RoomID, log *slog.Logger) *hub {
	return &hub{
		id: id, log: log,
		members:  make(map[*session]*membership),
		byUser:   make(map[rooms.UserID]*session),
		speaking: make(map[rooms.UserID]bool),
	}
}

// add registers a joining session; events are held for it until activate.
// It returns the local session the same member had in the room, and its
// peer, which the caller must close and kick.
func (h *hub) add(s *session) (replaced *session, replacedPeer *sfu.Peer) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.members[s] = &membership{}
	if old := h.byUser[s.user.User]; old != nil && old != s {
		replaced = old
		if m := h.members[old]; m != nil {
			replacedPeer = m.peer
		}
	}
	h.byUser[s.user.User] = s
	return replaced, replacedPeer
}

// setPeer records the session's PeerConnection, to which publish
// permission changes are applied.
func (h *hub) setPeer(s *session, p *sfu.Peer) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if m := h.members[s]; m != nil {
		m.peer = p
	}
}

// hold keeps the session's events aside until the next activate, as
// during a join or a resync.
func (h *hub) hold(s *session) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if m := h.members[s]; m != nil {
		m.active = false
	}
}

// activate sends the joined snapshot, then every held event newer than it,
// in order, and from then on delivers events as they come. Doing both
// under the lock is what keeps the session's stream gap-free and in order.
func (h *hub) activate(s *session, j rooms.Joined, stageCap int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	m := h.members[s]
	if m == nil {
		return
	}
	p := JoinedPayload{
		Room: rooms.RoomView{Room: j.Room, Counts: countOf(j.Participants)}.JSON(),
		Self: j.Self.JSON(), Participants: make([]rooms.ParticipantJSON, len(j.Participants)),
		Speaking: make([]rooms.UserID, 0, len(h.speaking)), HandsEnabled: j.HandsEnabled, StageCap: stageCap,
		ChatEnabled: !j.Room.ChatDisabled,
	}
	if h.chatKnown {
		p.ChatEnabled = !h.chatOff
	}
	for i, pt := range j.Participants {
		p.Participants[i] = pt.JSON()
	}
	for u := range h.speaking {
		p.Speaking = append(p.Speaking, u)
	}
	s.out.send(encode(TypeJoined, s.joinReplyTo, j.Seq, p))
	m.lastSeq = j.Seq
	m.rec = j.Self
	h.maxSeq = max(h.maxSeq, j.Seq)
	for _, ev := range m.pending {
		m.sendLocked(s, ev)
	}
	m.pending, m.active = nil, true
}

// sendLocked sends one event unless the session has it already.
func (m *membership) sendLocked(s *session, ev numbered) {
	if ev.seq != 0 {
		if ev.seq <= m.lastSeq {
			return
		}
		m.lastSeq = ev.seq
	}
	s.out.send(ev.frame)
}

func countOf(ps []rooms.Participant) rooms.Counts {
	var c rooms.Counts
	for _, p := range ps {
		if p.Role.OnStage() {
			c.Speakers++
		} else {
			c.Listeners++
		}
		if p.UserID.IsGuest() {
			c.Guests++
		}
	}
	return c
}

// remove takes a session out of the hub.
func (h *hub) remove(s *session) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.members, s)
	if h.byUser[s.user.User] == s {
		delete(h.byUser, s.user.User)
	}
}

// records lists what this node knows of its local participants, and the
// highest seq it has seen, for a restore.
func (h *hub) records() ([]rooms.Participant, uint64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]rooms.Participant, 0, len(h.members))
	for s, m := range h.members {
		if m.rec.UserID == s.user.User && m.rec.Session == s.id {
			out = append(out, m.rec)
		}
	}
	return out, h.maxSeq
}

// localMembers is how many local sessions are in the room.
func (h *hub) localMembers() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.members)
}

// held lists the local sessions, whose leases this process renews.
func (h *hub) held() []rooms.Held {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]rooms.Held, 0, len(h.members))
	for s := range h.members {
		out = append(out, rooms.Held{User: s.user.User, Session: s.id})
	}
	return out
}

// maxPending bounds the events held for a session that is still joining.
// A join takes milliseconds; a session that falls this far behind is
// treated like any other slow consumer.
const maxPending = 4096

// onEvent delivers one room event to the local sessions. It runs on the
// bus's goroutine; it only queues frames and hands work to the sessions'
// own goroutines, and applies publish permissions, which never block.
func (h *hub) onEvent(ev rooms.Event) {
	frame := encodeEvent(ev)
	var kick, ended, removed []*session
	type permit struct {
		peer    *sfu.Peer
		allowed bool
	}
	var permits []permit

	h.mu.Lock()
	h.maxSeq = max(h.maxSeq, ev.Seq)
	local := h.localLocked(ev.Participant)
	switch ev.Type {
	case rooms.EventMediaSource:
		if h.cluster != nil {
			h.cluster.wake()
		}
	case rooms.EventSpeaking:
		if ev.Speaking {
			h.speaking[ev.Participant.UserID] = true
		} else {
			delete(h.speaking, ev.Participant.UserID)
		}
	case rooms.EventParticipantJoined, rooms.EventParticipantUpdated:
		if local != nil {
			h.members[local].rec = ev.Participant
		}
		// Who may publish was decided by rooms; the SFU applies it, on
		// the next packet.
		if local != nil && h.members[local].peer != nil {
			permits = append(permits, permit{h.members[local].peer, ev.Participant.Audible()})
		}
		if !ev.Participant.Audible() {
			delete(h.speaking, ev.Participant.UserID)
		}
	case rooms.EventParticipantLeft:
		delete(h.speaking, ev.Participant.UserID)
		if local != nil {
			if m := h.members[local]; m.peer != nil {
				permits = append(permits, permit{m.peer, false})
			}
			removed = append(removed, local)
		}
	case rooms.EventSessionReplaced:
		if local != nil {
			kick = append(kick, local)
		}
	case rooms.EventChatSettings:
		h.chatOff, h.chatKnown = !ev.ChatEnabled, true
	case rooms.EventRoomEnded:
		clear(h.speaking)
		for s := range h.members {
			ended = append(ended, s)
		}
	}
	if frame != nil {
		h.deliverLocked(numbered{seq: ev.Seq, frame: frame}, ev.Audience)
	}
	h.mu.Unlock()

	for _, p := range permits {
		p.peer.SetPublishAllowed(p.allowed)
	}
	for _, s := range kick {
		s.kick(ReasonReplaced, closeReplaced)
	}
	for _, s := range removed {
		s.notify(control{gone: h.id})
	}
	for _, s := range ended {
		s.notify(control{gone: h.id})
	}
}

// localLocked returns the local session an event's participant refers to:
// the one holding that member's place, if it is here.
func (h *hub) localLocked(p rooms.Participant) *session {
	s := h.byUser[p.UserID]
	if s == nil || (p.Session != "" && s.id != p.Session) {
		return nil
	}
	return s
}

func (h *hub) deliverLocked(ev numbered, audience bool) {
	for s, m := range h.members {
		if m.active {
			continue
		}
		if len(m.pending) >= maxPending {
			s.out.close(closeSlowConsumer, ReasonSlowConsumer)
			continue
		}
		m.pending = append(m.pending, ev)
	}
	if audience {
		h.batch = append(h.batch, ev)
		return
	}
	// A stage event goes out at once, after the audience events held
	// before it, so that every session sees seq order.
	h.flushLocked()
	for s, m := range h.members {
		if m.active {
			m.sendLocked(s, ev)
		}
	}
}

// flush sends the held audience events.
func (h *hub) flush() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.flushLocked()
}

// flushLocked sends each active session the batched events it lacks: one
// event as itself, several as one events message. Sessions that lack the
// same events (nearly all of them) share one encoded frame.
func (h *hub) flushLocked() {
	if len(h.batch) == 0 {
		return
	}
	frames := make(map[uint64][]byte) // by the session's lastSeq
	for s, m := range h.members {
		if !m.active {
			continue
		}
		frame, ok := frames[m.lastSeq]
		var last uint64
		for _, ev := range h.batch {
			if ev.seq > m.lastSeq {
				last = ev.seq
			}
		}
		if last == 0 {
			continue
		}
		if !ok {
			frame = batchFrame(h.batch, m.lastSeq)
			frames[m.lastSeq] = frame
		}
		s.out.send(frame)
		m.lastSeq = last
	}
	h.batch = h.batch[:0]
}

// batchFrame builds the message for the events after seq: the event
// itself when there is one, an events message when there are several.
func batchFrame(batch []numbered, after uint64) []byte {
	var evs []json.RawMessage
	for _, ev := range batch {
		if ev.seq > after {
			evs = append(evs, ev.frame)
		}
	}
	if len(evs) == 1 {
		return evs[0]
	}
	return encode(TypeEvents, "", 0, EventsPayload{Events: evs})
}

// onSpeaking is the router's speaking callback: it tells the room. It runs
// on the router's goroutine, which has no request context of its own.
func (h *hub) onSpeaking(rs Rooms) func(sfu.PeerID, bool) {
	return func(id sfu.PeerID, speaking bool) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		rs.SetSpeaking(ctx, h.id, rooms.UserID(id), speaking)
	}
}
