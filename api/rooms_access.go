package api

import (
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/parley-audio/parley/rooms"
)

type visibilityRequest struct {
	Visibility *string `json:"visibility"`
}

// inviteeJSON is a member invited into a room.
type inviteeJSON struct {
	ID          rooms.UserID `json:"id"`
	DisplayName string       `json:"display_name"`
	InvitedBy   rooms.UserID `json:"invited_by"`
	InvitedAt   time.Time    `json:"invited_at"`
}

func inviteeOf(v rooms.InviteeView) inviteeJSON {
	return inviteeJSON{ID: v.Member, DisplayName: v.Name, InvitedBy: v.InvitedBy, InvitedAt: v.At}
}

type inviteeListResponse struct {
	Invitees   []inviteeJSON `json:"invitees"`
	NextCursor string        `json:"next_cursor,omitempty"`
}

// roomAndMember reads the caller, {id} and, when named, {user_id}.
func roomAndMember(r *http.Request, withMember bool) (Principal, rooms.RoomID, rooms.UserID, error) {
	p, err := principal(r)
	if err != nil {
		return Principal{}, "", "", err
	}
	id, err := rooms.ParseRoomID(chi.URLParam(r, "id"))
	if err != nil {
		return Principal{}, "", "", err
	}
	if !withMember {
		return p, id, "", nil
	}
	m, err := rooms.ParseUserID(chi.URLParam(r, "user_id"))
	if err != nil {
		return Principal{}, "", "", errNoMember
	}
	return p, id, m, nil
}

// setVisibility changes who may see and join a room:
// PUT /api/v1/rooms/{id}/visibility.
func (s *server) setVisibility(w http.ResponseWriter, r *http.Request) {
	p, id, _, err := roomAndMember(r, false)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	var req visibilityRequest
	if err := decodeJSON(w, r, &req); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	if req.Visibility == nil {
		writeError(w, r, s.log, &rooms.ValidationError{Field: "visibility", Reason: "is required: open, social or closed"})
		return
	}
	v, err := s.rooms.SetVisibility(r.Context(), p.UserID, id, rooms.Visibility(*req.Visibility))
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusOK, v.JSON())
}

// listInvitees pages through a room's invitees:
// GET /api/v1/rooms/{id}/invitees.
func (s *server) listInvitees(w http.ResponseWriter, r *http.Request) {
	p, id, _, err := roomAndMember(r, false)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	limit, cursor, err := pageParams(r)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	list, next, err := s.rooms.RoomInvitees(r.Context(), p.UserID, id, limit, cursor)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	out := inviteeListResponse{Invitees: make([]inviteeJSON, len(list)), NextCursor: next}
	for i, v := range list {
		out.Invitees[i] = inviteeOf(v)
	}
	writeJSON(w, http.StatusOK, out)
}

// addInvitee lets a member into a room: PUT /api/v1/rooms/{id}/invitees/{user_id}.
func (s *server) addInvitee(w http.ResponseWriter, r *http.Request) {
	p, id, m, err := roomAndMember(r, true)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	if err := noBody(w, r, nil); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	v, err := s.rooms.InviteToRoom(r.Context(), p.UserID, id, m)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusOK, inviteeOf(v))
}

// removeInvitee withdraws an invitation:
// DELETE /api/v1/rooms/{id}/invitees/{user_id}.
func (s *server) removeInvitee(w http.ResponseWriter, r *http.Request) {
	p, id, m, err := roomAndMember(r, true)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	if err := noBody(w, r, nil); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	if err := s.rooms.UninviteFromRoom(r.Context(), p.UserID, id, m); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// roomAccessRoutes mounts the routes of room visibility and invitees,
// inside the authenticated group.
func (s *server) roomAccessRoutes(r chi.Router) {
	r.Put("/rooms/{id}/visibility", s.setVisibility)
	r.Get("/rooms/{id}/invitees", s.listInvitees)
	r.Put("/rooms/{id}/invitees/{user_id}", s.addInvitee)
	r.Delete("/rooms/{id}/invitees/{user_id}", s.removeInvitee)
}
