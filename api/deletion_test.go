package api

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/parley-audio/parley/members"
	"github.com/parley-audio/parley/rooms"
)

const me = "/api/v1/me"

// deleterFunc is an AccountDeleter made of a function.
type deleterFunc func(ctx context.Context, req members.DeleteRequest) (members.DeleteResult, error)

func (f deleterFunc) DeleteAccount(ctx context.Context, req members.DeleteRequest) (members.DeleteResult, error) {
	return f(ctx, req)
}

// deletionConformance is a conformance check over an env; with deleter
// set, the env deletes with what it returns (built once the env is).
func deletionConformance(t *testing.T, deleter func(e *testEnv) AccountDeleter) *conformance {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData(openapiJSON)
	if err != nil {
		t.Fatal(err)
	}
	var d AccountDeleter
	e := newTestEnvWith(t, envOptions{edit: func(p *Params) {
		if deleter != nil {
			p.Deletion = deleterFunc(func(ctx context.Context, req members.DeleteRequest) (members.DeleteResult, error) {
				return d.DeleteAccount(ctx, req)
			})
		}
	}})
	if deleter != nil {
		d = deleter(e)
	}
	return &conformance{doc: doc, e: e}
}

// Every kind of bad input to DELETE /api/v1/me is refused with its own
// answer and deletes nothing; the right password deletes, and afterwards
// every token of the account is refused and it cannot sign in.
func TestDeleteMeRefusesBadInputThenDeletes(t *testing.T) {
	c := deletionConformance(t, nil)
	e := c.e
	ann := e.signUp(t, "ann", "")
	del := func(token, body string) (*http.Response, string) {
		t.Helper()
		return c.do(t, http.MethodDelete, me, me, token, body)
	}
	for _, tt := range []struct {
		name, body string
		status     int
		code       string
	}{
		{"no body", "", 400, codeValidationFailed},
		{"an empty password", `{"password":""}`, 400, codeValidationFailed},
		{"a password too long to be anyone's", `{"password":"` + strings.Repeat("x", 1100) + `"}`, 400, codeValidationFailed},
		{"the wrong password", `{"password":"not my password at all"}`, 403, codeWrongPassword},
		{"an unknown field", `{"password":"` + testPassword + `","force":true}`, 400, codeInvalidRequest},
		{"a password that is not a string", `{"password":12}`, 400, codeInvalidRequest},
		{"broken JSON", `{"password":`, 400, codeInvalidJSON},
	} {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := del(ann.Token, tt.body)
			wantError(t, resp, body, tt.status, tt.code)
			if tt.code == codeValidationFailed && !strings.Contains(body, `"field":"password"`) {
				t.Errorf("validation error without the password field: %s", body)
			}
			e.mustStillServe(t, ann.Token)
		})
	}
	t.Run("no token", func(t *testing.T) {
		resp, body := del("", `{"password":"`+testPassword+`"}`)
		wantError(t, resp, body, 401, codeUnauthorized)
	})
	t.Run("not JSON", func(t *testing.T) {
		resp, body := testRequest(t, e.srv, http.MethodDelete, me, strings.NewReader(`password=x`),
			http.Header{"Authorization": {"Bearer " + ann.Token}, "Content-Type": {"application/x-www-form-urlencoded"}})
		wantError(t, resp, body, 415, codeUnsupportedMediaType)
	})

	// Still there, and still signs in, after every refusal.
	if a, err := e.people.Account(t.Context(), ann.Member.ID); err != nil || a.Status != members.StatusActive {
		t.Fatalf("after the refusals: %+v, %v", a, err)
	}
	second := e.signInAs(t, "ann")

	resp, body := del(ann.Token, `{"password":"`+testPassword+`"}`)
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("DELETE /api/v1/me = %d %s, want 204", resp.StatusCode, body)
	}
	for _, tok := range []string{ann.Token, second.Token} {
		resp, body := c.do(t, http.MethodGet, me, me, tok, "")
		wantError(t, resp, body, 401, codeAccountDeleted)
	}
	// Deleting again: the token is refused, the first deletion stands.
	resp, body = del(second.Token, `{"password":"`+testPassword+`"}`)
	wantError(t, resp, body, 401, codeAccountDeleted)
	resp, body = e.do(t, http.MethodPost, "/api/v1/auth/signin", "", `{"username":"ann","password":"`+testPassword+`"}`)
	wantError(t, resp, body, 401, codeInvalidCredentials)
	resp, body = e.do(t, http.MethodPost, "/api/v1/auth/refresh", "", `{"refresh_token":"`+second.RefreshToken+`"}`)
	wantError(t, resp, body, 401, codeRefreshInvalid)
	// The username is free again.
	bob := e.signUp(t, "bob", e.invite(t, e.signUpAdmin(t)).Code)
	_ = bob
}

// signUpAdmin makes an active account to give invites (ann's is gone)
// and returns its token.
func (e *testEnv) signUpAdmin(t *testing.T) string {
	t.Helper()
	a, err := e.accounts.CreateAdmin(t.Context(), members.SignUpRequest{Username: "root", Password: testPassword, DisplayName: "Root"})
	if err != nil {
		t.Fatal(err)
	}
	_ = a
	return e.signInAs(t, "root").Token
}

func TestDeleteMeIsRateLimitedLikeSignIn(t *testing.T) {
	c := deletionConformance(t, nil)
	e := c.e
	ann := e.signUp(t, "ann", "")
	wrong := `{"password":"not my password at all"}`
	limit := testAccountsConfig().SignInPerUser.N
	for i := range limit {
		resp, body := c.do(t, http.MethodDelete, me, me, ann.Token, wrong)
		if resp.StatusCode != http.StatusForbidden {
			t.Fatalf("attempt %d: %d %s, want 403", i+1, resp.StatusCode, body)
		}
	}
	resp, body := c.do(t, http.MethodDelete, me, me, ann.Token, `{"password":"`+testPassword+`"}`)
	wantError(t, resp, body, 429, codeRateLimited)
	if resp.Header.Get("Retry-After") == "" {
		t.Error("429 without Retry-After")
	}
	// The same budget as sign-in's: signing in is refused too.
	resp, body = e.do(t, http.MethodPost, "/api/v1/auth/signin", "", `{"username":"ann","password":"`+testPassword+`"}`)
	wantError(t, resp, body, 429, codeRateLimited)
	if a, _ := e.people.Account(t.Context(), ann.Member.ID); a.Status != members.StatusActive {
		t.Errorf("deleted while rate-limited: %+v", a)
	}
	// One attempt back a minute; the access token lives 15.
	e.clock.Advance(2 * time.Minute)
	resp, _ = c.do(t, http.MethodDelete, me, me, ann.Token, `{"password":"`+testPassword+`"}`)
	if resp.StatusCode != http.StatusNoContent {
		t.Errorf("after the wait: %d, want 204", resp.StatusCode)
	}
}

// A development account has no password: its token alone deletes it, and
// the token, which belongs to no session, is refused afterwards. It also
// leaves the room it was in.
func TestDeleteMeOfADevelopmentAccount(t *testing.T) {
	c := deletionConformance(t, nil)
	e := c.e
	host, _ := e.signIn(t, "Host")
	dev, devID := e.signIn(t, "Dev")
	room := e.createRoom(t, host, "Room")
	if _, err := e.svc.Join(t.Context(), room.ID, devID, rooms.NewSessionID()); err != nil {
		t.Fatal(err)
	}
	resp, body := c.do(t, http.MethodDelete, me, me, dev, "")
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("DELETE /api/v1/me = %d %s, want 204", resp.StatusCode, body)
	}
	resp, body = c.do(t, http.MethodGet, me, me, dev, "")
	wantError(t, resp, body, 401, codeAccountDeleted)
	resp, body = e.do(t, http.MethodPost, "/api/v1/rooms", dev, `{"title":"Still me"}`)
	wantError(t, resp, body, 401, codeAccountDeleted)
	ps, _, err := e.svc.Participants(t.Context(), room.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range ps {
		if p.UserID == devID {
			t.Error("the deleted member is still in the room")
		}
	}
	// The room they did not create goes on; a room created by the
	// deleted member would be shown as hosted by "Deleted member"
	// (cmd's acceptance test checks it end to end).
	e.mustStillServe(t, host)
}

// A store that fails half way: the account is deleted all the same (its
// token refused), the answer is 202, and the erasure is pending.
func TestDeleteMeAnswers202WhenErasureIsPending(t *testing.T) {
	c := deletionConformance(t, func(e *testEnv) AccountDeleter {
		broken := members.Eraser{Name: "test: broken store", Erase: func(context.Context, rooms.UserID, time.Time) error {
			return errors.New("store down")
		}}
		d, err := members.NewDeleter(members.DeleterParams{Accounts: e.accounts, Erasers: append(e.people.Erasers(), broken)})
		if err != nil {
			t.Fatal(err)
		}
		return d
	})
	ann := c.e.signUp(t, "ann", "")
	resp, body := c.do(t, http.MethodDelete, me, me, ann.Token, `{"password":"`+testPassword+`"}`)
	if resp.StatusCode != http.StatusAccepted || !strings.Contains(body, `"status":"deleted"`) {
		t.Fatalf("DELETE /api/v1/me = %d %s, want 202", resp.StatusCode, body)
	}
	resp, body = c.do(t, http.MethodGet, me, me, ann.Token, "")
	wantError(t, resp, body, 401, codeAccountDeleted)
	d, deleted, err := c.e.people.Deletion(t.Context(), ann.Member.ID)
	if err != nil || !deleted || !d.ErasedAt.IsZero() {
		t.Errorf("Deletion = %+v, %v, %v; want deleted, erasure pending", d, deleted, err)
	}
}
