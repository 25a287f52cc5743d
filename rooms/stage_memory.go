package rooms

import (
	"cmp"
	"fmt"
	"slices"
	"time"
)

// stage is one room's live state in the memory store, and the rules of
// docs/stage.md as Go. The Redis store implements the same rules in Lua;
// the contract suite holds the two to one behaviour.
type stage struct {
	room     RoomID
	creator  UserID
	cohosts  map[UserID]bool // join as moderators, like the creator
	seq      uint64
	ended    bool
	handsOff bool
	// emptyDeadline is when the room ends for want of anyone on stage;
	// zero while someone is on stage.
	emptyDeadline time.Time
	order         uint64 // join counter, for join order
	parts         map[UserID]*member
	blocked       map[UserID]bool
}

type member struct {
	Participant
	order      uint64
	leaseUntil time.Time
	dropped    bool // the connection is gone; the place is kept until leaseUntil
}

func newStage(room RoomID, creator UserID, cohosts []UserID, now time.Time, l Limits) *stage {
	st := &stage{
		room: room, creator: creator, emptyDeadline: now.Add(l.EmptyStageGrace),
		cohosts: make(map[UserID]bool, len(cohosts)),
		parts:   make(map[UserID]*member), blocked: make(map[UserID]bool),
	}
	for _, c := range cohosts {
		st.cohosts[c] = true
	}
	return st
}

// change collects the events of one transition. Each event takes the next
// sequence number when it is added.
type change struct {
	st     *stage
	now    time.Time
	events []Event
}

// next reserves the sequence number the next added event will carry, for
// records that must hold it (a raised hand's place in the queue).
func (c *change) next() uint64 { return c.st.seq + 1 }

func (c *change) add(ev Event) {
	c.st.seq++
	ev.Seq, ev.Room, ev.At = c.st.seq, c.st.room, c.now
	c.events = append(c.events, ev)
}

// addUnnumbered adds an event that changes no shared state.
func (c *change) addUnnumbered(ev Event) {
	ev.Room, ev.At = c.st.room, c.now
	c.events = append(c.events, ev)
}

func (c *change) updated(m *member, cause Cause, by UserID) {
	audience := m.Role == RoleListener && (cause == CauseHandRaised || cause == CauseHandLowered)
	if by == m.UserID {
		by = ""
	}
	c.add(Event{Type: EventParticipantUpdated, Participant: m.Participant, Cause: cause, By: by, Audience: audience})
}

func (st *stage) onStage() (moderators, speakers int) {
	for _, m := range st.parts {
		switch m.Role {
		case RoleModerator:
			moderators++
		case RoleSpeaker:
			speakers++
		}
	}
	return moderators, speakers
}

// settle applies the rules that follow any change of the stage: a speaker
// succeeds the last moderator, and an empty stage starts the countdown.
func (c *change) settle(l Limits) {
	st := c.st
	mods, speakers := st.onStage()
	if mods == 0 && speakers > 0 {
		var first *member
		for _, m := range st.parts {
			if m.Role == RoleSpeaker && (first == nil || m.StageSince.Before(first.StageSince) ||
				(m.StageSince.Equal(first.StageSince) && m.order < first.order)) {
				first = m
			}
		}
		first.Role = RoleModerator
		c.updated(first, CauseSuccession, "")
	}
	switch {
	case mods+speakers > 0:
		st.emptyDeadline = time.Time{}
	case st.emptyDeadline.IsZero():
		st.emptyDeadline = c.now.Add(l.EmptyStageGrace)
	}
}

func (st *stage) join(p Participant, now time.Time, l Limits) (JoinResult, []Event, error) {
	if st.ended {
		return JoinResult{}, nil, fmt.Errorf("join %s: %w", st.room, ErrRoomEnded)
	}
	if st.blocked[p.UserID] {
		return JoinResult{}, nil, fmt.Errorf("join %s: %w", st.room, ErrBlocked)
	}
	c := &change{st: st, now: now}
	var res JoinResult
	if m, ok := st.parts[p.UserID]; ok {
		// Back within the grace, or a second connection: the place and all
		// it holds moves to the new session.
		if m.Session != p.Session {
			old := m.Participant
			res.Replaced = m.Session
			c.addUnnumbered(Event{Type: EventSessionReplaced, Participant: old, Reason: ReasonReplaced})
		}
		m.Session, m.dropped, m.leaseUntil = p.Session, false, now.Add(l.LeaseTTL)
		res.Participant = m.Participant
	} else {
		p.Role, p.Muted, p.Invited, p.HandSeq, p.StageSince = RoleListener, false, false, 0, time.Time{}
		if p.UserID == st.creator || st.cohosts[p.UserID] {
			p.Role, p.StageSince = RoleModerator, now
		}
		st.order++
		m := &member{Participant: p, order: st.order, leaseUntil: now.Add(l.LeaseTTL)}
		st.parts[p.UserID] = m
		c.add(Event{Type: EventParticipantJoined, Participant: p, Audience: p.Role == RoleListener})
		c.settle(l)
		res.Participant = m.Participant
	}
	res.Snapshot = st.snapshot()
	return res, c.events, nil
}

func (st *stage) snapshot() Snapshot {
	list := make([]*member, 0, len(st.parts))
	for _, m := range st.parts {
		list = append(list, m)
	}
	slices.SortFunc(list, func(a, b *member) int { return cmp.Compare(a.order, b.order) })
	s := Snapshot{Participants: make([]Participant, len(list)), HandsEnabled: !st.handsOff, Seq: st.seq}
	for i, m := range list {
		s.Participants[i] = m.Participant
	}
	return s
}

// remove takes a member out of the room and settles the stage.
func (c *change) remove(m *member, reason string, blocked bool, by UserID, l Limits) {
	delete(c.st.parts, m.UserID)
	if blocked {
		c.st.blocked[m.UserID] = true
	}
	// A removal, or a move to another room, goes out at once rather than
	// in the next batch: the member's own session must hear it before it
	// lets go of the room.
	c.add(Event{
		Type: EventParticipantLeft, Participant: Participant{UserID: m.UserID, Session: m.Session},
		Reason: reason, Blocked: blocked, By: by,
		Audience: m.Role == RoleListener && reason != ReasonRemoved && reason != ReasonMoved,
	})
	c.settle(l)
}

func (st *stage) leave(user UserID, session SessionID, reason string, now time.Time, l Limits) []Event {
	m, ok := st.parts[user]
	if !ok || m.Session != session {
		return nil
	}
	c := &change{st: st, now: now}
	c.remove(m, reason, false, "", l)
	return c.events
}

func (st *stage) expire(now time.Time, l Limits) (events []Event, endNow bool) {
	c := &change{st: st, now: now}
	var gone []*member
	for _, m := range st.parts {
		if !now.Before(m.leaseUntil) {
			gone = append(gone, m)
		}
	}
	slices.SortFunc(gone, func(a, b *member) int { return cmp.Compare(a.order, b.order) })
	for _, m := range gone {
		c.remove(m, ReasonDisconnected, false, "", l)
	}
	endNow = !st.ended && !st.emptyDeadline.IsZero() && !now.Before(st.emptyDeadline)
	return c.events, endNow
}

// nextDue is when expire next has work, or zero.
func (st *stage) nextDue() time.Time {
	if st.ended {
		return time.Time{}
	}
	due := st.emptyDeadline
	for _, m := range st.parts {
		if due.IsZero() || m.leaseUntil.Before(due) {
			due = m.leaseUntil
		}
	}
	return due
}

func refuse(a Action, err error, format string, args ...any) error {
	return fmt.Errorf("%s: "+format+": %w", append(append([]any{a.Kind}, args...), err)...)
}

// act applies one action of docs/stage.md, or refuses it changing nothing.
func (st *stage) act(a Action, now time.Time, l Limits) ([]Event, error) {
	if st.ended {
		return nil, refuse(a, ErrRoomEnded, "room %s", st.room)
	}
	actor, ok := st.parts[a.Actor]
	if !ok {
		return nil, refuse(a, ErrNotParticipant, "%s is not in the room", a.Actor)
	}
	target := actor
	if a.Target != "" && a.Target != a.Actor {
		if target, ok = st.parts[a.Target]; !ok {
			return nil, refuse(a, ErrNotParticipant, "%s is not in the room", a.Target)
		}
	} else if a.Kind.NeedsTarget() {
		return nil, refuse(a, ErrForbidden, "cannot be done to oneself")
	}
	isMod := actor.Role == RoleModerator
	// A moderator moves, promotes and removes speakers and listeners; only
	// the creator also demotes or removes moderators; no one demotes or
	// removes the creator.
	mayActOn := func(t *member) bool {
		return t.UserID != st.creator && (t.Role != RoleModerator || a.Actor == st.creator)
	}
	c := &change{st: st, now: now}
	switch a.Kind {
	case ActRaiseHand:
		switch {
		case actor.Role.OnStage():
			return nil, refuse(a, ErrForbidden, "already on stage")
		case st.handsOff:
			return nil, refuse(a, ErrHandsDisabled, "in this room")
		case actor.HandSeq == 0:
			actor.HandSeq = c.next()
			c.updated(actor, CauseHandRaised, "")
		}
	case ActLowerHand:
		if actor.HandSeq != 0 {
			actor.HandSeq = 0
			c.updated(actor, CauseHandLowered, "")
		}
	case ActInvite:
		switch {
		case !isMod:
			return nil, refuse(a, ErrForbidden, "only moderators invite")
		case target.Role.OnStage():
			return nil, refuse(a, ErrAlreadyOnStage, "%s", target.UserID)
		case st.stageCount() >= l.StageCap:
			return nil, refuse(a, ErrStageFull, "%d on stage", l.StageCap)
		case target.Invited:
		default:
			target.Invited = true
			c.updated(target, CauseInvited, a.Actor)
		}
	case ActAcceptInvite, ActDeclineInvite:
		if !actor.Invited || actor.Role != RoleListener {
			return nil, refuse(a, ErrNotInvited, "%s", a.Actor)
		}
		actor.Invited = false
		if a.Kind == ActDeclineInvite {
			c.updated(actor, CauseInviteDeclined, "")
			break
		}
		if st.stageCount() >= l.StageCap {
			actor.Invited = true
			return nil, refuse(a, ErrStageFull, "%d on stage", l.StageCap)
		}
		actor.Role, actor.Muted, actor.HandSeq, actor.StageSince = RoleSpeaker, false, 0, now
		c.updated(actor, CauseInviteAccepted, "")
		c.settle(l)
	case ActMoveToAudience, ActMakeModerator:
		switch {
		case !isMod:
			return nil, refuse(a, ErrForbidden, "only moderators move people")
		case !target.Role.OnStage():
			return nil, refuse(a, ErrNotOnStage, "%s", target.UserID)
		case a.Kind == ActMoveToAudience && !mayActOn(target),
			target.Role == RoleModerator && a.Actor != st.creator:
			return nil, refuse(a, ErrForbidden, "only the creator acts on moderators")
		case a.Kind == ActMakeModerator:
			if target.Role != RoleModerator {
				target.Role = RoleModerator
				c.updated(target, CauseMadeModerator, a.Actor)
			}
		default:
			target.Role, target.Muted, target.Invited, target.StageSince = RoleListener, false, false, time.Time{}
			c.updated(target, CauseMovedToAudience, a.Actor)
			c.settle(l)
		}
	case ActRemove:
		switch {
		case !isMod:
			return nil, refuse(a, ErrForbidden, "only moderators remove people")
		case !mayActOn(target):
			return nil, refuse(a, ErrForbidden, "only the creator acts on moderators")
		}
		c.remove(target, ReasonRemoved, a.Block, a.Actor, l)
	case ActMute:
		switch {
		case target != actor && !isMod:
			return nil, refuse(a, ErrForbidden, "only moderators mute others")
		case !target.Role.OnStage():
			return nil, refuse(a, ErrNotOnStage, "%s", target.UserID)
		case !target.Muted:
			target.Muted = true
			c.updated(target, CauseMuted, a.Actor)
		}
	case ActUnmute:
		switch {
		case target != actor:
			return nil, refuse(a, ErrForbidden, "only %s can unmute themselves", target.UserID)
		case !actor.Role.OnStage():
			return nil, refuse(a, ErrNotOnStage, "%s", a.Actor)
		case actor.Muted:
			actor.Muted = false
			c.updated(actor, CauseUnmuted, "")
		}
	case ActMuteAll:
		if !isMod {
			return nil, refuse(a, ErrForbidden, "only moderators mute all")
		}
		for _, m := range st.inOrder() {
			if m != actor && m.Role.OnStage() && !m.Muted {
				m.Muted = true
				c.updated(m, CauseMuted, a.Actor)
			}
		}
	case ActSetHands:
		switch {
		case !isMod:
			return nil, refuse(a, ErrForbidden, "only moderators turn hand-raising on or off")
		case st.handsOff == !a.Enabled:
		default:
			st.handsOff = !a.Enabled
			c.add(Event{Type: EventRoomUpdated, HandsEnabled: a.Enabled})
			if !a.Enabled {
				for _, m := range st.inOrder() {
					if m.HandSeq != 0 {
						m.HandSeq = 0
						c.updated(m, CauseHandsCleared, a.Actor)
					}
				}
			}
		}
	case ActStepDown:
		if !actor.Role.OnStage() {
			return nil, refuse(a, ErrNotOnStage, "%s", a.Actor)
		}
		actor.Role, actor.Muted, actor.StageSince = RoleListener, false, time.Time{}
		c.updated(actor, CauseSteppedDown, "")
		c.settle(l)
	default:
		return nil, refuse(a, ErrInvalid, "unknown action")
	}
	return c.events, nil
}

func (st *stage) stageCount() int {
	m, s := st.onStage()
	return m + s
}

func (st *stage) inOrder() []*member {
	list := make([]*member, 0, len(st.parts))
	for _, m := range st.parts {
		list = append(list, m)
	}
	slices.SortFunc(list, func(a, b *member) int { return cmp.Compare(a.order, b.order) })
	return list
}
