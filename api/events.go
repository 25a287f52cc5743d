package api

import (
	"context"
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/parley-audio/parley/rooms"
)

// EventService is what the event routes need of rooms.Service.
type EventService interface {
	CreateEvent(ctx context.Context, host rooms.UserID, in rooms.EventInput) (rooms.EventView, error)
	UpdateEvent(ctx context.Context, actor rooms.UserID, id rooms.EventID, in rooms.EventInput) (rooms.EventView, error)
	CancelEvent(ctx context.Context, actor rooms.UserID, id rooms.EventID) (rooms.EventView, error)
	StartEvent(ctx context.Context, actor rooms.UserID, id rooms.EventID) (rooms.EventView, rooms.Room, error)
	Event(ctx context.Context, viewer rooms.UserID, id rooms.EventID) (rooms.EventView, error)
	UpcomingEvents(ctx context.Context, viewer rooms.UserID, limit int, cursor string) ([]rooms.EventView, string, error)
	RSVP(ctx context.Context, user rooms.UserID, id rooms.EventID, going bool) (rooms.EventView, error)
}

var _ EventService = (*rooms.Service)(nil)

// eventRequest is the body of creating and editing an event. Every field
// is a pointer: an edit changes only what it names, and creating tells a
// missing title from an empty one. starts_at is read as text, which the
// service checks with the rest, so that a malformed time is one more
// wrong field.
type eventRequest struct {
	Title       *string   `json:"title"`
	Description *string   `json:"description"`
	StartsAt    *string   `json:"starts_at"`
	Cohosts     *[]string `json:"cohosts"`
}

func (req eventRequest) input() rooms.EventInput {
	return rooms.EventInput{Title: req.Title, Description: req.Description, StartsAt: req.StartsAt, Cohosts: req.Cohosts}
}

type eventListResponse struct {
	Events     []rooms.EventJSON `json:"events"`
	NextCursor string            `json:"next_cursor,omitempty"`
}

type eventStartResponse struct {
	Event rooms.EventJSON `json:"event"`
	Room  rooms.RoomJSON  `json:"room"`
}

// withEvent runs h with the caller and the event of the path, answering
// the errors of both.
func (s *server) withEvent(h func(w http.ResponseWriter, r *http.Request, p Principal, id rooms.EventID)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p, err := principal(r)
		if err != nil {
			writeError(w, r, s.log, err)
			return
		}
		id, err := rooms.ParseEventID(chi.URLParam(r, "id"))
		if err != nil {
			writeError(w, r, s.log, err)
			return
		}
		h(w, r, p, id)
	}
}

// writeEvent answers an event, or the error of getting it.
func (s *server) writeEvent(w http.ResponseWriter, r *http.Request, status int, v rooms.EventView, err error) {
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeJSON(w, status, v.JSON())
}

// createEvent schedules an event hosted by the caller: POST /api/v1/events.
func (s *server) createEvent(w http.ResponseWriter, r *http.Request) {
	p, err := principal(r)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	var req eventRequest
	if err := decodeJSON(w, r, &req); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	v, err := s.events.CreateEvent(r.Context(), p.UserID, req.input())
	if err == nil {
		w.Header().Set("Location", "/api/v1/events/"+string(v.ID))
	}
	s.writeEvent(w, r, http.StatusCreated, v, err)
}

// listEvents pages through upcoming events: GET /api/v1/events.
func (s *server) listEvents(w http.ResponseWriter, r *http.Request) {
	p, err := principal(r)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	limit, cursor, err := pageParams(r)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	list, next, err := s.events.UpcomingEvents(r.Context(), p.UserID, limit, cursor)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	out := eventListResponse{Events: make([]rooms.EventJSON, 0, len(list)), NextCursor: next}
	for _, v := range list {
		out.Events = append(out.Events, v.JSON())
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *server) getEvent(w http.ResponseWriter, r *http.Request, p Principal, id rooms.EventID) {
	v, err := s.events.Event(r.Context(), p.UserID, id)
	s.writeEvent(w, r, http.StatusOK, v, err)
}

func (s *server) editEvent(w http.ResponseWriter, r *http.Request, p Principal, id rooms.EventID) {
	var req eventRequest
	if err := decodeJSON(w, r, &req); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	v, err := s.events.UpdateEvent(r.Context(), p.UserID, id, req.input())
	s.writeEvent(w, r, http.StatusOK, v, err)
}

func (s *server) cancelEvent(w http.ResponseWriter, r *http.Request, p Principal, id rooms.EventID) {
	if err := noBody(w, r, nil); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	v, err := s.events.CancelEvent(r.Context(), p.UserID, id)
	s.writeEvent(w, r, http.StatusOK, v, err)
}

func (s *server) startEvent(w http.ResponseWriter, r *http.Request, p Principal, id rooms.EventID) {
	if err := noBody(w, r, nil); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	v, room, err := s.events.StartEvent(r.Context(), p.UserID, id)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	// A new room has nobody in it yet: its hosts join over signaling.
	w.Header().Set("Location", "/api/v1/rooms/"+string(room.ID))
	writeJSON(w, http.StatusCreated, eventStartResponse{Event: v.JSON(), Room: rooms.RoomView{Room: room}.JSON()})
}

// rsvp returns the handler of PUT (going) or DELETE (not going)
// /api/v1/events/{id}/rsvp.
func (s *server) rsvp(going bool) func(w http.ResponseWriter, r *http.Request, p Principal, id rooms.EventID) {
	return func(w http.ResponseWriter, r *http.Request, p Principal, id rooms.EventID) {
		if err := noBody(w, r, nil); err != nil {
			writeError(w, r, s.log, err)
			return
		}
		v, err := s.events.RSVP(r.Context(), p.UserID, id, going)
		s.writeEvent(w, r, http.StatusOK, v, err)
	}
}
