package api

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/parley-audio/parley/members"
	"github.com/parley-audio/parley/rooms"
)

// testAdmins is Admins over the members store, as cmd wires it.
type testAdmins struct{ people *members.SQLStore }

func (a *testAdmins) IsAdmin(ctx context.Context, id rooms.UserID) (bool, error) {
	acc, err := a.people.Account(ctx, id)
	if errors.Is(err, members.ErrAccountNotFound) {
		return false, nil
	}
	return acc.Admin, err
}

// newDataEnv is a test server whose admins are the members store's.
func newDataEnv(t *testing.T) *testEnv {
	t.Helper()
	admins := &testAdmins{}
	e := newTestEnv(t, func(p *Params) { p.Admins = admins })
	admins.people = e.people
	return e
}

// signInAdmin makes an admin account and returns its token and ID.
func (e *testEnv) signInAdmin(t *testing.T, name string) (string, rooms.UserID) {
	t.Helper()
	acc, err := e.people.CreateAccount(t.Context(), members.NewAccount{
		Account: members.Account{ID: rooms.NewUserID(), Username: strings.ToLower(name), DisplayName: name, Admin: true, CreatedAt: time.Now()},
		Mode:    members.JoinDirect,
	})
	if err != nil {
		t.Fatal(err)
	}
	token, _, err := e.tokens.Issue(acc.Member())
	if err != nil {
		t.Fatal(err)
	}
	return token, acc.ID
}

// checkBodyRefusals sends a route every kind of bad body: each is refused
// with its status and code. good is a body the route would take.
func checkBodyRefusals(t *testing.T, e *testEnv, method, path, token, good string) {
	t.Helper()
	for _, c := range []struct {
		name, body string
		status     int
		code       string
	}{
		{"malformed JSON", `{"title":`, http.StatusBadRequest, codeInvalidJSON},
		{"two values", good + good, http.StatusBadRequest, codeInvalidJSON},
		{"not an object", `[1]`, http.StatusBadRequest, codeInvalidRequest},
		{"an unknown field", strings.Replace(good, "{", `{"colour":"red",`, 1), http.StatusBadRequest, codeInvalidRequest},
		{"too large", `{"x":"` + strings.Repeat("a", maxBodyBytes) + `"}`, http.StatusRequestEntityTooLarge, codeBodyTooLarge},
	} {
		t.Run(method+" "+path+" with "+c.name, func(t *testing.T) {
			resp, body := e.do(t, method, path, token, c.body)
			wantError(t, resp, body, c.status, c.code)
		})
	}
	t.Run(method+" "+path+" with a body that is not JSON", func(t *testing.T) {
		h := bearer(token)
		h.Set("Content-Type", "text/plain")
		resp, body := testRequest(t, e.srv, method, path, strings.NewReader(good), h)
		wantError(t, resp, body, http.StatusUnsupportedMediaType, codeUnsupportedMediaType)
	})
	checkAuthRefusals(t, e, method, path, good)
}

// checkAuthRefusals checks that a route needs a valid token.
func checkAuthRefusals(t *testing.T, e *testEnv, method, path, body string) {
	t.Helper()
	for name, token := range map[string]string{"no token": "", "a forged token": "forged.token.here"} {
		t.Run(method+" "+path+" with "+name, func(t *testing.T) {
			resp, rbody := e.do(t, method, path, token, body)
			wantError(t, resp, rbody, http.StatusUnauthorized, codeUnauthorized)
		})
	}
}

// wantInvalid checks a validation error's fields, in order.
func wantInvalid(t *testing.T, resp *http.Response, body string, fields ...string) {
	t.Helper()
	wantError(t, resp, body, http.StatusBadRequest, codeValidationFailed)
	var e errorBody
	decodeStrictly(t, body, &e, false)
	var got []string
	for _, f := range e.Error.Fields {
		got = append(got, f.Field)
	}
	if strings.Join(got, ",") != strings.Join(fields, ",") {
		t.Errorf("fields %v, want %v; body %s", got, fields, body)
	}
}
