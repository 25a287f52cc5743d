package signaling

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/parley-audio/parley/rooms"
)

// In-room chat over signaling (docs/protocol.md, "Chat"): chat_send,
// chat_delete and set_chat from a client in a room, answered ok or error;
// chat_message, chat_deleted and chat_settings to everyone in the room.

// Chat is what signaling needs of the rooms service for chat.
type Chat interface {
	SendChat(ctx context.Context, room rooms.RoomID, author rooms.UserID, body string) (rooms.ChatMessage, error)
	DeleteChat(ctx context.Context, room rooms.RoomID, actor rooms.UserID, id rooms.MessageID) (rooms.ChatMessage, error)
	SetChat(ctx context.Context, room rooms.RoomID, actor rooms.UserID, enabled bool) error
}

var _ Chat = (*rooms.Service)(nil)

// ChatSendPayload is the payload of chat_send.
type ChatSendPayload struct {
	Body *string `json:"body"`
}

// ChatDeletePayload is the payload of chat_delete.
type ChatDeletePayload struct {
	MessageID *string `json:"message_id"`
}

// SetChatPayload is the payload of set_chat.
type SetChatPayload struct {
	Enabled *bool `json:"enabled"`
}

// ChatSentPayload is the payload of the ok that answers chat_send: the
// message as stored.
type ChatSentPayload struct {
	Message rooms.ChatMessageJSON `json:"message"`
}

// ChatMessagePayload is the payload of chat_message.
type ChatMessagePayload struct {
	Message rooms.ChatMessageJSON `json:"message"`
}

// ChatDeletedPayload is the payload of chat_deleted.
type ChatDeletedPayload struct {
	MessageID rooms.MessageID `json:"message_id"`
	Seq       uint64          `json:"seq"`
	By        rooms.UserID    `json:"by"`
}

// ChatSettingsPayload is the payload of chat_settings.
type ChatSettingsPayload struct {
	Enabled bool         `json:"enabled"`
	By      rooms.UserID `json:"by"`
}

// chatRequest is a decoded chat message from a client.
type chatRequest struct {
	Body      string
	MessageID string
	Enabled   bool
}

// decodeChat reads a chat message's payload strictly: every field it
// takes is required, and no other is allowed.
func decodeChat(typ string, raw json.RawMessage) (*chatRequest, *ProtocolError) {
	c := &chatRequest{}
	switch typ {
	case TypeChatSend:
		var p ChatSendPayload
		if perr := decodePayload(raw, &p); perr != nil {
			return nil, perr
		}
		if p.Body == nil {
			return nil, protoErr(CodeInvalidMessage, "payload.body is required")
		}
		c.Body = *p.Body
	case TypeChatDelete:
		var p ChatDeletePayload
		if perr := decodePayload(raw, &p); perr != nil {
			return nil, perr
		}
		if p.MessageID == nil || *p.MessageID == "" {
			return nil, protoErr(CodeInvalidMessage, "payload.message_id is required")
		}
		c.MessageID = *p.MessageID
	case TypeSetChat:
		var p SetChatPayload
		if perr := decodePayload(raw, &p); perr != nil {
			return nil, perr
		}
		if p.Enabled == nil {
			return nil, protoErr(CodeInvalidMessage, "payload.enabled is required")
		}
		c.Enabled = *p.Enabled
	}
	return c, nil
}

// encodeChatEvent turns a chat event into its frame. Chat events carry no
// seq: chat has its own order, the message's seq.
func encodeChatEvent(ev rooms.Event) []byte {
	switch ev.Type {
	case rooms.EventChatMessage:
		return encode(TypeChatMessage, "", 0, ChatMessagePayload{Message: ev.Chat.JSON()})
	case rooms.EventChatDeleted:
		return encode(TypeChatDeleted, "", 0, ChatDeletedPayload{MessageID: ev.Chat.ID, Seq: ev.Chat.Seq, By: ev.By})
	default:
		return encode(TypeChatSettings, "", 0, ChatSettingsPayload{Enabled: ev.ChatEnabled, By: ev.By})
	}
}

// chat handles a chat message of a session in a room.
func (s *session) chat(ctx context.Context, m clientMessage) *ProtocolError {
	if s.srv.chat == nil {
		return protoErr(CodeInternal, "chat is not available on this server")
	}
	if s.hub == nil {
		return protoErr(CodeNotJoined, "join a room first")
	}
	room := s.hub.id
	switch m.Type {
	case TypeChatSend:
		msg, err := s.srv.chat.SendChat(ctx, room, s.user.User, m.Chat.Body)
		if err != nil {
			return s.chatError(ctx, err)
		}
		s.reply(m.ID, TypeOK, ChatSentPayload{Message: msg.JSON()})
		return nil
	case TypeChatDelete:
		id, err := rooms.ParseMessageID(m.Chat.MessageID)
		if err == nil {
			_, err = s.srv.chat.DeleteChat(ctx, room, s.user.User, id)
		}
		if err != nil {
			return s.chatError(ctx, err)
		}
	case TypeSetChat:
		if err := s.srv.chat.SetChat(ctx, room, s.user.User, m.Chat.Enabled); err != nil {
			return s.chatError(ctx, err)
		}
	}
	s.reply(m.ID, TypeOK, EmptyPayload{})
	return nil
}

// chatError maps a refusal of chat to its protocol error; the rest are
// the stage's.
func (s *session) chatError(ctx context.Context, err error) *ProtocolError {
	switch {
	case errors.Is(err, rooms.ErrChatDisabled):
		return protoErr(CodeChatDisabled, "chat is turned off in this room")
	case errors.Is(err, rooms.ErrRateLimited):
		return protoErr(CodeRateLimited, "you are sending chat messages too fast; wait a little")
	case errors.Is(err, rooms.ErrMessageNotFound):
		return protoErr(CodeMessageNotFound, "this room has no such message")
	case errors.Is(err, rooms.ErrNotParticipant):
		return protoErr(CodeNotJoined, "you are no longer in this room")
	}
	return s.actionError(ctx, err)
}
