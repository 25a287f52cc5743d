package api

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/parley-audio/parley/rooms"
)

// eventOut is an event as a client reads it, with every documented field.
type eventOut struct {
	ID          rooms.EventID     `json:"id"`
	Title       string            `json:"title"`
	Description string            `json:"description"`
	StartsAt    time.Time         `json:"starts_at"`
	Host        rooms.MemberRef   `json:"host"`
	Cohosts     []rooms.MemberRef `json:"cohosts"`
	Status      string            `json:"status"`
	RoomID      *rooms.RoomID     `json:"room_id"`
	CreatedAt   time.Time         `json:"created_at"`
	UpdatedAt   time.Time         `json:"updated_at"`
	CancelledAt *time.Time        `json:"cancelled_at"`
	StartedAt   *time.Time        `json:"started_at"`
	RSVPCount   int               `json:"rsvp_count"`
	RSVPed      bool              `json:"rsvped"`
}

// future is a start time the tests' clocks are always before.
var future = time.Now().Add(30 * 24 * time.Hour).UTC().Truncate(time.Second)

func (e *testEnv) event(t *testing.T, method, path, token, body string, status int) eventOut {
	t.Helper()
	resp, got := e.do(t, method, path, token, body)
	if resp.StatusCode != status {
		t.Fatalf("%s %s: %d %s, want %d", method, path, resp.StatusCode, got, status)
	}
	var ev eventOut
	decodeStrictly(t, got, &ev, true)
	return ev
}

func eventBody(title string, cohosts ...rooms.UserID) string {
	b, _ := json.Marshal(map[string]any{"title": title, "description": "about " + title, "starts_at": future.Format(time.RFC3339), "cohosts": cohosts})
	return string(b)
}

func TestEventsOverREST(t *testing.T) {
	e := newTestEnv(t, nil)
	ann, annID := e.signIn(t, "Ann")
	bob, bobID := e.signIn(t, "Bob")
	cy, _ := e.signIn(t, "Cy")

	resp, body := e.do(t, http.MethodPost, "/api/v1/events", ann, eventBody("Launch", bobID))
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create: %d %s", resp.StatusCode, body)
	}
	var ev eventOut
	decodeStrictly(t, body, &ev, true)
	if loc := resp.Header.Get("Location"); loc != "/api/v1/events/"+string(ev.ID) {
		t.Errorf("Location = %q", loc)
	}
	if ev.Title != "Launch" || ev.Host.ID != annID || ev.Host.DisplayName != "Ann" || len(ev.Cohosts) != 1 ||
		ev.Cohosts[0].DisplayName != "Bob" || ev.Status != "scheduled" || ev.RoomID != nil || !ev.StartsAt.Equal(future) {
		t.Errorf("created = %+v", ev)
	}
	path := "/api/v1/events/" + string(ev.ID)

	// Only followers of a host RSVP: cy is refused until cy follows Ann.
	resp, body = e.do(t, http.MethodPut, path+"/rsvp", cy, "")
	wantError(t, resp, body, http.StatusForbidden, codeForbidden)
	e.must(t, http.MethodPost, "/api/v1/members/"+string(annID)+"/follow", cy, "", http.StatusNoContent)
	got := e.event(t, http.MethodPut, path+"/rsvp", cy, "", http.StatusOK)
	if !got.RSVPed || got.RSVPCount != 1 {
		t.Errorf("after cy's RSVP: %+v", got)
	}
	if got := e.event(t, http.MethodGet, path, bob, "", http.StatusOK); got.RSVPed || got.RSVPCount != 1 {
		t.Errorf("bob sees %+v; want cy's RSVP counted and not his", got)
	}
	resp, body = e.do(t, http.MethodGet, "/api/v1/events?limit=10", cy, "")
	var list struct {
		Events     []eventOut `json:"events"`
		NextCursor string     `json:"next_cursor"`
	}
	decodeStrictly(t, body, &list, false)
	if resp.StatusCode != http.StatusOK || len(list.Events) != 1 || list.Events[0].ID != ev.ID || !list.Events[0].RSVPed || list.NextCursor != "" {
		t.Errorf("list: %d %s", resp.StatusCode, body)
	}

	edited := e.event(t, http.MethodPatch, path, ann, `{"title":"Launch day","cohosts":[]}`, http.StatusOK)
	if edited.Title != "Launch day" || edited.Description != "about Launch" || len(edited.Cohosts) != 0 {
		t.Errorf("edited = %+v", edited)
	}
	e.event(t, http.MethodPatch, path, ann, `{"cohosts":["`+string(bobID)+`"]}`, http.StatusOK)

	resp, body = e.do(t, http.MethodPost, path+"/start", bob, "")
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("start: %d %s", resp.StatusCode, body)
	}
	var started struct {
		Event eventOut `json:"event"`
		Room  roomOut  `json:"room"`
	}
	decodeStrictly(t, body, &started, true)
	if started.Event.Status != "started" || started.Event.RoomID == nil || *started.Event.RoomID != started.Room.ID ||
		started.Room.CreatedBy.ID != annID || started.Room.Title != "Launch day" || !started.Room.Live ||
		resp.Header.Get("Location") != "/api/v1/rooms/"+string(started.Room.ID) {
		t.Errorf("started = %+v", started)
	}
	j, err := e.svc.Join(t.Context(), started.Room.ID, bobID, rooms.NewSessionID())
	if err != nil || j.Self.Role != rooms.RoleModerator {
		t.Errorf("the co-host joins the event's room as %s (%v), want a moderator", j.Self.Role, err)
	}

	other := e.event(t, http.MethodPost, "/api/v1/events", bob, eventBody("Other"), http.StatusCreated)
	cancelled := e.event(t, http.MethodPost, "/api/v1/events/"+string(other.ID)+"/cancel", bob, "", http.StatusOK)
	if cancelled.Status != "cancelled" || cancelled.CancelledAt == nil {
		t.Errorf("cancelled = %+v", cancelled)
	}
	resp, body = e.do(t, http.MethodDelete, path+"/rsvp", cy, "")
	wantError(t, resp, body, http.StatusConflict, codeEventStarted)
}

func TestEventRoutesRefuseBadInput(t *testing.T) {
	e := newTestEnv(t, nil)
	ann, annID := e.signIn(t, "Ann")
	bob, _ := e.signIn(t, "Bob")
	ev := e.event(t, http.MethodPost, "/api/v1/events", ann, eventBody("Mine"), http.StatusCreated)
	path := "/api/v1/events/" + string(ev.ID)

	checkBodyRefusals(t, e, http.MethodPost, "/api/v1/events", ann, eventBody("x"))
	checkBodyRefusals(t, e, http.MethodPatch, path, ann, `{"title":"x"}`)
	for _, c := range []struct{ method, path string }{
		{http.MethodGet, "/api/v1/events"}, {http.MethodGet, path}, {http.MethodPost, path + "/cancel"},
		{http.MethodPost, path + "/start"}, {http.MethodPut, path + "/rsvp"}, {http.MethodDelete, path + "/rsvp"},
	} {
		checkAuthRefusals(t, e, c.method, c.path, "")
	}

	t.Run("every wrong field is named", func(t *testing.T) {
		for body, fields := range map[string][]string{
			`{}`: {"title", "starts_at"},
			`{"title":"","description":"` + strings.Repeat("d", 2001) + `","starts_at":"tomorrow","cohosts":["bob","` + string(annID) + `"]}`: {"title", "description", "starts_at", "cohosts[0]", "cohosts[1]"},
			`{"title":"t","starts_at":"2020-01-01T00:00:00Z"}`: {"starts_at"},
			`{"title":"t","starts_at":null}`:                   {"starts_at"},
			`{"title":"t","starts_at":"` + future.Format(time.RFC3339) + `","cohosts":["` + string(rooms.NewUserID()) + `"]}`: {"cohosts[0]"},
		} {
			resp, got := e.do(t, http.MethodPost, "/api/v1/events", ann, body)
			wantInvalid(t, resp, got, fields...)
		}
		resp, got := e.do(t, http.MethodPatch, path, ann, `{"title":"a\nb","starts_at":"2020-01-01T00:00:00Z"}`)
		wantInvalid(t, resp, got, "title", "starts_at")
	})
	t.Run("a field of the wrong type is invalid_request", func(t *testing.T) {
		for _, body := range []string{`{"title":1}`, `{"starts_at":12}`, `{"cohosts":"usr_a"}`, `{"cohosts":[1]}`} {
			resp, got := e.do(t, http.MethodPost, "/api/v1/events", ann, body)
			wantError(t, resp, got, http.StatusBadRequest, codeInvalidRequest)
		}
	})
	t.Run("routes that take no body refuse one with a field", func(t *testing.T) {
		for _, p := range []string{path + "/cancel", path + "/start"} {
			resp, got := e.do(t, http.MethodPost, p, ann, `{"now":true}`)
			wantError(t, resp, got, http.StatusBadRequest, codeInvalidRequest)
		}
		resp, got := e.do(t, http.MethodPut, path+"/rsvp", bob, `{"going":true}`)
		wantError(t, resp, got, http.StatusBadRequest, codeInvalidRequest)
	})
	t.Run("unknown and malformed events are event_not_found", func(t *testing.T) {
		for _, id := range []string{string(rooms.NewEventID()), "evt_nope", "rm_aaaaaaaaaaaaaaaaaaaaaaaaaa"} {
			for _, c := range []struct{ method, path, body string }{
				{http.MethodGet, "", ""}, {http.MethodPatch, "", `{"title":"x"}`}, {http.MethodPost, "/cancel", ""},
				{http.MethodPost, "/start", ""}, {http.MethodPut, "/rsvp", ""}, {http.MethodDelete, "/rsvp", ""},
			} {
				resp, got := e.do(t, c.method, "/api/v1/events/"+id+c.path, ann, c.body)
				wantError(t, resp, got, http.StatusNotFound, codeEventNotFound)
			}
		}
	})
	t.Run("only the host edits and cancels, only hosts start", func(t *testing.T) {
		for _, c := range []struct{ method, path, body string }{
			{http.MethodPatch, path, `{"title":"taken"}`}, {http.MethodPost, path + "/cancel", ""}, {http.MethodPost, path + "/start", ""},
		} {
			resp, got := e.do(t, c.method, c.path, bob, c.body)
			wantError(t, resp, got, http.StatusForbidden, codeForbidden)
		}
	})
	t.Run("bad pages are refused", func(t *testing.T) {
		for q, status := range map[string]int{"?limit=many": 400, "?limit=0": 400, "?limit=101": 400, "?cursor=forged": 400} {
			resp, got := e.do(t, http.MethodGet, "/api/v1/events"+q, ann, "")
			code := codeValidationFailed
			if q == "?limit=many" {
				code = codeInvalidRequest
			}
			wantError(t, resp, got, status, code)
		}
	})
	t.Run("a started or cancelled event refuses changes", func(t *testing.T) {
		if resp, got := e.do(t, http.MethodPost, path+"/start", ann, ""); resp.StatusCode != http.StatusCreated {
			t.Fatalf("start: %d %s", resp.StatusCode, got)
		}
		gone := e.event(t, http.MethodPost, "/api/v1/events", ann, eventBody("Gone"), http.StatusCreated)
		gonePath := "/api/v1/events/" + string(gone.ID)
		e.event(t, http.MethodPost, gonePath+"/cancel", ann, "", http.StatusOK)
		for p, code := range map[string]string{path: codeEventStarted, gonePath: codeEventCancelled} {
			for _, c := range []struct{ method, path, body string }{
				{http.MethodPatch, "", `{"title":"x"}`}, {http.MethodPost, "/cancel", ""}, {http.MethodPost, "/start", ""},
				{http.MethodPut, "/rsvp", ""}, {http.MethodDelete, "/rsvp", ""},
			} {
				resp, got := e.do(t, c.method, p+c.path, ann, c.body)
				wantError(t, resp, got, http.StatusConflict, code)
			}
		}
	})
	e.mustStillServe(t, ann)
}
