package api

import (
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/parley-audio/parley/rooms"
)

func TestStageRoutesOnEndedUnknownAndUnsignedRooms(t *testing.T) {
	e := newTestEnv(t, nil)
	f := newStageFixture(t, e)
	if resp, body := e.do(t, http.MethodPost, f.path("/end"), f.ann.token, ""); resp.StatusCode != http.StatusOK {
		t.Fatalf("end: %d %s", resp.StatusCode, body)
	}
	live := newStageFixture(t, e)
	unknown := &stageFixture{e: e, room: rooms.NewRoomID()}
	malformed := &stageFixture{e: e, room: "rm_nope"}

	for _, rt := range stageRoutes {
		t.Run(rt.method+" "+rt.path+" on an ended room is room_ended", func(t *testing.T) {
			path, body := stagePath(rt, f, f.bob.id)
			resp, rbody := e.do(t, rt.method, path, f.ann.token, body)
			wantError(t, resp, rbody, http.StatusConflict, codeRoomEnded)
		})
		t.Run(rt.method+" "+rt.path+" on an unknown room is room_not_found", func(t *testing.T) {
			for _, g := range []*stageFixture{unknown, malformed} {
				path, body := stagePath(rt, g, f.bob.id)
				resp, rbody := e.do(t, rt.method, path, f.ann.token, body)
				wantError(t, resp, rbody, http.StatusNotFound, codeRoomNotFound)
			}
		})
		t.Run(rt.method+" "+rt.path+" without a token is unauthorized", func(t *testing.T) {
			path, body := stagePath(rt, live, live.bob.id)
			resp, rbody := e.do(t, rt.method, path, "", body)
			wantError(t, resp, rbody, http.StatusUnauthorized, codeUnauthorized)
		})
	}
	t.Run("the hands of an ended room are room_ended", func(t *testing.T) {
		resp, body := e.do(t, http.MethodGet, f.path("/hands"), f.ann.token, "")
		wantError(t, resp, body, http.StatusConflict, codeRoomEnded)
	})
	t.Run("the hands of an unknown room are room_not_found", func(t *testing.T) {
		for _, g := range []*stageFixture{unknown, malformed} {
			resp, body := e.do(t, http.MethodGet, g.path("/hands"), f.ann.token, "")
			wantError(t, resp, body, http.StatusNotFound, codeRoomNotFound)
		}
	})
	t.Run("the hands need a token", func(t *testing.T) {
		resp, body := e.do(t, http.MethodGet, live.path("/hands"), "", "")
		wantError(t, resp, body, http.StatusUnauthorized, codeUnauthorized)
	})
	// Nothing the refused requests did reached the live room.
	if d := live.detail(t); len(d.Participants) != 3 || !d.HandsEnabled || d.SpeakerCount != 1 {
		t.Errorf("the live room changed: %+v", d)
	}
}

func TestStageUserIDsThatAreNotUsers(t *testing.T) {
	e := newTestEnv(t, nil)
	f := newStageFixture(t, e)
	for _, id := range []string{
		string(rooms.NewUserID()), // well-formed, never signed in
		string(f.room),            // a room's ID
		"usr_short",
		"USR_" + strings.Repeat("A", 26),
		"usr_" + strings.Repeat("1", 26),
		"%3Cscript%3Ealert(1)%3C%2Fscript%3E",
		"%F0%9F%8E%A4",
		strings.Repeat("x", 500),
	} {
		for _, action := range []string{"invite", "move-to-audience", "make-moderator", "mute", "unmute", "remove"} {
			t.Run(action+" of "+truncateName(id)+" is not_in_room", func(t *testing.T) {
				resp, body := e.do(t, http.MethodPost, f.path("/participants/"+id+"/"+action), f.ann.token, "")
				msg := wantError(t, resp, body, http.StatusConflict, codeNotInRoom)
				if strings.Contains(msg, "script") || strings.Contains(msg, "xxxx") || strings.Contains(msg, "usr_") {
					t.Errorf("the message echoes the path: %q", msg)
				}
			})
		}
	}
	if d := f.detail(t); len(d.Participants) != 3 {
		t.Errorf("participants = %+v", d.Participants)
	}
}

func TestStageBadBodies(t *testing.T) {
	e := newTestEnv(t, nil)
	textPlain := http.Header{"Content-Type": {"text/plain"}}
	tests := []struct {
		name    string
		method  string
		path    string
		body    string
		header  http.Header
		status  int
		code    string
		mention string
	}{
		{"enabled as a string is invalid_request naming it", "PUT", "/hands", `{"enabled":"no"}`, nil, 400, codeInvalidRequest, "enabled"},
		{"enabled as a number is invalid_request naming it", "PUT", "/hands", `{"enabled":0}`, nil, 400, codeInvalidRequest, "enabled"},
		{"an unknown field beside enabled is invalid_request naming it", "PUT", "/hands", `{"enabled":false,"for":"all"}`, nil, 400, codeInvalidRequest, "for"},
		{"a missing enabled fails validation naming it", "PUT", "/hands", `{}`, nil, 400, codeValidationFailed, "enabled"},
		{"a null enabled fails validation naming it", "PUT", "/hands", `{"enabled":null}`, nil, 400, codeValidationFailed, "enabled"},
		{"no body to set hands is invalid_json", "PUT", "/hands", ``, nil, 400, codeInvalidJSON, ""},
		{"a bare boolean to set hands is invalid_request", "PUT", "/hands", `false`, nil, 400, codeInvalidRequest, "object"},
		{"hands in text/plain is unsupported_media_type", "PUT", "/hands", `{"enabled":false}`, textPlain, 415, codeUnsupportedMediaType, ""},
		{"block as a string is invalid_request naming it", "POST", "/participants/{cat}/remove", `{"block":"yes"}`, nil, 400, codeInvalidRequest, "block"},
		{"an unknown field on remove is invalid_request naming it", "POST", "/participants/{cat}/remove", `{"ban":true}`, nil, 400, codeInvalidRequest, "ban"},
		{"malformed JSON on remove is invalid_json", "POST", "/participants/{cat}/remove", `{"block":`, nil, 400, codeInvalidJSON, ""},
		{"a field on an action that takes none is invalid_request naming it", "POST", "/hand", `{"now":true}`, nil, 400, codeInvalidRequest, "now"},
		{"a field on invite is invalid_request naming it", "POST", "/participants/{bob}/invite", `{"user_id":"usr_x"}`, nil, 400, codeInvalidRequest, "user_id"},
		{"a body in text/plain on an action is unsupported_media_type", "POST", "/mute-all", `{}`, textPlain, 415, codeUnsupportedMediaType, ""},
		{"two objects on an action is invalid_json", "POST", "/step-down", `{}{}`, nil, 400, codeInvalidJSON, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newStageFixture(t, e)
			f.onStage(t, f.cat)
			f.must(t, rooms.ActRaiseHand, f.bob, person{})
			before := f.detail(t)
			h := bearer(f.ann.token)
			for k, v := range tt.header {
				h[k] = v
			}
			var body io.Reader
			if tt.body != "" {
				body = strings.NewReader(tt.body)
			}
			resp, rbody := testRequest(t, e.srv, tt.method, f.path(tt.path), body, h)
			msg := wantError(t, resp, rbody, tt.status, tt.code)
			if !strings.Contains(msg, tt.mention) {
				t.Errorf("message %q does not mention %q", msg, tt.mention)
			}
			if after := f.detail(t); !reflect.DeepEqual(before, after) {
				t.Errorf("the refusal changed the room:\nbefore %+v\nafter  %+v", before, after)
			}
		})
	}
}

// TestStageErrorsMap checks writeError's row for every refusal of the
// stage, wrapped as rooms wraps them, including ErrBlocked, which no REST
// route returns today.
func TestStageErrorsMap(t *testing.T) {
	tests := []struct {
		err    error
		status int
		code   string
	}{
		{rooms.ErrForbidden, 403, codeForbidden},
		{rooms.ErrBlocked, 403, codeBlocked},
		{rooms.ErrNotParticipant, 409, codeNotInRoom},
		{rooms.ErrStageFull, 409, codeStageFull},
		{rooms.ErrHandsDisabled, 409, codeHandsDisabled},
		{rooms.ErrNotInvited, 409, codeNotInvited},
		{rooms.ErrAlreadyOnStage, 409, codeAlreadyOnStage},
		{rooms.ErrNotOnStage, 409, codeNotOnStage},
		{rooms.ErrRoomEnded, 409, codeRoomEnded},
		{rooms.ErrRoomNotFound, 404, codeRoomNotFound},
		{&rooms.ValidationError{Field: "enabled", Reason: "is required"}, 400, codeValidationFailed},
	}
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			err := fmt.Errorf("room rm_x: invite: usr_<b>: %w", tt.err)
			status, code, msg := classify(err)
			if status != tt.status || code != tt.code || msg == "" {
				t.Errorf("classify = %d %q %q, want %d %q", status, code, msg, tt.status, tt.code)
			}
			if strings.Contains(msg, "<b>") {
				t.Errorf("the message echoes the error's text: %q", msg)
			}
		})
	}
}
