package rooms

import (
	"context"
	"fmt"
	"time"
)

// MessageID identifies a chat message. Random, like RoomID.
type MessageID string

const messagePrefix = "msg_"

// NewMessageID returns a fresh random message ID.
func NewMessageID() MessageID { return MessageID(newID(messagePrefix)) }

// ParseMessageID checks that s has the shape of a message ID.
func ParseMessageID(s string) (MessageID, error) {
	if !validID(s, messagePrefix) {
		return "", fmt.Errorf("%w: %q is not a message ID", ErrMessageNotFound, truncate(s, 40))
	}
	return MessageID(s), nil
}

// MaxChatLen is the longest chat message, in characters.
const MaxChatLen = 1000

// ChatMessage is one message of a room's text chat.
type ChatMessage struct {
	ID   MessageID
	Room RoomID
	// Seq is the message's place in the room's chat: 1, 2, 3... Clients
	// order and page by it.
	Seq uint64
	// Author is empty once the author's account was deleted and their
	// messages kept ("deleted member").
	Author UserID
	// AuthorName is filled in by the Service, not stored.
	AuthorName string
	Body       string
	CreatedAt  time.Time
	// DeletedAt is set, and Body emptied, when a moderator or the author
	// deleted the message.
	DeletedAt time.Time
	DeletedBy UserID
}

// cursor is the message's place in its author's list.
func (m ChatMessage) cursor() Cursor { return Cursor{At: m.CreatedAt, ID: string(m.ID)} }

// ChatQuery selects a page of a room's chat. With Before set: the newest
// Limit messages before that seq; with After set: the oldest Limit after
// it; with neither, the newest Limit. Pages come in seq order.
type ChatQuery struct {
	Before uint64
	After  uint64
	Limit  int
}

// ChatRecords is the durable store of rooms' chat.
type ChatRecords interface {
	// AddChatMessage stores m as the room's next message and returns it
	// with its Seq. A room that has ended is ErrRoomEnded, one whose chat
	// is off ErrChatDisabled, a missing one ErrRoomNotFound.
	AddChatMessage(ctx context.Context, m ChatMessage) (ChatMessage, error)
	// ChatMessage returns one message of the room, deleted or not, or
	// ErrMessageNotFound.
	ChatMessage(ctx context.Context, room RoomID, id MessageID) (ChatMessage, error)
	// DeleteChatMessage empties a message's body and marks it deleted by
	// by at at, and returns it. Deleting a deleted message returns it as
	// it is. ErrMessageNotFound for none.
	DeleteChatMessage(ctx context.Context, room RoomID, id MessageID, by UserID, at time.Time) (ChatMessage, error)
	// ChatHistory returns a page of the room's messages that are not
	// deleted (see ChatQuery), in seq order.
	ChatHistory(ctx context.Context, room RoomID, q ChatQuery) ([]ChatMessage, error)
	// SetChatDisabled turns a live room's chat off or on and reports
	// whether that changed anything. ErrRoomNotFound or ErrRoomEnded.
	SetChatDisabled(ctx context.Context, room RoomID, off bool) (changed bool, err error)

	// For a member's data export and account deletion:

	// ChatBy returns the messages user wrote that are not deleted, newest
	// first, after the cursor (CreatedAt, ID).
	ChatBy(ctx context.Context, user UserID, after Cursor, limit int) ([]ChatMessage, error)
	// AnonymizeChatBy keeps user's messages with no author and returns
	// how many there were.
	AnonymizeChatBy(ctx context.Context, user UserID) (int64, error)
	// DeleteChatBy deletes user's messages outright and returns how many
	// there were. (Others' messages keep their seq: gaps are normal.)
	DeleteChatBy(ctx context.Context, user UserID) (int64, error)
}
