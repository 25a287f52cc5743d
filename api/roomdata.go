package api

import "github.com/go-chi/chi/v5"

// mountRoomData mounts the routes of events, chat, room history, the
// moderation log and reports, for the services it has.
func (s *server) mountRoomData(r chi.Router) {
	if s.events != nil {
		r.Post("/events", s.createEvent)
		r.Get("/events", s.listEvents)
		r.Get("/events/{id}", s.withEvent(s.getEvent))
		r.Patch("/events/{id}", s.withEvent(s.editEvent))
		r.Post("/events/{id}/cancel", s.withEvent(s.cancelEvent))
		r.Post("/events/{id}/start", s.withEvent(s.startEvent))
		r.Put("/events/{id}/rsvp", s.withEvent(s.rsvp(true)))
		r.Delete("/events/{id}/rsvp", s.withEvent(s.rsvp(false)))
	}
	if s.chat != nil {
		r.Get("/rooms/{id}/chat", s.withRoom(s.chatHistory))
		r.Post("/rooms/{id}/chat", s.withRoom(s.postChat))
		r.Delete("/rooms/{id}/chat/{message_id}", s.withRoom(s.deleteChat))
		r.Put("/rooms/{id}/chat/settings", s.withRoom(s.setChat))
	}
	if s.records != nil {
		r.Get("/rooms/{id}/history", s.withRoom(s.roomHistory))
		r.Get("/rooms/{id}/moderation-log", s.withRoom(s.modLog))
		r.Post("/reports", s.createReport)
		r.Get("/reports", s.listReports)
	}
}
