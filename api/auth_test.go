package api

import (
	"context"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/parley-audio/parley/rooms"
)

var (
	userIDPattern = regexp.MustCompile(`^usr_[a-z2-7]{26}$`)
	roomIDPattern = regexp.MustCompile(`^rm_[a-z2-7]{26}$`)
)

func TestDevSignIn(t *testing.T) {
	e := newTestEnv(t, nil)
	resp, body := e.do(t, http.MethodPost, "/api/v1/auth/dev", "", `{"display_name":"  Ann  "}`)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	var out struct {
		Token     string    `json:"token"`
		ExpiresAt time.Time `json:"expires_at"`
		Member    struct {
			ID          rooms.UserID `json:"id"`
			DisplayName string       `json:"display_name"`
			CreatedAt   time.Time    `json:"created_at"`
		} `json:"member"`
	}
	decodeStrictly(t, body, &out, true)
	if !userIDPattern.MatchString(string(out.Member.ID)) {
		t.Errorf("member id %q", out.Member.ID)
	}
	if out.Member.DisplayName != "Ann" {
		t.Errorf("display_name %q, want the trimmed name", out.Member.DisplayName)
	}
	if out.Member.CreatedAt.IsZero() || !strings.Contains(body, `"expires_at":"2026-11-21T22:00:00Z"`) {
		t.Errorf("times in %s", body)
	}
	p, err := e.tokens.Verify(out.Token)
	if err != nil {
		t.Fatalf("issued token does not verify: %v", err)
	}
	if p.UserID != out.Member.ID || !p.ExpiresAt.Equal(out.ExpiresAt) {
		t.Errorf("token says %+v, response says %s", p, body)
	}
	// The member really exists, in the store.
	if m, err := e.svc.Member(context.Background(), out.Member.ID); err != nil || m.DisplayName != "Ann" {
		t.Errorf("stored member = %+v, %v", m, err)
	}
}

func TestDevSignInRefusesBadNames(t *testing.T) {
	e := newTestEnv(t, nil)
	tests := []struct {
		name string
		body string
	}{
		{"a missing display name", `{}`},
		{"a blank display name", `{"display_name":"   "}`},
		{"a display name of 65 characters", `{"display_name":"` + strings.Repeat("é", 65) + `"}`},
		{"a display name with a newline", `{"display_name":"Ann\nBob"}`},
		{"a display name with a NUL", `{"display_name":"Ann\u0000"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name+" fails validation", func(t *testing.T) {
			resp, body := e.do(t, http.MethodPost, "/api/v1/auth/dev", "", tt.body)
			msg := wantError(t, resp, body, http.StatusBadRequest, codeValidationFailed)
			if !strings.Contains(msg, "display_name") {
				t.Errorf("message %q does not name the field", msg)
			}
			e.signIn(t, "Still works")
		})
	}
	// 64 characters is allowed.
	e.signIn(t, strings.Repeat("é", 64))
}

func TestDevSignInOff(t *testing.T) {
	e := newTestEnv(t, func(p *Params) { p.DevSignIn = false })
	for _, method := range []string{http.MethodPost, http.MethodGet} {
		resp, body := e.do(t, method, "/api/v1/auth/dev", "", `{"display_name":"Ann"}`)
		wantError(t, resp, body, http.StatusNotFound, codeNotFound)
	}
}

func TestMe(t *testing.T) {
	e := newTestEnv(t, nil)
	token, id := e.signIn(t, "Ann")
	resp, body := e.do(t, http.MethodGet, "/api/v1/me", token, "")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	var m struct {
		ID          rooms.UserID `json:"id"`
		DisplayName string       `json:"display_name"`
		CreatedAt   time.Time    `json:"created_at"`
	}
	decodeStrictly(t, body, &m, true)
	if m.ID != id || m.DisplayName != "Ann" || m.CreatedAt.IsZero() {
		t.Errorf("me = %+v, want %s Ann", m, id)
	}
}

func TestMeWithATokenForAMemberWhoIsGone(t *testing.T) {
	e := newTestEnv(t, nil)
	// A genuine token, for a member the store has never heard of (as after
	// the database was wiped).
	token, _, err := e.tokens.Issue(rooms.Member{ID: rooms.NewUserID(), DisplayName: "Ghost"})
	if err != nil {
		t.Fatal(err)
	}
	for _, req := range []struct{ method, path, body string }{
		{http.MethodGet, "/api/v1/me", ""},
		{http.MethodPost, "/api/v1/rooms", `{"title":"Haunted"}`},
	} {
		resp, body := e.do(t, req.method, req.path, token, req.body)
		wantError(t, resp, body, http.StatusUnauthorized, codeUnauthorized)
	}
	good, _ := e.signIn(t, "Ann")
	e.mustStillServe(t, good)
}

func TestAuthentication(t *testing.T) {
	e := newTestEnv(t, nil)
	good, _ := e.signIn(t, "Ann")
	otherTokens, err := NewTokens(otherSecret, time.Hour, e.clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	_, id := e.signIn(t, "Bob")
	foreign, _, err := otherTokens.Issue(rooms.Member{ID: id, DisplayName: "Bob"})
	if err != nil {
		t.Fatal(err)
	}
	now := e.clock.Now().Unix()
	none := signed(t, map[string]any{"alg": "none", "typ": "JWT"},
		map[string]any{"sub": string(id), "iss": "parley", "iat": now, "exp": now + 3600}, nil)

	tests := []struct {
		name   string
		header http.Header
		code   string
	}{
		{"no Authorization header is unauthorized", nil, codeUnauthorized},
		{"an empty Authorization header is unauthorized", http.Header{"Authorization": {""}}, codeUnauthorized},
		{"a Basic credential is unauthorized", http.Header{"Authorization": {"Basic YW5uOnB3"}}, codeUnauthorized},
		{"Bearer with no token is unauthorized", http.Header{"Authorization": {"Bearer "}}, codeUnauthorized},
		{"the token alone, without the scheme, is unauthorized", http.Header{"Authorization": {good}}, codeUnauthorized},
		{"a malformed token is unauthorized", bearer("not.a.jwt"), codeUnauthorized},
		{"a token signed with another secret is unauthorized", bearer(foreign), codeUnauthorized},
		{"an alg none token is unauthorized", bearer(none), codeUnauthorized},
		{"a tampered token is unauthorized", bearer(tamper(good)), codeUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := testRequest(t, e.srv, http.MethodGet, "/api/v1/me", nil, tt.header)
			wantError(t, resp, body, http.StatusUnauthorized, tt.code)
			if resp.Header.Get("WWW-Authenticate") == "" {
				t.Error("401 without WWW-Authenticate")
			}
			e.mustStillServe(t, good)
		})
	}

	t.Run("the scheme is case-insensitive", func(t *testing.T) {
		resp, body := testRequest(t, e.srv, http.MethodGet, "/api/v1/me", nil, http.Header{"Authorization": {"bearer " + good}})
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d: %s", resp.StatusCode, body)
		}
	})
}

func TestExpiredTokenIsTokenExpired(t *testing.T) {
	e := newTestEnv(t, nil)
	token, _ := e.signIn(t, "Ann")
	e.clock.Advance(testTTL - time.Second)
	if resp, body := e.do(t, http.MethodGet, "/api/v1/me", token, ""); resp.StatusCode != http.StatusOK {
		t.Fatalf("a second before expiry: %d %s", resp.StatusCode, body)
	}
	e.clock.Advance(time.Second)
	resp, body := e.do(t, http.MethodGet, "/api/v1/me", token, "")
	wantError(t, resp, body, http.StatusUnauthorized, codeTokenExpired)

	fresh, _ := e.signIn(t, "Ann again")
	e.mustStillServe(t, fresh)
}

func TestEveryRoomEndpointNeedsAToken(t *testing.T) {
	e := newTestEnv(t, nil)
	token, _ := e.signIn(t, "Ann")
	room := e.createRoom(t, token, "Private")
	for _, req := range []struct{ method, path, body string }{
		{http.MethodGet, "/api/v1/me", ""},
		{http.MethodPost, "/api/v1/rooms", `{"title":"x"}`},
		{http.MethodGet, "/api/v1/rooms", ""},
		{http.MethodGet, "/api/v1/rooms/" + string(room.ID), ""},
		{http.MethodPost, "/api/v1/rooms/" + string(room.ID) + "/end", ""},
	} {
		t.Run(req.method+" "+req.path+" without a token is unauthorized", func(t *testing.T) {
			resp, body := e.do(t, req.method, req.path, "", req.body)
			wantError(t, resp, body, http.StatusUnauthorized, codeUnauthorized)
		})
	}
	// Nothing was created or ended.
	_, body := e.do(t, http.MethodGet, "/api/v1/rooms", token, "")
	if strings.Count(body, `"id":"rm_`) != 1 || !strings.Contains(body, `"live":true`) {
		t.Errorf("rooms after refused requests: %s", body)
	}
}

// tamper changes the first character of a token's signature.
func tamper(token string) string {
	i := strings.LastIndexByte(token, '.') + 1
	c := byte('A')
	if token[i] == c {
		c = 'B'
	}
	return token[:i] + string(c) + token[i+1:]
}
