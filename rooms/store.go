package rooms

import (
	"context"
	"time"
)

// RoomRecords is the durable store of rooms. Implementations: SQLite (the
// embedded default) and, later, Postgres; both pass the contract suite in
// records_test.go.
type RoomRecords interface {
	// CreateRoom stores a new room. Its creator must exist.
	CreateRoom(ctx context.Context, r Room) error
	// Room returns one room, live or ended, or ErrRoomNotFound.
	Room(ctx context.Context, id RoomID) (Room, error)
	// EndRoom marks a live room ended at the given time and returns it.
	// It returns ErrRoomNotFound, or ErrRoomEnded if it had already ended.
	EndRoom(ctx context.Context, id RoomID, at time.Time) (Room, error)
	// LiveRooms returns live rooms, newest first, after the cursor.
	LiveRooms(ctx context.Context, q ListQuery) ([]Room, error)
	// AccessRecords: visibility and invitees (visibility.go).
	AccessRecords
}

// MemberRecords is the durable store of members.
type MemberRecords interface {
	// CreateMember stores a new member.
	CreateMember(ctx context.Context, m Member) error
	// Member returns one member or ErrMemberNotFound.
	Member(ctx context.Context, id UserID) (Member, error)
}

// ListQuery pages through rooms newest first. A zero After starts at the
// newest room. Rooms are ordered by (CreatedAt, ID) descending, so the
// cursor is the last room of the previous page.
type ListQuery struct {
	Limit       int
	AfterTime   time.Time
	AfterRoomID RoomID
}

// JoinResult is what LiveStore.Join did.
type JoinResult struct {
	// Participant is the participant as stored. A member already in the
	// room (reconnecting within the grace) keeps everything; only the
	// session changes.
	Participant Participant
	// Replaced is the session that held the place before, if any.
	Replaced SessionID
	// Snapshot is the room right after the join.
	Snapshot Snapshot
}

// Snapshot is the live state of a room as a client needs it.
type Snapshot struct {
	// Participants are everyone in the room, in join order.
	Participants []Participant
	HandsEnabled bool
	// Seq is the room's sequence number: the snapshot reflects every event
	// up to it.
	Seq uint64
}

// Limits are the rules' numbers, set by configuration.
type Limits struct {
	// StageCap is the most people on stage.
	StageCap int
	// ReconnectGrace is how long a dropped participant keeps their place.
	ReconnectGrace time.Duration
	// LeaseTTL is how long a connected participant's lease lasts without a
	// renewal from the server holding the connection.
	LeaseTTL time.Duration
	// EmptyStageGrace is how long a room lives with nobody on stage.
	EmptyStageGrace time.Duration
}

// DefaultLimits are the documented defaults (docs/stage.md).
func DefaultLimits() Limits {
	return Limits{StageCap: 20, ReconnectGrace: 30 * time.Second, LeaseTTL: 30 * time.Second, EmptyStageGrace: 2 * time.Minute}
}

// LiveStore holds the live state of rooms and emits their events.
// Implementations: memory (the default) and Redis; both pass the contract
// suite in live_test.go. Every mutation is atomic and, when it changes
// state, advances the room's sequence number and emits its events, in
// order, to the room's subscribers: the change and its event are one step,
// which is what keeps events in order across many server processes.
// Times come from the caller (now), so one clock rules every store.
type LiveStore interface {
	// Open starts the live state of a new room, whose creator will be its
	// first moderator; the creator and the co-hosts join as moderators,
	// every time. Its stage counts as empty from now.
	Open(ctx context.Context, room RoomID, creator UserID, cohosts []UserID, now time.Time, l Limits) error
	// Join adds p to the room (the creator and co-hosts as moderators,
	// others as listeners; p.Role is ignored), or hands an existing place to
	// p.Session. It returns ErrRoomNotFound, ErrRoomEnded or ErrBlocked.
	Join(ctx context.Context, room RoomID, p Participant, now time.Time, l Limits) (JoinResult, error)
	// Leave takes the member out if session still holds the place; it does
	// nothing otherwise (already gone, or replaced by a newer session).
	Leave(ctx context.Context, room RoomID, user UserID, session SessionID, reason string, now time.Time, l Limits) error
	// Disconnect keeps a dropped session's place until now+ReconnectGrace.
	Disconnect(ctx context.Context, room RoomID, user UserID, session SessionID, now time.Time, l Limits) error
	// Renew extends the leases of these sessions, held by the caller's
	// process, to now+LeaseTTL.
	Renew(ctx context.Context, room RoomID, held []Held, now time.Time, l Limits) error
	// Act applies one action (docs/stage.md) or refuses it, changing
	// nothing.
	Act(ctx context.Context, room RoomID, a Action, now time.Time, l Limits) error
	// Snapshot returns the room as it is.
	Snapshot(ctx context.Context, room RoomID) (Snapshot, error)
	// Participant returns one participant's record: ErrNotParticipant when
	// they are not in the room, ErrRoomEnded or ErrRoomNotFound.
	Participant(ctx context.Context, room RoomID, user UserID) (Participant, error)
	// Counts returns the room's head counts.
	Counts(ctx context.Context, room RoomID) (Counts, error)
	// Lineup returns who is on stage, in join order, with the head
	// counts. A room that does not exist or has ended has nobody.
	Lineup(ctx context.Context, room RoomID) (Lineup, error)
	// PresenceStore: each member's whereabouts (presence.go).
	PresenceStore
	// End drops the room's live state, emits room_ended and keeps a
	// tombstone so that later joins get ErrRoomEnded. Idempotent.
	End(ctx context.Context, room RoomID, reason string, now time.Time) error
	// Expire removes participants whose lease or grace ran out, and
	// reports whether the stage has been empty for EmptyStageGrace.
	Expire(ctx context.Context, room RoomID, now time.Time, l Limits) (endNow bool, err error)
	// Due returns up to limit rooms with something to expire by now.
	Due(ctx context.Context, now time.Time, limit int) ([]RoomID, error)
	// Ping reports whether the store is reachable.
	Ping(ctx context.Context) error
	// Restore puts back what one process knows of a room after the store
	// lost it (a Redis restarted empty): it opens the room if needed (its
	// stage empty from now), adds those of ps it lacks with their records
	// as given (role, mute, hand, invitation; leases from now), and moves
	// the room's seq past minSeq with a gap of one, so that every client
	// sees a gap and takes a fresh snapshot; then it emits room_updated.
	// Several processes restore their own participants in turn, so no
	// succession runs here: a missing moderator may still be on its way.
	// It returns ErrRoomEnded for an ended room.
	// The co-hosts are kept, as Open keeps them, when it opens the room.
	Restore(ctx context.Context, room RoomID, creator UserID, cohosts []UserID, ps []Participant, minSeq uint64, now time.Time, l Limits) error
}

// Held names a session whose lease the caller renews.
type Held struct {
	User    UserID
	Session SessionID
}

// ActionKind names an action of docs/stage.md.
type ActionKind string

// The actions.
const (
	ActRaiseHand      ActionKind = "raise_hand"
	ActLowerHand      ActionKind = "lower_hand"
	ActInvite         ActionKind = "invite"
	ActAcceptInvite   ActionKind = "accept_invite"
	ActDeclineInvite  ActionKind = "decline_invite"
	ActMoveToAudience ActionKind = "move_to_audience"
	ActMakeModerator  ActionKind = "make_moderator"
	ActRemove         ActionKind = "remove"
	ActMute           ActionKind = "mute"
	ActUnmute         ActionKind = "unmute"
	ActMuteAll        ActionKind = "mute_all"
	ActSetHands       ActionKind = "set_hands"
	ActStepDown       ActionKind = "step_down"
)

// Actions lists every action, for tables and validation.
var Actions = []ActionKind{
	ActRaiseHand, ActLowerHand, ActInvite, ActAcceptInvite, ActDeclineInvite, ActMoveToAudience,
	ActMakeModerator, ActRemove, ActMute, ActUnmute, ActMuteAll, ActSetHands, ActStepDown,
}

// Action is one thing a participant does in a room.
type Action struct {
	Kind  ActionKind
	Actor UserID
	// Target is who it is done to, for actions that take one. Empty means
	// the actor (mute, unmute).
	Target UserID
	// Block goes with remove; Enabled with set_hands.
	Block   bool
	Enabled bool
}

// NeedsTarget reports whether the action must name a target.
func (k ActionKind) NeedsTarget() bool {
	switch k {
	case ActInvite, ActMoveToAudience, ActMakeModerator, ActRemove:
		return true
	}
	return false
}

// Valid reports whether k is an action.
func (k ActionKind) Valid() bool {
	for _, a := range Actions {
		if a == k {
			return true
		}
	}
	return false
}

// EventType names a room event. The names are the signaling protocol's.
type EventType string

// Room events.
const (
	EventParticipantJoined  EventType = "participant_joined"
	EventParticipantUpdated EventType = "participant_updated"
	EventParticipantLeft    EventType = "participant_left"
	EventRoomUpdated        EventType = "room_updated"
	EventRoomEnded          EventType = "room_ended"
	EventSpeaking           EventType = "speaking"
	// EventSessionReplaced tells whichever process holds
	// Participant.Session that a newer session took its place.
	EventSessionReplaced EventType = "session_replaced"
	// Chat (chat_service.go): a message (Event.Chat), a deletion
	// (Event.Chat's ID and Seq, Event.By) and chat turned on or off
	// (Event.ChatEnabled, Event.By). They carry no room seq: chat has its
	// own order, ChatMessage.Seq.
	EventChatMessage  EventType = "chat_message"
	EventChatDeleted  EventType = "chat_deleted"
	EventChatSettings EventType = "chat_settings"
	// EventMediaSource tells the processes of a cluster that audio of the
	// room now enters at Event.Node, so that those with members in the
	// room relay it from there. Clients never see it.
	EventMediaSource EventType = "media_source"
)

// Cause says why a participant record changed.
type Cause string

// Causes of participant_updated.
const (
	CauseHandRaised      Cause = "hand_raised"
	CauseHandLowered     Cause = "hand_lowered"
	CauseInvited         Cause = "invited"
	CauseInviteAccepted  Cause = "invite_accepted"
	CauseInviteDeclined  Cause = "invite_declined"
	CauseMovedToAudience Cause = "moved_to_audience"
	CauseMadeModerator   Cause = "made_moderator"
	CauseMuted           Cause = "muted"
	CauseUnmuted         Cause = "unmuted"
	CauseSteppedDown     Cause = "stepped_down"
	CauseSuccession      Cause = "succession"
	CauseHandsCleared    Cause = "hands_cleared"
)

// Event is one thing that happened in a room.
type Event struct {
	Type EventType
	Room RoomID
	// Seq is the room's sequence number after a change of state, so that
	// clients can detect gaps. Speaking and session_replaced events change
	// no shared state and carry 0.
	Seq uint64
	At  time.Time
	// Participant is who the event is about: the whole new record for
	// joined and updated; the user (and, for session_replaced, the old
	// session) otherwise.
	Participant Participant
	Cause       Cause
	// By is who acted, when someone else did.
	By       UserID
	Speaking bool
	// Reason says why someone left or why the room ended.
	Reason string
	// Blocked goes with a removal.
	Blocked bool
	// HandsEnabled goes with room_updated.
	HandsEnabled bool
	// Chat goes with chat_message and chat_deleted; ChatEnabled with
	// chat_settings.
	Chat        ChatMessage
	ChatEnabled bool
	// Node goes with media_source.
	Node NodeID
	// Audience marks changes that concern only the audience (listeners
	// joining, leaving, raising or lowering hands), which clients get in
	// batches; everything else goes out at once.
	Audience bool
}

// Reasons carried by events.
const (
	ReasonLeft         = "left"
	ReasonDisconnected = "disconnected"
	ReasonRemoved      = "removed"
	ReasonEndedByHost  = "ended_by_host"
	ReasonEmptyStage   = "empty_stage"
	ReasonReplaced     = "replaced"
)

// Bus carries room events to subscribers, in order per room. The live
// store emits state events on it; Publish carries the others (speaking).
// Implementations: in-process memory and Redis pub/sub.
type Bus interface {
	// Publish delivers ev to every subscriber of ev.Room.
	Publish(ctx context.Context, ev Event) error
	// Subscribe calls fn for every event of the room, in order, on a
	// goroutine of the bus, until unsubscribe is called. fn must not block.
	Subscribe(room RoomID, fn func(Event)) (unsubscribe func())
}
