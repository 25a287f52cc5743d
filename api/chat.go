package api

import (
	"context"
	"errors"
	"net/http"
	"strconv"

	"github.com/go-chi/chi/v5"

	"github.com/parley-audio/parley/rooms"
)

// ChatService is what the chat routes need of rooms.Service.
type ChatService interface {
	SendChat(ctx context.Context, room rooms.RoomID, author rooms.UserID, body string) (rooms.ChatMessage, error)
	DeleteChat(ctx context.Context, room rooms.RoomID, actor rooms.UserID, id rooms.MessageID) (rooms.ChatMessage, error)
	SetChat(ctx context.Context, room rooms.RoomID, actor rooms.UserID, enabled bool) error
	ChatHistory(ctx context.Context, room rooms.RoomID, q rooms.ChatPage) (rooms.ChatHistoryPage, error)
}

var _ ChatService = (*rooms.Service)(nil)

type chatPostRequest struct {
	// Body is a pointer so that a missing body is told apart from an
	// empty one in the error.
	Body *string `json:"body"`
}

type chatSettingsRequest struct {
	Enabled *bool `json:"enabled"`
}

type chatHistoryResponse struct {
	Messages    []rooms.ChatMessageJSON `json:"messages"`
	NextCursor  string                  `json:"next_cursor,omitempty"`
	ChatEnabled bool                    `json:"chat_enabled"`
}

var errAfter = newAPIError(http.StatusBadRequest, codeInvalidRequest, "query parameter after must be an integer")

// withRoom runs h with the caller and the room of the path.
func (s *server) withRoom(h func(w http.ResponseWriter, r *http.Request, p Principal, id rooms.RoomID)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p, id, _, err := roomAndMember(r, false)
		if err != nil {
			writeError(w, r, s.log, err)
			return
		}
		h(w, r, p, id)
	}
}

// chatHistory pages through a room's chat:
// GET /api/v1/rooms/{id}/chat?limit=&cursor=&after=.
func (s *server) chatHistory(w http.ResponseWriter, r *http.Request, p Principal, id rooms.RoomID) {
	// Whoever may not see the room may not read its chat: the same
	// answer, room_not_found, as for the room itself.
	if _, err := s.rooms.RoomFor(r.Context(), p.UserID, id); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	limit, err := queryLimit(r)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	q := rooms.ChatPage{Limit: limit, Cursor: r.URL.Query().Get("cursor")}
	if v := r.URL.Query().Get("after"); r.URL.Query().Has("after") {
		n, err := strconv.ParseInt(v, 10, 64)
		switch {
		case err != nil && !errors.Is(err, strconv.ErrRange):
			writeError(w, r, s.log, errAfter)
			return
		case n < 1:
			writeError(w, r, s.log, &rooms.ValidationError{Field: "after", Reason: "must be a message's seq, 1 or more"})
			return
		}
		q.After = uint64(n)
	}
	page, err := s.chat.ChatHistory(r.Context(), id, q)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	out := chatHistoryResponse{Messages: make([]rooms.ChatMessageJSON, 0, len(page.Messages)), NextCursor: page.Next, ChatEnabled: page.Enabled}
	for _, m := range page.Messages {
		out.Messages = append(out.Messages, m.JSON())
	}
	writeJSON(w, http.StatusOK, out)
}

// postChat sends a chat message as the caller, who must be in the room:
// POST /api/v1/rooms/{id}/chat.
func (s *server) postChat(w http.ResponseWriter, r *http.Request, p Principal, id rooms.RoomID) {
	var req chatPostRequest
	if err := decodeJSON(w, r, &req); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	if req.Body == nil {
		writeError(w, r, s.log, &rooms.ValidationError{Field: "body", Reason: "is required"})
		return
	}
	m, err := s.chat.SendChat(r.Context(), id, p.UserID, *req.Body)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusCreated, m.JSON())
}

// deleteChat deletes a message: DELETE /api/v1/rooms/{id}/chat/{message_id}.
func (s *server) deleteChat(w http.ResponseWriter, r *http.Request, p Principal, id rooms.RoomID) {
	msg, err := rooms.ParseMessageID(chi.URLParam(r, "message_id"))
	if err == nil {
		err = noBody(w, r, nil)
	}
	if err == nil {
		_, err = s.chat.DeleteChat(r.Context(), id, p.UserID, msg)
	}
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// setChat turns a room's chat on or off: PUT /api/v1/rooms/{id}/chat/settings.
func (s *server) setChat(w http.ResponseWriter, r *http.Request, p Principal, id rooms.RoomID) {
	var req chatSettingsRequest
	if err := decodeJSON(w, r, &req); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	if req.Enabled == nil {
		writeError(w, r, s.log, &rooms.ValidationError{Field: "enabled", Reason: "is required: true or false"})
		return
	}
	if err := s.chat.SetChat(r.Context(), id, p.UserID, *req.Enabled); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
