package api

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley-audio/parley/rooms"
)

func TestCreateRoom(t *testing.T) {
	e := newTestEnv(t, nil)
	token, id := e.signIn(t, "Ann")
	resp, body := e.do(t, http.MethodPost, "/api/v1/rooms", token, `{"title":" Hiring in 2027 ","description":"Open Q&A\nBring questions"}`)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	var r roomOut
	decodeStrictly(t, body, &r, true)
	if !roomIDPattern.MatchString(string(r.ID)) {
		t.Errorf("room id %q", r.ID)
	}
	if got, want := resp.Header.Get("Location"), "/api/v1/rooms/"+string(r.ID); got != want {
		t.Errorf("Location = %q, want %q", got, want)
	}
	if r.Title != "Hiring in 2027" || r.Description != "Open Q&A\nBring questions" ||
		r.CreatedBy.ID != id || r.CreatedBy.DisplayName != "Ann" ||
		r.CreatedAt.IsZero() || r.EndedAt != nil || !r.Live || r.SpeakerCount != 0 || r.ListenerCount != 0 {
		t.Errorf("room = %+v", r)
	}
	if !strings.Contains(body, `"ended_at":null`) {
		t.Errorf("ended_at is not null in %s", body)
	}

	// The Location names the room just made.
	resp, body = e.do(t, http.MethodGet, resp.Header.Get("Location"), token, "")
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `"title":"Hiring in 2027"`) {
		t.Errorf("GET Location: %d %s", resp.StatusCode, body)
	}
}

func TestRoomIDsAreRandom(t *testing.T) {
	e := newTestEnv(t, nil)
	token, _ := e.signIn(t, "Ann")
	a, b := e.createRoom(t, token, "One"), e.createRoom(t, token, "Two")
	if a.ID == b.ID {
		t.Fatalf("two rooms share ID %s", a.ID)
	}
	for _, id := range []rooms.RoomID{a.ID, b.ID} {
		if !roomIDPattern.MatchString(string(id)) {
			t.Errorf("room id %q", id)
		}
	}
	// Random, not sequential: 26 base32 characters of 128 random bits
	// agree on a long prefix only by accident.
	if a.ID[:8] == b.ID[:8] {
		t.Errorf("IDs %s and %s share a prefix", a.ID, b.ID)
	}
}

// TestBadBodies sends every kind of bad body the doc lists, and after each
// checks that the server still serves a good request.
func TestBadBodies(t *testing.T) {
	e := newTestEnv(t, nil)
	token, _ := e.signIn(t, "Ann")
	jsonCT := http.Header{"Content-Type": {"application/json"}}
	with := func(h http.Header, extra map[string]string) http.Header {
		out := bearer(token)
		for k, v := range h {
			out[k] = v
		}
		for k, v := range extra {
			out.Set(k, v)
		}
		return out
	}
	big := `{"title":"` + strings.Repeat("a", maxBodyBytes) + `"}`
	tests := []struct {
		name    string
		body    io.Reader
		header  http.Header
		status  int
		code    string
		mention string // the message must contain this
	}{
		{"malformed JSON is invalid_json", strings.NewReader(`{"title":`), jsonCT, 400, codeInvalidJSON, ""},
		{"a bare word is invalid_json", strings.NewReader(`title`), jsonCT, 400, codeInvalidJSON, ""},
		{"an empty body is invalid_json", nil, nil, 400, codeInvalidJSON, ""},
		{"a second object after the first is invalid_json", strings.NewReader(`{"title":"a"}{"title":"b"}`), jsonCT, 400, codeInvalidJSON, ""},
		{"garbage after the object is invalid_json", strings.NewReader(`{"title":"a"} x`), jsonCT, 400, codeInvalidJSON, ""},
		{"a stray brace after the object is invalid_json", strings.NewReader(`{"title":"a"}}`), jsonCT, 400, codeInvalidJSON, ""},
		{"a title that is a number is invalid_request naming it", strings.NewReader(`{"title":5}`), jsonCT, 400, codeInvalidRequest, "title"},
		{"a description that is an object is invalid_request naming it", strings.NewReader(`{"title":"a","description":{}}`), jsonCT, 400, codeInvalidRequest, "description"},
		{"an array instead of an object is invalid_request", strings.NewReader(`["a"]`), jsonCT, 400, codeInvalidRequest, "object"},
		{"an unknown field is invalid_request naming it", strings.NewReader(`{"title":"a","topic":"b"}`), jsonCT, 400, codeInvalidRequest, "topic"},
		{"a body over 64 KiB is body_too_large", strings.NewReader(big), jsonCT, 413, codeBodyTooLarge, ""},
		{"a chunked body over 64 KiB is body_too_large", io.MultiReader(strings.NewReader(big)), jsonCT, 413, codeBodyTooLarge, ""},
		{"a chunked body with 64 KiB of trailing spaces is body_too_large", io.MultiReader(strings.NewReader(`{"title":"a"}` + strings.Repeat(" ", maxBodyBytes))), jsonCT, 413, codeBodyTooLarge, ""},
		{"a text/plain body is unsupported_media_type", strings.NewReader(`{"title":"a"}`), http.Header{"Content-Type": {"text/plain"}}, 415, codeUnsupportedMediaType, ""},
		{"a body without a Content-Type is unsupported_media_type", strings.NewReader(`{"title":"a"}`), http.Header{"Content-Type": nil}, 415, codeUnsupportedMediaType, ""},
		{"JSON in latin-1 is unsupported_media_type", strings.NewReader(`{"title":"a"}`), http.Header{"Content-Type": {"application/json; charset=iso-8859-1"}}, 415, codeUnsupportedMediaType, ""},
		{"an empty title fails validation naming it", strings.NewReader(`{"title":"  "}`), jsonCT, 400, codeValidationFailed, "title"},
		{"a title of 121 characters fails validation naming it", strings.NewReader(`{"title":"` + strings.Repeat("a", 121) + `"}`), jsonCT, 400, codeValidationFailed, "title"},
		{"a title of two lines fails validation naming it", strings.NewReader(`{"title":"a\nb"}`), jsonCT, 400, codeValidationFailed, "title"},
		{"a description of 2001 characters fails validation naming it", strings.NewReader(`{"title":"a","description":"` + strings.Repeat("a", 2001) + `"}`), jsonCT, 400, codeValidationFailed, "description"},
		{"a loudest_n of -2 fails validation naming it", strings.NewReader(`{"title":"a","loudest_n":-2}`), jsonCT, 400, codeValidationFailed, "loudest_n"},
		{"a loudest_n of 1001 fails validation naming it", strings.NewReader(`{"title":"a","loudest_n":1001}`), jsonCT, 400, codeValidationFailed, "loudest_n"},
		{"a loudest_n that is not a number is refused", strings.NewReader(`{"title":"a","loudest_n":"two"}`), jsonCT, 400, codeInvalidRequest, "loudest_n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := testRequest(t, e.srv, http.MethodPost, "/api/v1/rooms", tt.body, with(tt.header, nil))
			msg := wantError(t, resp, body, tt.status, tt.code)
			if !strings.Contains(msg, tt.mention) {
				t.Errorf("message %q does not mention %q", msg, tt.mention)
			}
			e.mustStillServe(t, token)
		})
	}

	t.Run("the same checks guard the sign-in", func(t *testing.T) {
		resp, body := testRequest(t, e.srv, http.MethodPost, "/api/v1/auth/dev", strings.NewReader(`{"display_name":"Ann","admin":true}`), nil)
		wantError(t, resp, body, 400, codeInvalidRequest)
		resp, body = testRequest(t, e.srv, http.MethodPost, "/api/v1/auth/dev", strings.NewReader(`{"display_name":["Ann"]}`), nil)
		wantError(t, resp, body, 400, codeInvalidRequest)
		resp, body = testRequest(t, e.srv, http.MethodPost, "/api/v1/auth/dev", strings.NewReader(`{"display_name":"Ann"}`), http.Header{"Content-Type": {"text/html"}})
		wantError(t, resp, body, 415, codeUnsupportedMediaType)
		e.signIn(t, "Still works")
	})

	t.Run("a body of exactly 64 KiB is read", func(t *testing.T) {
		b := `{"title":"a","description":"` + strings.Repeat("a", 2000) + `"}`
		b += strings.Repeat(" ", maxBodyBytes-len(b))
		resp, body := testRequest(t, e.srv, http.MethodPost, "/api/v1/rooms", strings.NewReader(b), with(jsonCT, nil))
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("status %d: %s", resp.StatusCode, body)
		}
	})

	t.Run("JSON in UTF-8, said explicitly, is accepted", func(t *testing.T) {
		resp, body := testRequest(t, e.srv, http.MethodPost, "/api/v1/rooms", strings.NewReader(`{"title":"a"}`),
			with(http.Header{"Content-Type": {"application/json; charset=UTF-8"}}, nil))
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("status %d: %s", resp.StatusCode, body)
		}
	})
}

type listOut struct {
	Rooms      []roomOut `json:"rooms"`
	NextCursor string    `json:"next_cursor"`
}

func (e *testEnv) list(t *testing.T, token, query string) (listOut, string) {
	t.Helper()
	resp, body := e.do(t, http.MethodGet, "/api/v1/rooms"+query, token, "")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("list %s: %d %s", query, resp.StatusCode, body)
	}
	var out listOut
	decodeStrictly(t, body, &out, false)
	return out, body
}

func TestListRoomsPagesNewestFirst(t *testing.T) {
	e := newTestEnv(t, nil)
	token, _ := e.signIn(t, "Ann")

	out, body := e.list(t, token, "")
	if out.Rooms == nil || len(out.Rooms) != 0 || strings.Contains(body, "next_cursor") {
		t.Fatalf("no rooms: want an empty array and no cursor, got %s", body)
	}

	var made []rooms.RoomID
	for _, title := range []string{"r0", "r1", "r2", "r3", "r4", "r5"} {
		made = append(made, e.createRoom(t, token, title).ID)
	}
	// An ended room is not listed.
	if resp, body := e.do(t, http.MethodPost, "/api/v1/rooms/"+string(made[2])+"/end", token, ""); resp.StatusCode != http.StatusOK {
		t.Fatalf("end: %d %s", resp.StatusCode, body)
	}
	want := []rooms.RoomID{made[5], made[4], made[3], made[1], made[0]}

	var got []rooms.RoomID
	var pages []int
	query := "?limit=2"
	for {
		out, body := e.list(t, token, query)
		pages = append(pages, len(out.Rooms))
		for _, r := range out.Rooms {
			if !r.Live || r.EndedAt != nil {
				t.Errorf("listed room %+v is not live", r)
			}
			got = append(got, r.ID)
		}
		if out.NextCursor == "" {
			if strings.Contains(body, "next_cursor") {
				t.Errorf("last page carries next_cursor: %s", body)
			}
			break
		}
		if len(pages) > len(want) {
			t.Fatal("pagination does not end")
		}
		query = "?limit=2&cursor=" + out.NextCursor
	}
	if strings.Join(ids(got), ",") != strings.Join(ids(want), ",") {
		t.Errorf("pages gave %v, want %v", got, want)
	}
	if len(pages) != 3 || pages[0] != 2 || pages[1] != 2 || pages[2] != 1 {
		t.Errorf("page sizes %v, want [2 2 1]", pages)
	}

	// Without a limit, one page holds them all.
	out, _ = e.list(t, token, "")
	if len(out.Rooms) != len(want) || out.NextCursor != "" {
		t.Errorf("default page: %d rooms, cursor %q", len(out.Rooms), out.NextCursor)
	}
}

func TestListRoomsDefaultsToFiftyAndAllowsAHundred(t *testing.T) {
	e := newTestEnv(t, nil)
	token, _ := e.signIn(t, "Ann")
	for i := range 101 {
		e.createRoom(t, token, "room "+string(rune('a'+i%26)))
	}
	out, _ := e.list(t, token, "")
	if len(out.Rooms) != 50 || out.NextCursor == "" {
		t.Errorf("default page: %d rooms, cursor %q; want 50 and a cursor", len(out.Rooms), out.NextCursor)
	}
	out, _ = e.list(t, token, "?limit=100")
	if len(out.Rooms) != 100 || out.NextCursor == "" {
		t.Errorf("limit=100: %d rooms, cursor %q; want 100 and a cursor", len(out.Rooms), out.NextCursor)
	}
	out, _ = e.list(t, token, "?limit=1")
	if len(out.Rooms) != 1 {
		t.Errorf("limit=1: %d rooms", len(out.Rooms))
	}
}

func ids(list []rooms.RoomID) []string {
	out := make([]string, len(list))
	for i, id := range list {
		out[i] = string(id)
	}
	return out
}

func TestListRoomsRefusesBadQueries(t *testing.T) {
	e := newTestEnv(t, nil)
	token, _ := e.signIn(t, "Ann")
	e.createRoom(t, token, "One")
	tests := []struct {
		name    string
		query   string
		status  int
		code    string
		mention string
	}{
		{"a word as limit is invalid_request", "?limit=ten", 400, codeInvalidRequest, "limit"},
		{"a fraction as limit is invalid_request", "?limit=1.5", 400, codeInvalidRequest, "limit"},
		{"an empty limit is invalid_request", "?limit=", 400, codeInvalidRequest, "limit"},
		{"a limit with spaces is invalid_request", "?limit=%205", 400, codeInvalidRequest, "limit"},
		{"a limit of 0 fails validation", "?limit=0", 400, codeValidationFailed, "limit"},
		{"a negative limit fails validation", "?limit=-3", 400, codeValidationFailed, "limit"},
		{"a limit of 101 fails validation", "?limit=101", 400, codeValidationFailed, "limit"},
		{"a limit beyond any integer fails validation", "?limit=99999999999999999999999", 400, codeValidationFailed, "limit"},
		{"a cursor we did not issue fails validation", "?cursor=garbage", 400, codeValidationFailed, "cursor"},
		{"a cursor of valid base64 but no cursor fails validation", "?cursor=aGVsbG8", 400, codeValidationFailed, "cursor"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := e.do(t, http.MethodGet, "/api/v1/rooms"+tt.query, token, "")
			msg := wantError(t, resp, body, tt.status, tt.code)
			if !strings.Contains(msg, tt.mention) {
				t.Errorf("message %q does not mention %q", msg, tt.mention)
			}
			if out, _ := e.list(t, token, "?limit=5"); len(out.Rooms) == 0 {
				t.Error("the good request found no rooms")
			}
		})
	}
}

// participantOut is a participant as a client reads it, with every
// documented field.
type participantOut struct {
	UserID        rooms.UserID `json:"user_id"`
	DisplayName   string       `json:"display_name"`
	Role          rooms.Role   `json:"role"`
	JoinedAt      time.Time    `json:"joined_at"`
	Muted         bool         `json:"muted"`
	Invited       bool         `json:"invited"`
	HandRaisedSeq uint64       `json:"hand_raised_seq"`
}

type roomDetailOut struct {
	roomOut
	HandsEnabled bool             `json:"hands_enabled"`
	StageCap     int              `json:"stage_cap"`
	Participants []participantOut `json:"participants"`
	ChatEnabled  bool             `json:"chat_enabled"`
}

func TestGetRoomWithParticipants(t *testing.T) {
	e := newTestEnv(t, nil)
	ann, annID := e.signIn(t, "Ann")
	_, bobID := e.signIn(t, "Bob")
	room := e.createRoom(t, ann, "Hiring")

	// People join over signaling; here, through the service directly.
	ctx := context.Background()
	for _, id := range []rooms.UserID{annID, bobID} {
		if _, err := e.svc.Join(ctx, room.ID, id, rooms.NewSessionID()); err != nil {
			t.Fatalf("join %s: %v", id, err)
		}
	}

	resp, body := e.do(t, http.MethodGet, "/api/v1/rooms/"+string(room.ID), ann, "")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	var got roomDetailOut
	decodeStrictly(t, body, &got, true)
	if got.ID != room.ID || got.Title != "Hiring" || !got.Live || got.SpeakerCount != 1 || got.ListenerCount != 1 {
		t.Errorf("room = %+v", got.roomOut)
	}
	if !got.HandsEnabled || got.StageCap != rooms.DefaultLimits().StageCap {
		t.Errorf("hands_enabled = %v, stage_cap = %d; want true and the default cap", got.HandsEnabled, got.StageCap)
	}
	for _, field := range []string{`"muted":false`, `"invited":false`, `"hand_raised_seq":0`} {
		if strings.Count(body, field) != 2 {
			t.Errorf("want %s on both participants: %s", field, body)
		}
	}
	if len(got.Participants) != 2 {
		t.Fatalf("participants = %+v", got.Participants)
	}
	if p := got.Participants[0]; p.UserID != annID || p.DisplayName != "Ann" || p.Role != rooms.RoleModerator || p.JoinedAt.IsZero() {
		t.Errorf("first participant = %+v, want Ann the moderator", p)
	}
	if p := got.Participants[1]; p.UserID != bobID || p.DisplayName != "Bob" || p.Role != rooms.RoleListener {
		t.Errorf("second participant = %+v, want Bob the listener", p)
	}
	if strings.Contains(body, "ses_") || strings.Contains(body, "session") {
		t.Errorf("the session leaked: %s", body)
	}

	// An empty room lists nobody as [], not null.
	other := e.createRoom(t, ann, "Empty")
	_, body = e.do(t, http.MethodGet, "/api/v1/rooms/"+string(other.ID), ann, "")
	if !strings.Contains(body, `"participants":[]`) {
		t.Errorf("empty room: %s", body)
	}
}

func TestGetEndedRoom(t *testing.T) {
	e := newTestEnv(t, nil)
	ann, annID := e.signIn(t, "Ann")
	room := e.createRoom(t, ann, "Short")
	if _, err := e.svc.Join(context.Background(), room.ID, annID, rooms.NewSessionID()); err != nil {
		t.Fatal(err)
	}
	e.do(t, http.MethodPost, "/api/v1/rooms/"+string(room.ID)+"/end", ann, "")

	resp, body := e.do(t, http.MethodGet, "/api/v1/rooms/"+string(room.ID), ann, "")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	var got roomDetailOut
	decodeStrictly(t, body, &got, true)
	if got.Live || got.EndedAt == nil || got.SpeakerCount != 0 || got.ListenerCount != 0 || len(got.Participants) != 0 ||
		got.HandsEnabled || got.StageCap != rooms.DefaultLimits().StageCap {
		t.Errorf("ended room = %s", body)
	}
	if !strings.Contains(body, `"participants":[]`) {
		t.Errorf("ended room: participants is not []: %s", body)
	}
}

func TestUnknownAndMalformedRoomIDs(t *testing.T) {
	e := newTestEnv(t, nil)
	token, _ := e.signIn(t, "Ann")
	for _, id := range []string{
		string(rooms.NewRoomID()), // well-formed, unknown
		"rm_short",
		string(rooms.NewUserID()),
		"RM_AAAAAAAAAAAAAAAAAAAAAAAAAA",
		"rm_" + strings.Repeat("1", 26), // 1 is not base32
		"%F0%9F%8E%A4",
		strings.Repeat("x", 500),
	} {
		for _, req := range []struct{ method, suffix string }{{http.MethodGet, ""}, {http.MethodPost, "/end"}} {
			t.Run(req.method+" of room "+truncateName(id)+" is room_not_found", func(t *testing.T) {
				resp, body := e.do(t, req.method, "/api/v1/rooms/"+id+req.suffix, token, "")
				wantError(t, resp, body, http.StatusNotFound, codeRoomNotFound)
				e.mustStillServe(t, token)
			})
		}
	}
}

func truncateName(s string) string {
	if len(s) > 30 {
		return s[:30]
	}
	return s
}

func TestEndRoom(t *testing.T) {
	e := newTestEnv(t, nil)
	ann, annID := e.signIn(t, "Ann")
	bob, bobID := e.signIn(t, "Bob")
	room := e.createRoom(t, ann, "Ending")
	ctx := context.Background()
	for _, id := range []rooms.UserID{annID, bobID} {
		if _, err := e.svc.Join(ctx, room.ID, id, rooms.NewSessionID()); err != nil {
			t.Fatal(err)
		}
	}
	// The bus delivers on its own goroutine: wait for events, never peek.
	events := make(chan rooms.Event, 16)
	unsubscribe := e.svc.Subscribe(room.ID, func(ev rooms.Event) { events <- ev })
	defer unsubscribe()
	path := "/api/v1/rooms/" + string(room.ID) + "/end"

	t.Run("a listener in it may not end it", func(t *testing.T) {
		resp, body := e.do(t, http.MethodPost, path, bob, "")
		wantError(t, resp, body, http.StatusForbidden, codeForbidden)
		_, body = e.do(t, http.MethodGet, "/api/v1/rooms/"+string(room.ID), bob, "")
		if !strings.Contains(body, `"live":true`) {
			t.Errorf("the room ended anyway: %s", body)
		}
	})

	t.Run("its creator ends it", func(t *testing.T) {
		resp, body := e.do(t, http.MethodPost, path, ann, "")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d: %s", resp.StatusCode, body)
		}
		var got roomOut
		decodeStrictly(t, body, &got, true)
		if got.ID != room.ID || got.Live || got.EndedAt == nil || got.EndedAt.Before(got.CreatedAt) ||
			got.SpeakerCount != 0 || got.ListenerCount != 0 || got.CreatedBy.DisplayName != "Ann" {
			t.Errorf("ended room = %s", body)
		}
		select {
		case ev := <-events:
			if ev.Type != rooms.EventRoomEnded {
				t.Errorf("event = %+v, want room_ended", ev)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("no room_ended event")
		}
	})

	t.Run("ending it twice is room_ended", func(t *testing.T) {
		resp, body := e.do(t, http.MethodPost, path, ann, "")
		wantError(t, resp, body, http.StatusConflict, codeRoomEnded)
		select {
		case ev := <-events:
			t.Errorf("a second event: %+v", ev)
		default:
		}
		e.mustStillServe(t, ann)
	})

	t.Run("a body sent with end is ignored", func(t *testing.T) {
		r := e.createRoom(t, ann, "Another")
		resp, body := e.do(t, http.MethodPost, "/api/v1/rooms/"+string(r.ID)+"/end", ann, `{"reason":"x"}`)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d: %s", resp.StatusCode, body)
		}
	})
}

func TestConcurrentRequests(t *testing.T) {
	e := newTestEnv(t, nil)
	token, _ := e.signIn(t, "Ann")
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			body := `{"title":"room ` + string(rune('a'+i)) + `"}`
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, e.srv.URL+"/api/v1/rooms", strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+token)
			resp, err := e.srv.Client().Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			defer resp.Body.Close()
			if resp.StatusCode != http.StatusCreated {
				t.Errorf("status %d", resp.StatusCode)
			}
		})
	}
	wg.Wait()
	out, _ := e.list(t, token, "")
	seen := map[rooms.RoomID]bool{}
	for _, r := range out.Rooms {
		seen[r.ID] = true
	}
	if len(seen) != 16 {
		t.Errorf("%d distinct rooms, want 16", len(seen))
	}
}
