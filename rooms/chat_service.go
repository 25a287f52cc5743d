package rooms

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// In-room chat. Whoever is in a live room may chat while chat is on
// (listeners included), at most at the member's ChatRate; the room's
// moderators (and its creator and co-hosts, from anywhere) delete
// messages and turn chat off and on; authors delete their own. Messages
// are stored first, then published to the room's subscribers as
// chat_message, chat_deleted and chat_settings events.

// SendChat posts a message to a room as author, who must be in it, and
// returns it as stored (with its Seq). Errors: a *ValidationError for the
// body, ErrForbidden (a guest), ErrNotParticipant, ErrRateLimited,
// ErrChatDisabled, ErrRoomEnded, ErrRoomNotFound.
func (s *Service) SendChat(ctx context.Context, room RoomID, author UserID, body string) (ChatMessage, error) {
	if author.IsGuest() {
		return ChatMessage{}, fmt.Errorf("chat in %s: guests can only listen: %w", room, ErrForbidden)
	}
	st, err := s.dataStore()
	if err != nil {
		return ChatMessage{}, err
	}
	text, err := cleanText("body", body, 1, MaxChatLen, true)
	if err != nil {
		return ChatMessage{}, err
	}
	// The record first: a refusal for the room's sake (gone, ended, chat
	// off) must not cost the member a message of their rate.
	r, err := s.rooms.Room(ctx, room)
	switch {
	case err != nil:
		return ChatMessage{}, fmt.Errorf("chat in %s: %w", room, err)
	case !r.Live():
		return ChatMessage{}, fmt.Errorf("chat in %s: %w", room, ErrRoomEnded)
	case r.ChatDisabled:
		return ChatMessage{}, fmt.Errorf("chat in %s: %w", room, ErrChatDisabled)
	}
	p, err := s.live.Participant(ctx, room, author)
	if errors.Is(err, ErrRoomNotFound) {
		// A live record without live state: nobody has joined since this
		// process (or Redis) started, so neither has the author.
		err = fmt.Errorf("%s: %w", author, ErrNotParticipant)
	}
	if err != nil {
		return ChatMessage{}, fmt.Errorf("chat in %s: %w", room, err)
	}
	now := s.now().UTC().Truncate(time.Millisecond)
	ok, wait, err := s.data.limiter.Allow(ctx, string(author), now)
	if err != nil {
		return ChatMessage{}, fmt.Errorf("chat in %s: %w: chat rate limit: %w", room, ErrUnavailable, err)
	}
	if !ok {
		return ChatMessage{}, fmt.Errorf("chat in %s: %w", room, &RateLimitError{RetryAfter: wait})
	}
	m, err := st.AddChatMessage(ctx, ChatMessage{ID: NewMessageID(), Room: room, Author: author, Body: text, CreatedAt: now})
	if err != nil {
		return ChatMessage{}, fmt.Errorf("chat in %s: %w", room, err)
	}
	m.AuthorName = p.DisplayName
	s.publish(ctx, Event{Type: EventChatMessage, Room: room, At: now, Chat: m})
	return m, nil
}

// publish sends an event that changes no live state. The change it tells
// of is stored already, so a failure to tell is logged, not returned:
// clients catch up from the history.
func (s *Service) publish(ctx context.Context, ev Event) {
	if err := s.bus.Publish(ctx, ev); err != nil {
		s.log.WarnContext(ctx, "publish", "room", ev.Room, "type", ev.Type, "err", err)
	}
}

// DeleteChat deletes a message of a room: its author may, and whoever may
// moderate the room. It returns the message as deleted. Deleting a
// deleted message changes nothing. Errors: ErrMessageNotFound,
// ErrForbidden, ErrRoomNotFound.
func (s *Service) DeleteChat(ctx context.Context, room RoomID, actor UserID, id MessageID) (ChatMessage, error) {
	st, err := s.dataStore()
	if err != nil {
		return ChatMessage{}, err
	}
	r, err := s.rooms.Room(ctx, room)
	if err != nil {
		return ChatMessage{}, fmt.Errorf("delete message in %s: %w", room, err)
	}
	m, err := st.ChatMessage(ctx, room, id)
	if err != nil {
		return ChatMessage{}, fmt.Errorf("delete message: %w", err)
	}
	if m.Author != actor {
		ok, err := s.mayModerate(ctx, r, actor)
		if err != nil {
			return ChatMessage{}, err
		}
		if !ok {
			return ChatMessage{}, fmt.Errorf("delete message %s: only its author and the room's moderators may: %w", id, ErrForbidden)
		}
	}
	if !m.DeletedAt.IsZero() {
		return m, nil
	}
	now := s.now().UTC().Truncate(time.Millisecond)
	deleted, err := st.DeleteChatMessage(ctx, room, id, actor, now)
	if err != nil {
		return ChatMessage{}, fmt.Errorf("delete message: %w", err)
	}
	s.publish(ctx, Event{Type: EventChatDeleted, Room: room, At: now, By: actor, Chat: ChatMessage{ID: deleted.ID, Room: room, Seq: deleted.Seq}})
	if m.Author != actor {
		s.logMod(ctx, ModAction{Room: room, Actor: actor, Target: m.Author, Kind: ModChatDeleted, Detail: string(id), At: now})
	}
	return deleted, nil
}

// SetChat turns a live room's chat on or off; its moderators may (its
// creator and co-hosts from anywhere). Turning it to what it is changes
// nothing. Errors: ErrForbidden, ErrRoomEnded, ErrRoomNotFound.
func (s *Service) SetChat(ctx context.Context, room RoomID, actor UserID, enabled bool) error {
	st, err := s.dataStore()
	if err != nil {
		return err
	}
	r, err := s.rooms.Room(ctx, room)
	if err != nil {
		return fmt.Errorf("set chat in %s: %w", room, err)
	}
	if !r.Live() {
		return fmt.Errorf("set chat in %s: %w", room, ErrRoomEnded)
	}
	ok, err := s.mayModerate(ctx, r, actor)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("set chat in %s: only its moderators may: %w", room, ErrForbidden)
	}
	changed, err := st.SetChatDisabled(ctx, room, !enabled)
	if err != nil {
		return fmt.Errorf("set chat in %s: %w", room, err)
	}
	if !changed {
		return nil
	}
	now := s.now().UTC().Truncate(time.Millisecond)
	s.publish(ctx, Event{Type: EventChatSettings, Room: room, At: now, By: actor, ChatEnabled: enabled})
	kind := ModChatDisabled
	if enabled {
		kind = ModChatEnabled
	}
	s.logMod(ctx, ModAction{Room: room, Actor: actor, Kind: kind, At: now})
	return nil
}

// ChatPage asks for a page of a room's chat: the newest messages (neither
// Cursor nor After), the page a Cursor from an earlier page names, or the
// messages after the seq After (to catch up after a reconnection).
type ChatPage struct {
	Limit  int
	Cursor string
	After  uint64
}

// ChatHistoryPage is a page of chat in seq order, the cursor of the next
// page ("" when none: older messages when paging back, newer ones when
// paging forward), and whether chat is on.
type ChatHistoryPage struct {
	Messages []ChatMessage
	Next     string
	Enabled  bool
}

// ChatHistory returns a page of a room's chat, live or ended, without
// deleted messages, with its authors' names. Anyone signed in may read it,
// as they may read the room.
func (s *Service) ChatHistory(ctx context.Context, room RoomID, q ChatPage) (ChatHistoryPage, error) {
	st, err := s.dataStore()
	if err != nil {
		return ChatHistoryPage{}, err
	}
	limit, err := pageLimit(q.Limit)
	if err != nil {
		return ChatHistoryPage{}, err
	}
	sq := ChatQuery{Limit: limit + 1, After: q.After}
	forward := q.After > 0
	if q.Cursor != "" {
		if forward {
			return ChatHistoryPage{}, &ValidationError{Field: "after", Reason: "does not go with cursor"}
		}
		if forward, sq.Before, sq.After, err = parseChatCursor(q.Cursor); err != nil {
			return ChatHistoryPage{}, err
		}
	}
	r, err := s.rooms.Room(ctx, room)
	if err != nil {
		return ChatHistoryPage{}, fmt.Errorf("chat of %s: %w", room, err)
	}
	list, err := st.ChatHistory(ctx, room, sq)
	if err != nil {
		return ChatHistoryPage{}, fmt.Errorf("chat of %s: %w", room, err)
	}
	page := ChatHistoryPage{Enabled: !r.ChatDisabled}
	if len(list) > limit {
		if forward {
			list = list[:limit]
			page.Next = chatCursor(true, list[limit-1].Seq)
		} else {
			list = list[1:]
			page.Next = chatCursor(false, list[0].Seq)
		}
	}
	ids := make([]UserID, len(list))
	for i, m := range list {
		ids[i] = m.Author
	}
	names, err := s.names(ctx, ids...)
	if err != nil {
		return ChatHistoryPage{}, err
	}
	for i := range list {
		list[i].AuthorName = names[list[i].Author]
	}
	page.Messages = list
	return page, nil
}

// A chat cursor is a direction and a seq, opaque to clients.
func chatCursor(forward bool, seq uint64) string {
	dir := "before"
	if forward {
		dir = "after"
	}
	return base64.RawURLEncoding.EncodeToString([]byte("chat:" + dir + ":" + strconv.FormatUint(seq, 10)))
}

func parseChatCursor(c string) (forward bool, before, after uint64, err error) {
	bad := &ValidationError{Field: "cursor", Reason: "is not a cursor this server issued"}
	raw, derr := base64.RawURLEncoding.DecodeString(c)
	if derr != nil {
		return false, 0, 0, bad
	}
	rest, ok := strings.CutPrefix(string(raw), "chat:")
	if !ok {
		return false, 0, 0, bad
	}
	dir, num, _ := strings.Cut(rest, ":")
	seq, perr := strconv.ParseUint(num, 10, 63)
	if perr != nil || seq == 0 {
		return false, 0, 0, bad
	}
	switch dir {
	case "before":
		return false, seq, 0, nil
	case "after":
		return true, 0, seq, nil
	}
	return false, 0, 0, bad
}
