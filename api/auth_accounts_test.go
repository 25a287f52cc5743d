package api

import (
	"encoding/json"
	"net/http"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parley-audio/parley/internal/ratelimit"
	"github.com/parley-audio/parley/members"
	"github.com/parley-audio/parley/rooms"
)

const testPassword = "correct horse battery"

// sessionOut is a session as a client reads it, every documented field.
type sessionOut struct {
	Token            string            `json:"token"`
	ExpiresAt        time.Time         `json:"expires_at"`
	RefreshToken     string            `json:"refresh_token"`
	RefreshExpiresAt time.Time         `json:"refresh_expires_at"`
	SessionID        members.SessionID `json:"session_id"`
	Member           accountOutJSON    `json:"member"`
}

type accountOutJSON struct {
	ID          rooms.UserID   `json:"id"`
	Username    string         `json:"username"`
	DisplayName string         `json:"display_name"`
	Status      members.Status `json:"status"`
	Admin       bool           `json:"admin"`
	InvitedBy   rooms.UserID   `json:"invited_by,omitempty"`
	CreatedAt   time.Time      `json:"created_at"`
}

func signUpBody(username, code string) string {
	b, _ := json.Marshal(map[string]string{
		"username": username, "password": testPassword, "display_name": "The " + username, "invite_code": code,
	})
	return string(b)
}

// signUp signs up username with code and wants a session.
func (e *testEnv) signUp(t *testing.T, username, code string) sessionOut {
	t.Helper()
	resp, body := e.do(t, http.MethodPost, "/api/v1/auth/signup", "", signUpBody(username, code))
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("sign up %s: %d %s", username, resp.StatusCode, body)
	}
	var s sessionOut
	decodeStrictly(t, body, &s, true)
	return s
}

// signInAs signs in with the test password and wants a session.
func (e *testEnv) signInAs(t *testing.T, username string) sessionOut {
	t.Helper()
	resp, body := e.do(t, http.MethodPost, "/api/v1/auth/signin", "", `{"username":`+quote(username)+`,"password":`+quote(testPassword)+`}`)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("sign in %s: %d %s", username, resp.StatusCode, body)
	}
	var s sessionOut
	decodeStrictly(t, body, &s, true)
	return s
}

type newInviteOut struct {
	Invite struct {
		ID    members.InviteID `json:"id"`
		State string           `json:"state"`
	} `json:"invite"`
	Code string `json:"code"`
	Link string `json:"link"`
}

// invite makes an invite as token's holder.
func (e *testEnv) invite(t *testing.T, token string) newInviteOut {
	t.Helper()
	resp, body := e.do(t, http.MethodPost, "/api/v1/me/invites", token, "")
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create invite: %d %s", resp.StatusCode, body)
	}
	var out newInviteOut
	if err := json.Unmarshal([]byte(body), &out); err != nil {
		t.Fatal(err)
	}
	return out
}

var (
	refreshPattern = regexp.MustCompile(`^prt_[a-z2-7]{52}$`)
	codePattern    = regexp.MustCompile(`^pinv_[a-z2-7]{32}$`)
)

func TestSignUpFirstIsAdminThenInviteOrWaitlist(t *testing.T) {
	e := newTestEnv(t, nil)
	admin := e.signUp(t, "Ann_Lee", "")
	if !admin.Member.Admin || admin.Member.Status != members.StatusActive || admin.Member.Username != "ann_lee" {
		t.Fatalf("first account = %+v, want an active admin", admin.Member)
	}
	if !refreshPattern.MatchString(admin.RefreshToken) || admin.SessionID == "" {
		t.Errorf("session = %+v", admin)
	}
	if want := e.clock.Now().Add(DefaultAccessTTL); !admin.ExpiresAt.Equal(want) {
		t.Errorf("access token expires %v, want %v", admin.ExpiresAt, want)
	}
	p, err := e.tokens.Verify(admin.Token)
	if err != nil || p.UserID != admin.Member.ID || p.SessionID != admin.SessionID {
		t.Errorf("access token = %+v, %v", p, err)
	}
	// The access token works.
	resp, body := e.do(t, http.MethodGet, "/api/v1/me", admin.Token, "")
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, string(admin.Member.ID)) {
		t.Errorf("GET /me = %d %s", resp.StatusCode, body)
	}

	// Without a code: the waitlist.
	resp, body = e.do(t, http.MethodPost, "/api/v1/auth/signup", "", signUpBody("bob", ""))
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("sign-up without a code: %d %s", resp.StatusCode, body)
	}
	var waiting struct {
		Member accountOutJSON `json:"member"`
	}
	decodeStrictly(t, body, &waiting, true)
	if waiting.Member.Status != members.StatusWaitlisted || waiting.Member.Admin {
		t.Errorf("waitlisted = %+v", waiting.Member)
	}
	resp, body = e.do(t, http.MethodPost, "/api/v1/auth/signin", "", `{"username":"bob","password":"`+testPassword+`"}`)
	wantError(t, resp, body, http.StatusForbidden, codeWaitlisted)

	// With a code: in, invited by the admin.
	inv := e.invite(t, admin.Token)
	if !codePattern.MatchString(inv.Code) || inv.Invite.State != "active" {
		t.Errorf("invite = %+v", inv)
	}
	if want := e.srv.URL + "/join?invite=" + inv.Code; inv.Link != want {
		t.Errorf("link = %q, want %q", inv.Link, want)
	}
	carol := e.signUp(t, "carol", inv.Code)
	if carol.Member.Status != members.StatusActive || carol.Member.Admin || carol.Member.InvitedBy != admin.Member.ID {
		t.Errorf("invited account = %+v", carol.Member)
	}
}

func TestSignUpRefusesEachBadInviteWithItsOwnCode(t *testing.T) {
	e := newTestEnv(t, nil)
	admin := e.signUp(t, "admin", "")
	used := e.invite(t, admin.Token)
	e.signUp(t, "first", used.Code)
	revoked := e.invite(t, admin.Token)
	resp, body := e.do(t, http.MethodDelete, "/api/v1/me/invites/"+string(revoked.Invite.ID), admin.Token, "")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("revoke: %d %s", resp.StatusCode, body)
	}
	expired := e.invite(t, admin.Token)
	fresh := e.invite(t, admin.Token)

	for _, tc := range []struct {
		name, code string
		status     int
		errCode    string
		advance    time.Duration
	}{
		{"a used code", used.Code, http.StatusConflict, codeInviteUsed, 0},
		{"a revoked code", revoked.Code, http.StatusConflict, codeInviteRevoked, 0},
		{"a forged code of the right shape", "pinv_" + strings.Repeat("a", 32), http.StatusBadRequest, codeInviteInvalid, 0},
		{"something that is not a code", "let me in", http.StatusBadRequest, codeInviteInvalid, 0},
		{"an expired code", expired.Code, http.StatusConflict, codeInviteExpired, testAccountsConfig().InviteTTL},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e.clock.Advance(tc.advance)
			resp, body := e.do(t, http.MethodPost, "/api/v1/auth/signup", "", signUpBody("newcomer", tc.code))
			wantError(t, resp, body, tc.status, tc.errCode)
		})
	}
	// None of them made an account, so the username is still free... but
	// the fresh code expired with the clock too.
	resp, body = e.do(t, http.MethodPost, "/api/v1/auth/signup", "", signUpBody("newcomer", fresh.Code))
	wantError(t, resp, body, http.StatusConflict, codeInviteExpired)
	late := e.invite(t, e.signInAs(t, "admin").Token)
	e.signUp(t, "newcomer", late.Code)
}

func TestSignUpBadInput(t *testing.T) {
	e := newTestEnv(t, nil)
	e.signUp(t, "taken", "")
	for _, tc := range []struct {
		name, body string
		status     int
		code       string
		fields     []string
	}{
		{"every field wrong", `{"username":"x!","password":"short","display_name":" "}`, 400, codeValidationFailed, []string{"username", "password", "display_name"}},
		{"nothing at all", `{}`, 400, codeValidationFailed, []string{"username", "password", "display_name"}},
		{"a long username", signUpBody(strings.Repeat("a", 31), ""), 400, codeValidationFailed, []string{"username"}},
		{"a password of 9 characters", `{"username":"okname","password":"123456789","display_name":"A"}`, 400, codeValidationFailed, []string{"password"}},
		{"a taken username, in capitals", signUpBody("TAKEN", ""), 409, codeUsernameTaken, nil},
		{"an unknown field", `{"username":"okname","password":"` + testPassword + `","display_name":"A","admin":true}`, 400, codeInvalidRequest, nil},
		{"a number for a name", `{"username":7}`, 400, codeInvalidRequest, nil},
		{"broken JSON", `{"username":`, 400, codeInvalidJSON, nil},
		{"an oversized body", `{"username":"` + strings.Repeat("a", maxBodyBytes) + `"}`, 413, codeBodyTooLarge, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := e.do(t, http.MethodPost, "/api/v1/auth/signup", "", tc.body)
			wantError(t, resp, body, tc.status, tc.code)
			if tc.fields != nil {
				wantFields(t, body, tc.fields)
			}
		})
	}
	resp, body := testRequest(t, e.srv, http.MethodPost, "/api/v1/auth/signup", strings.NewReader(signUpBody("okname", "")),
		http.Header{"Content-Type": {"text/plain"}})
	wantError(t, resp, body, http.StatusUnsupportedMediaType, codeUnsupportedMediaType)
	e.signUp(t, "still_works", e.invite(t, e.signInAs(t, "taken").Token).Code)
}

// wantFields checks that a validation error names exactly these fields.
func wantFields(t *testing.T, body string, fields []string) {
	t.Helper()
	var e errorBody
	if err := json.Unmarshal([]byte(body), &e); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range e.Error.Fields {
		got = append(got, f.Field)
	}
	if strings.Join(got, ",") != strings.Join(fields, ",") {
		t.Errorf("fields = %v, want %v; body %s", got, fields, body)
	}
}

func TestSignInBadInput(t *testing.T) {
	e := newTestEnv(t, nil)
	e.signUp(t, "ann", "")
	wrong := func(user, pass string) (*http.Response, string) {
		b, _ := json.Marshal(map[string]string{"username": user, "password": pass})
		return e.do(t, http.MethodPost, "/api/v1/auth/signin", "", string(b))
	}
	resp, body := wrong("ann", "not the password")
	msgWrong := wantError(t, resp, body, http.StatusUnauthorized, codeInvalidCredentials)
	resp, body = wrong("nobody", testPassword)
	msgUnknown := wantError(t, resp, body, http.StatusUnauthorized, codeInvalidCredentials)
	if msgWrong != msgUnknown {
		t.Errorf("a wrong password says %q, an unknown username %q: they must not differ", msgWrong, msgUnknown)
	}
	resp, body = e.do(t, http.MethodPost, "/api/v1/auth/signin", "", `{}`)
	wantError(t, resp, body, http.StatusBadRequest, codeValidationFailed)
	wantFields(t, body, []string{"username", "password"})
	resp, body = e.do(t, http.MethodPost, "/api/v1/auth/signin", "", `{"username":"ann","password":"x","remember":true}`)
	wantError(t, resp, body, http.StatusBadRequest, codeInvalidRequest)
	resp, body = e.do(t, http.MethodPost, "/api/v1/auth/signin", "", `[]`)
	wantError(t, resp, body, http.StatusBadRequest, codeInvalidRequest)
	e.signInAs(t, "ann")
}

func TestRepeatedWrongPasswordsAreRateLimited(t *testing.T) {
	e := newTestEnv(t, nil)
	e.signUp(t, "ann", "")
	burst := testAccountsConfig().SignInPerUser.N
	for i := range burst {
		resp, body := e.do(t, http.MethodPost, "/api/v1/auth/signin", "", `{"username":"ann","password":"guess number `+strconv.Itoa(i)+`"}`)
		wantError(t, resp, body, http.StatusUnauthorized, codeInvalidCredentials)
	}
	// Even the right password waits now: the limit is what makes
	// guessing slow.
	resp, body := e.do(t, http.MethodPost, "/api/v1/auth/signin", "", `{"username":"ann","password":"`+testPassword+`"}`)
	wantError(t, resp, body, http.StatusTooManyRequests, codeRateLimited)
	secs, err := strconv.Atoi(resp.Header.Get("Retry-After"))
	if err != nil || secs < 1 || secs > 60 {
		t.Errorf("Retry-After = %q, want 1 to 60 seconds", resp.Header.Get("Retry-After"))
	}
	e.clock.Advance(time.Duration(secs) * time.Second)
	e.signInAs(t, "ann")
}

func TestRefreshTokensRotateAndAnOldOneIsRefused(t *testing.T) {
	e := newTestEnv(t, nil)
	first := e.signUp(t, "ann", "")
	e.clock.Advance(10 * time.Minute)
	refresh := func(tok string) (*http.Response, string) {
		return e.do(t, http.MethodPost, "/api/v1/auth/refresh", "", `{"refresh_token":`+quote(tok)+`}`)
	}
	resp, body := refresh(first.RefreshToken)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("refresh: %d %s", resp.StatusCode, body)
	}
	var second sessionOut
	decodeStrictly(t, body, &second, true)
	if second.SessionID != first.SessionID || second.RefreshToken == first.RefreshToken || second.Token == first.Token {
		t.Fatalf("refresh gave %+v after %+v; want the same session with new tokens", second, first)
	}
	if !second.ExpiresAt.After(first.ExpiresAt) || !second.RefreshExpiresAt.After(first.RefreshExpiresAt) {
		t.Errorf("refresh did not move the expiries on: %+v", second)
	}
	// The old refresh token: refused, and the session signed out, so even
	// the newest access token of the session is refused.
	resp, body = refresh(first.RefreshToken)
	wantError(t, resp, body, http.StatusUnauthorized, codeRefreshReused)
	resp, body = e.do(t, http.MethodGet, "/api/v1/me", second.Token, "")
	wantError(t, resp, body, http.StatusUnauthorized, codeSessionRevoked)
	resp, body = refresh(second.RefreshToken)
	wantError(t, resp, body, http.StatusUnauthorized, codeRefreshInvalid)

	for _, bad := range []string{`{"refresh_token":"nonsense"}`, `{"refresh_token":"prt_` + strings.Repeat("a", 52) + `"}`} {
		resp, body = e.do(t, http.MethodPost, "/api/v1/auth/refresh", "", bad)
		wantError(t, resp, body, http.StatusUnauthorized, codeRefreshInvalid)
	}
	resp, body = e.do(t, http.MethodPost, "/api/v1/auth/refresh", "", `{}`)
	wantError(t, resp, body, http.StatusBadRequest, codeValidationFailed)
	wantFields(t, body, []string{"refresh_token"})
	resp, body = e.do(t, http.MethodPost, "/api/v1/auth/refresh", "", `{"refresh_token":7}`)
	wantError(t, resp, body, http.StatusBadRequest, codeInvalidRequest)
}

func TestAccessTokensExpireAndRefreshingGetsAnother(t *testing.T) {
	e := newTestEnv(t, nil)
	s := e.signUp(t, "ann", "")
	e.clock.Advance(DefaultAccessTTL)
	resp, body := e.do(t, http.MethodGet, "/api/v1/me", s.Token, "")
	wantError(t, resp, body, http.StatusUnauthorized, codeTokenExpired)
	resp, body = e.do(t, http.MethodPost, "/api/v1/auth/refresh", "", `{"refresh_token":`+quote(s.RefreshToken)+`}`)
	var next sessionOut
	if resp.StatusCode != http.StatusOK || json.Unmarshal([]byte(body), &next) != nil {
		t.Fatalf("refresh: %d %s", resp.StatusCode, body)
	}
	if resp, body := e.do(t, http.MethodGet, "/api/v1/me", next.Token, ""); resp.StatusCode != http.StatusOK {
		t.Errorf("the refreshed token: %d %s", resp.StatusCode, body)
	}
}

func TestTokensAreRefusedAfterSignOut(t *testing.T) {
	e := newTestEnv(t, nil)
	here := e.signUp(t, "ann", "")
	there := e.signInAs(t, "ann")
	elsewhere := e.signInAs(t, "ann")

	resp, body := e.do(t, http.MethodPost, "/api/v1/auth/signout", here.Token, "")
	if resp.StatusCode != http.StatusNoContent || body != "" {
		t.Fatalf("sign out: %d %q", resp.StatusCode, body)
	}
	for _, path := range []string{"/api/v1/me", "/api/v1/rooms", "/api/v1/me/invites"} {
		resp, body = e.do(t, http.MethodGet, path, here.Token, "")
		wantError(t, resp, body, http.StatusUnauthorized, codeSessionRevoked)
	}
	resp, body = e.do(t, http.MethodPost, "/api/v1/auth/refresh", "", `{"refresh_token":`+quote(here.RefreshToken)+`}`)
	wantError(t, resp, body, http.StatusUnauthorized, codeRefreshInvalid)
	// The other sessions are untouched.
	if resp, body := e.do(t, http.MethodGet, "/api/v1/me", there.Token, ""); resp.StatusCode != http.StatusOK {
		t.Fatalf("another session: %d %s", resp.StatusCode, body)
	}

	resp, body = e.do(t, http.MethodPost, "/api/v1/auth/signout-all", there.Token, "")
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("sign out everywhere: %d %s", resp.StatusCode, body)
	}
	for _, s := range []sessionOut{there, elsewhere} {
		resp, body = e.do(t, http.MethodGet, "/api/v1/me", s.Token, "")
		wantError(t, resp, body, http.StatusUnauthorized, codeSessionRevoked)
	}
	// Bad input on both: a body with a field, and no token.
	for _, path := range []string{"/api/v1/auth/signout", "/api/v1/auth/signout-all"} {
		fresh := e.signInAs(t, "ann")
		resp, body = e.do(t, http.MethodPost, path, fresh.Token, `{"everywhere":true}`)
		wantError(t, resp, body, http.StatusBadRequest, codeInvalidRequest)
		resp, body = e.do(t, http.MethodPost, path, "", "")
		wantError(t, resp, body, http.StatusUnauthorized, codeUnauthorized)
	}
	// A development token has no session: signing it out is harmless.
	dev, _ := e.signIn(t, "Dev")
	if resp, body := e.do(t, http.MethodPost, "/api/v1/auth/signout", dev, ""); resp.StatusCode != http.StatusNoContent {
		t.Errorf("dev sign out: %d %s", resp.StatusCode, body)
	}
}

// Two servers share one database: a sign-out on one is refused by the
// other once it has read the revocations (every RevocationSync).
func TestSignOutReachesAnotherServerSharingTheDatabase(t *testing.T) {
	a := newTestEnv(t, nil)
	s := a.signUp(t, "ann", "")
	other := newTestAccounts(t, a.people, a.clock)
	b := newTestEnv(t, func(p *Params) { p.Tokens, p.Members, p.Now = a.tokens, other, a.clock.Now })
	if resp, body := b.do(t, http.MethodGet, "/api/v1/me/invites", s.Token, ""); resp.StatusCode != http.StatusOK {
		t.Fatalf("the other server before sign-out: %d %s", resp.StatusCode, body)
	}
	if resp, _ := a.do(t, http.MethodPost, "/api/v1/auth/signout", s.Token, ""); resp.StatusCode != http.StatusNoContent {
		t.Fatal("sign out failed")
	}
	if err := other.SyncRevocations(t.Context()); err != nil {
		t.Fatal(err)
	}
	resp, body := b.do(t, http.MethodGet, "/api/v1/me/invites", s.Token, "")
	wantError(t, resp, body, http.StatusUnauthorized, codeSessionRevoked)
}

// A server that could not read revocations for too long refuses session
// tokens rather than accept a signed-out one.
func TestStaleRevocationsRefuseSessionTokens(t *testing.T) {
	e := newTestEnv(t, nil)
	s := e.signUp(t, "ann", "")
	strict := newTestAccounts(t, e.people, e.clock, func(c *members.Config) { c.RevocationStale = time.Minute })
	f := newTestEnv(t, func(p *Params) { p.Tokens, p.Members, p.Now = e.tokens, strict, e.clock.Now })
	e.clock.Advance(2 * time.Minute)
	resp, body := f.do(t, http.MethodGet, "/api/v1/rooms", s.Token, "")
	wantError(t, resp, body, http.StatusServiceUnavailable, codeNotReady)
	if err := strict.SyncRevocations(t.Context()); err != nil {
		t.Fatal(err)
	}
	// The access token has expired meanwhile; a refreshed one passes.
	resp, body = f.do(t, http.MethodPost, "/api/v1/auth/refresh", "", `{"refresh_token":`+quote(s.RefreshToken)+`}`)
	var next sessionOut
	if resp.StatusCode != http.StatusOK || json.Unmarshal([]byte(body), &next) != nil {
		t.Fatalf("refresh: %d %s", resp.StatusCode, body)
	}
	if resp, body := f.do(t, http.MethodGet, "/api/v1/rooms", next.Token, ""); resp.StatusCode != http.StatusOK {
		t.Errorf("after a sync: %d %s", resp.StatusCode, body)
	}
}

func TestDevTokensAreRefusedWhenTheDevSignInIsOff(t *testing.T) {
	e := newTestEnv(t, func(p *Params) { p.DevSignIn = false })
	token, _, err := e.tokens.Issue(rooms.Member{ID: rooms.NewUserID(), DisplayName: "Dev"})
	if err != nil {
		t.Fatal(err)
	}
	resp, body := e.do(t, http.MethodGet, "/api/v1/rooms", token, "")
	wantError(t, resp, body, http.StatusUnauthorized, codeUnauthorized)
	// Session tokens still work.
	s := e.signUp(t, "ann", "")
	if resp, body := e.do(t, http.MethodGet, "/api/v1/rooms", s.Token, ""); resp.StatusCode != http.StatusOK {
		t.Errorf("a session token: %d %s", resp.StatusCode, body)
	}
}

func TestSessionTokensNeedAccounts(t *testing.T) {
	// Without a members service nothing can vouch for a session.
	e := newTestEnv(t, func(p *Params) { p.Members = nil })
	token, _, err := e.tokens.IssueAccess(rooms.Member{ID: rooms.NewUserID(), DisplayName: "Ann"}, members.NewSessionID())
	if err != nil {
		t.Fatal(err)
	}
	resp, body := e.do(t, http.MethodGet, "/api/v1/rooms", token, "")
	wantError(t, resp, body, http.StatusUnauthorized, codeUnauthorized)
	resp, body = e.do(t, http.MethodPost, "/api/v1/auth/signin", "", `{"username":"ann","password":"x"}`)
	wantError(t, resp, body, http.StatusNotFound, codeNotFound)
}

func TestSignUpIsRateLimitedPerAddress(t *testing.T) {
	store, err := members.OpenSQLite(t.Context(), filepath.Join(t.TempDir(), "members.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	clock := newTestClock()
	strict := newTestAccounts(t, store, clock, func(c *members.Config) { c.SignInPerAddress = ratelimit.Rate{N: 2, Per: time.Minute} })
	e := newTestEnv(t, func(p *Params) { p.Members = strict })
	e.signUp(t, "first", "")
	resp, body := e.do(t, http.MethodPost, "/api/v1/auth/signup", "", signUpBody("second", ""))
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("second sign-up: %d %s", resp.StatusCode, body)
	}
	resp, body = e.do(t, http.MethodPost, "/api/v1/auth/signup", "", signUpBody("third", ""))
	wantError(t, resp, body, http.StatusTooManyRequests, codeRateLimited)
	if resp.Header.Get("Retry-After") == "" {
		t.Error("no Retry-After")
	}
	// Bad input costs nothing: it is refused before the limit is asked.
	resp, body = e.do(t, http.MethodPost, "/api/v1/auth/signup", "", `{}`)
	wantError(t, resp, body, http.StatusBadRequest, codeValidationFailed)
}
