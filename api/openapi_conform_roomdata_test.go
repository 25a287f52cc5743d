package api

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/parley-audio/parley/rooms"
)

// TestOpenAPIMatchesRoomDataResponses walks the routes of events, chat,
// history, the moderation log and reports, good requests and bad, and
// checks every answer against the document.
func TestOpenAPIMatchesRoomDataResponses(t *testing.T) {
	c := newConformance(t)
	c.e = newDataEnv(t)
	e := c.e
	ann, annID := e.signIn(t, "Ann")
	bob, bobID := e.signIn(t, "Bob")
	admin, _ := e.signInAdmin(t, "Root")

	const (
		events = "/api/v1/events"
		event  = events + "/{id}"
	)
	resp, body := c.do(t, http.MethodPost, events, events, ann, eventBody("Launch", bobID))
	var ev eventOut
	if err := json.Unmarshal([]byte(body), &ev); err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("create event: %d %s", resp.StatusCode, body)
	}
	evPath := events + "/" + string(ev.ID)
	other, _ := e.signIn(t, "Other")
	c.do(t, http.MethodPost, events, events, ann, `{"title":""}`)
	c.do(t, http.MethodPost, events, events, ann, `{"title":1}`)
	c.do(t, http.MethodPost, events, events, "", eventBody("x"))
	c.do(t, http.MethodGet, events, events, bob, "")
	c.do(t, http.MethodGet, events, events+"?limit=1", bob, "")
	c.do(t, http.MethodGet, events, events+"?limit=x", bob, "")
	c.do(t, http.MethodGet, events, events+"?cursor=forged", bob, "")
	c.do(t, http.MethodGet, event, evPath, bob, "")
	c.do(t, http.MethodGet, event, events+"/evt_nope", bob, "")
	c.do(t, http.MethodPatch, event, evPath, ann, `{"description":"new"}`)
	c.do(t, http.MethodPatch, event, evPath, bob, `{"description":"mine"}`)
	c.do(t, http.MethodPatch, event, evPath, ann, `{"starts_at":"soon"}`)
	c.do(t, http.MethodPut, event+"/rsvp", evPath+"/rsvp", other, "")
	c.do(t, http.MethodPut, event+"/rsvp", evPath+"/rsvp", other, `{"x":1}`)
	c.do(t, http.MethodDelete, event+"/rsvp", evPath+"/rsvp", other, "")
	c.do(t, http.MethodPost, event+"/start", evPath+"/start", other, "")
	resp, body = c.do(t, http.MethodPost, event+"/start", evPath+"/start", bob, "")
	var started struct {
		Room roomOut `json:"room"`
	}
	if err := json.Unmarshal([]byte(body), &started); err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("start: %d %s", resp.StatusCode, body)
	}
	c.do(t, http.MethodPost, event+"/start", evPath+"/start", bob, "")
	c.do(t, http.MethodPost, event+"/cancel", evPath+"/cancel", ann, "")
	c.do(t, http.MethodPost, event+"/cancel", events+"/"+string(rooms.NewEventID())+"/cancel", ann, "")
	c.do(t, http.MethodGet, event, evPath, other, "")

	const (
		room = "/api/v1/rooms/{id}"
		chat = room + "/chat"
	)
	roomPath := "/api/v1/rooms/" + string(started.Room.ID)
	for _, id := range []rooms.UserID{annID, bobID} {
		if _, err := e.svc.Join(t.Context(), started.Room.ID, id, rooms.NewSessionID()); err != nil {
			t.Fatal(err)
		}
	}
	c.do(t, http.MethodGet, room, roomPath, other, "")
	resp, body = c.do(t, http.MethodPost, chat, roomPath+"/chat", ann, `{"body":"hello"}`)
	var msg chatMessageOut
	if err := json.Unmarshal([]byte(body), &msg); err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("post: %d %s", resp.StatusCode, body)
	}
	c.do(t, http.MethodPost, chat, roomPath+"/chat", ann, `{"body":""}`)
	c.do(t, http.MethodPost, chat, roomPath+"/chat", other, `{"body":"not in it"}`)
	c.do(t, http.MethodPost, chat, "/api/v1/rooms/rm_nope/chat", ann, `{"body":"x"}`)
	c.do(t, http.MethodGet, chat, roomPath+"/chat", other, "")
	c.do(t, http.MethodGet, chat, roomPath+"/chat?after=0", other, "")
	c.do(t, http.MethodGet, chat, roomPath+"/chat?after=x", other, "")
	c.do(t, http.MethodDelete, chat+"/{message_id}", roomPath+"/chat/"+string(msg.ID), other, "")
	c.do(t, http.MethodDelete, chat+"/{message_id}", roomPath+"/chat/msg_nope", ann, "")
	c.do(t, http.MethodPut, chat+"/settings", roomPath+"/chat/settings", other, `{"enabled":false}`)
	c.do(t, http.MethodPut, chat+"/settings", roomPath+"/chat/settings", ann, `{}`)
	c.do(t, http.MethodPut, chat+"/settings", roomPath+"/chat/settings", ann, `{"enabled":false}`)
	c.do(t, http.MethodPost, chat, roomPath+"/chat", bob, `{"body":"off?"}`)
	c.do(t, http.MethodPut, chat+"/settings", roomPath+"/chat/settings", ann, `{"enabled":true}`)
	for range 10 {
		c.do(t, http.MethodPost, chat, roomPath+"/chat", bob, `{"body":"flood"}`)
	}
	c.do(t, http.MethodDelete, chat+"/{message_id}", roomPath+"/chat/"+string(msg.ID), ann, "")

	c.do(t, http.MethodGet, room+"/history", roomPath+"/history", other, "")
	c.do(t, http.MethodGet, room+"/history", "/api/v1/rooms/rm_nope/history", other, "")
	c.do(t, http.MethodGet, room+"/moderation-log", roomPath+"/moderation-log", ann, "")
	c.do(t, http.MethodGet, room+"/moderation-log", roomPath+"/moderation-log", other, "")
	c.do(t, http.MethodGet, room+"/moderation-log", roomPath+"/moderation-log?limit=x", admin, "")

	c.do(t, http.MethodPost, room+"/end", roomPath+"/end", ann, "")
	c.do(t, http.MethodGet, room+"/history", roomPath+"/history", other, "")
	c.do(t, http.MethodPost, chat, roomPath+"/chat", ann, `{"body":"late"}`)
	c.do(t, http.MethodPut, chat+"/settings", roomPath+"/chat/settings", ann, `{"enabled":false}`)

	const reports = "/api/v1/reports"
	c.do(t, http.MethodPost, reports, reports, other, `{"member_id":"`+string(bobID)+`","room_id":"`+string(started.Room.ID)+`","reason":"loud"}`)
	c.do(t, http.MethodPost, reports, reports, other, `{"room_id":"`+string(started.Room.ID)+`","reason":"dull"}`)
	c.do(t, http.MethodPost, reports, reports, other, `{"reason":""}`)
	c.do(t, http.MethodGet, reports, reports, other, "")
	c.do(t, http.MethodGet, reports, reports+"?limit=1", admin, "")
	c.do(t, http.MethodGet, reports, reports+"?limit=0", admin, "")
}
