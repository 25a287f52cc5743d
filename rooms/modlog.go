package rooms

import (
	"context"
	"time"
)

// ModActionID identifies an entry of the moderation log.
type ModActionID string

const modActionPrefix = "mod_"

// NewModActionID returns a fresh random moderation log entry ID.
func NewModActionID() ModActionID { return ModActionID(newID(modActionPrefix)) }

// ModKind names what a moderation log entry records.
type ModKind string

// What the moderation log records: every mute of someone by someone else,
// removal, block and change of role, the room's switches, chat messages
// deleted by someone other than their author, and the end of the room.
// A succession (the longest-serving speaker becoming moderator when the
// last one left) is the rules' doing, not anyone's, and is not logged.
const (
	ModInvited         ModKind = "invited"
	ModInviteAccepted  ModKind = "invite_accepted"
	ModMovedToAudience ModKind = "moved_to_audience"
	ModMadeModerator   ModKind = "made_moderator"
	ModSteppedDown     ModKind = "stepped_down"
	ModMuted           ModKind = "muted"
	ModMutedAll        ModKind = "muted_all"
	ModRemoved         ModKind = "removed"
	ModBlocked         ModKind = "blocked"
	ModHandsDisabled   ModKind = "hands_disabled"
	ModHandsEnabled    ModKind = "hands_enabled"
	ModChatDisabled    ModKind = "chat_disabled"
	ModChatEnabled     ModKind = "chat_enabled"
	ModChatDeleted     ModKind = "chat_message_deleted"
	ModRoomEnded       ModKind = "room_ended"
)

// ModAction is one entry of a room's moderation log: who did what, to
// whom, when.
type ModAction struct {
	ID    ModActionID
	Room  RoomID
	Actor UserID
	// Target is who it was done to; empty for the whole room.
	Target UserID
	Kind   ModKind
	// Detail is what else the action names: a deleted message's ID.
	Detail string
	At     time.Time
}

func (a ModAction) cursor() Cursor { return Cursor{At: a.At, ID: string(a.ID)} }

// ModLogRecords is the durable moderation log.
type ModLogRecords interface {
	// RecordModAction appends one entry. Its room must exist.
	RecordModAction(ctx context.Context, a ModAction) error
	// ModLog returns a room's entries, newest first, after the cursor
	// (At, ID).
	ModLog(ctx context.Context, room RoomID, after Cursor, limit int) ([]ModAction, error)
	// ModActionsOn returns the entries whose target is user, newest
	// first, after the cursor: for their data export.
	ModActionsOn(ctx context.Context, user UserID, after Cursor, limit int) ([]ModAction, error)
}
