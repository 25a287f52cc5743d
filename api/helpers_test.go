package api

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley-audio/parley/internal/ratelimit"
	"github.com/parley-audio/parley/internal/testenv"
	"github.com/parley-audio/parley/members"
	"github.com/parley-audio/parley/rooms"
)

// The API runs on the real service, so this is checked where it matters.
var _ RoomService = (*rooms.Service)(nil)

// testEnv is a server over the real rooms.Service, the real SQLite store
// and the in-memory live store and bus.
type testEnv struct {
	srv    *httptest.Server
	svc    *rooms.Service
	db     *rooms.SQLStore
	people *members.SQLStore
	social *members.Social
	// accounts is the members service over people, on the tokens' clock.
	accounts *members.Service
	// deleter deletes accounts with the members store's erasers and an
	// eviction from the room.
	deleter *members.Deleter
	tokens  *Tokens
	guests  *GuestTokens
	// clock is the tokens' clock; the service has its own, which ticks a
	// second per reading so that rooms are strictly ordered by creation.
	clock *testenv.Clock
	logs  *testenv.Buffer

	mu       sync.Mutex // guards readyErr
	readyErr error
}

// tickingClock returns a clock that advances one second on every reading.
func tickingClock() func() time.Time {
	var mu sync.Mutex
	t := time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		t = t.Add(time.Second)
		return t
	}
}

// testAccountsConfig is the members service's configuration in these
// tests: cheap password hashing, and revocations that never go stale on
// a clock the tests move by hours (TestRevocationsGoStale moves it).
func testAccountsConfig() members.Config {
	c := members.DefaultConfig()
	c.Password = members.PasswordParams{Memory: 64, Time: 1, Threads: 1}
	c.AccessTTL = DefaultAccessTTL
	c.RevocationStale = 1000 * time.Hour
	// Every request of these tests comes from 127.0.0.1.
	c.SignInPerAddress = ratelimit.Rate{N: 1000, Per: time.Minute}
	return c
}

// newTestAccounts returns a members service over store on clock, its
// revocations read once.
func newTestAccounts(t *testing.T, store members.Store, clock *testenv.Clock, edit ...func(*members.Config)) *members.Service {
	t.Helper()
	cfg := testAccountsConfig()
	for _, e := range edit {
		e(&cfg)
	}
	svc, err := members.NewService(members.ServiceParams{Store: store, Config: cfg, Now: clock.Now})
	if err != nil {
		t.Fatalf("members.NewService: %v", err)
	}
	if err := svc.SyncRevocations(t.Context()); err != nil {
		t.Fatal(err)
	}
	return svc
}

// newTestEnv starts a server. edit, when given, changes its Params.
func newTestEnv(t *testing.T, edit func(*Params)) *testEnv {
	t.Helper()
	return newTestEnvWithLimits(t, rooms.DefaultLimits(), edit)
}

// newTestEnvWithLimits starts a server whose service applies l.
func newTestEnvWithLimits(t *testing.T, l rooms.Limits, edit func(*Params)) *testEnv {
	t.Helper()
	return newTestEnvWith(t, envOptions{limits: l, edit: edit})
}

// envOptions change what newTestEnvWith starts; nil functions change
// nothing, zero limits are rooms.DefaultLimits.
type envOptions struct {
	limits rooms.Limits
	svc    func(*rooms.ServiceParams)
	social func(*members.SocialParams)
	edit   func(*Params)
}

// newTestEnvWith starts a server as o says. The service always has the
// members' Social as its Audience.
func newTestEnvWith(t *testing.T, o envOptions) *testEnv {
	t.Helper()
	l, svc, edit := o.limits, o.svc, o.edit
	if l == (rooms.Limits{}) {
		l = rooms.DefaultLimits()
	}
	db, err := rooms.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "parley.db"))
	if err != nil {
		t.Fatalf("OpenSQLite: %v", err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("close sqlite: %v", err)
		}
	})
	people, err := members.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "members.db"))
	if err != nil {
		t.Fatalf("members.OpenSQLite: %v", err)
	}
	t.Cleanup(func() { _ = people.Close() })
	e := &testEnv{db: db, people: people, clock: newTestClock(), logs: &testenv.Buffer{}}
	bus := rooms.NewMemoryBus()
	t.Cleanup(func() { _ = bus.Close() })
	socp := members.SocialParams{Store: people}
	if o.social != nil {
		o.social(&socp)
	}
	e.social = members.NewSocial(socp)
	sp := rooms.ServiceParams{
		Rooms: db, Members: people, Live: rooms.NewMemoryLive(bus), Bus: bus, Limits: l, Now: tickingClock(),
		Data: db, Audience: e.social,
	}
	if svc != nil {
		svc(&sp)
	}
	e.svc = rooms.NewService(sp)
	e.tokens = newTestTokens(t, e.clock)
	guests, err := NewGuestTokens(testSecret, e.clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	e.guests = guests
	exporter, err := members.NewExporter(nil, people.ExportSections()...)
	if err != nil {
		t.Fatal(err)
	}
	e.accounts = newTestAccounts(t, people, e.clock)
	evict := members.Eraser{Name: "rooms: leave the room", Erase: func(ctx context.Context, u rooms.UserID, _ time.Time) error {
		return e.svc.Evict(ctx, u, rooms.ReasonAccountDeleted)
	}}
	e.deleter, err = members.NewDeleter(members.DeleterParams{Accounts: e.accounts, Erasers: append(people.Erasers(), evict)})
	if err != nil {
		t.Fatal(err)
	}
	p := Params{
		Rooms: e.svc, Tokens: e.tokens, DevSignIn: true, Members: e.accounts, Now: e.clock.Now, Export: exporter,
		Deletion: e.deleter,
		Social:   e.social, Guests: e.guests,
		Ready: func(context.Context) error {
			e.mu.Lock()
			defer e.mu.Unlock()
			return e.readyErr
		},
		Logger: slog.New(slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	if edit != nil {
		edit(&p)
	}
	e.srv = httptest.NewServer(NewHandler(p))
	t.Cleanup(e.srv.Close)
	return e
}

func (e *testEnv) setReady(err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.readyErr = err
}

// testRequest sends one request and returns the response with its body
// read. A non-nil body is sent as application/json unless header sets a
// Content-Type. Every response is checked for the security headers.
func testRequest(t *testing.T, ts *httptest.Server, method, path string, body io.Reader, header http.Header) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, ts.URL+path, body)
	if err != nil {
		t.Fatalf("new request: %v", err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, vs := range header {
		req.Header.Del(k)
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	resp, err := ts.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	checkSecurityHeaders(t, resp, path)
	return resp, string(b)
}

func checkSecurityHeaders(t *testing.T, resp *http.Response, path string) {
	t.Helper()
	want := map[string]string{"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}
	if isAPIPath(strings.SplitN(path, "?", 2)[0]) {
		want["Cache-Control"] = "no-store"
	}
	for k, v := range want {
		if got := resp.Header.Get(k); got != v {
			t.Errorf("%s: header %s = %q, want %q", path, k, got, v)
		}
	}
}

func bearer(token string) http.Header {
	return http.Header{"Authorization": {"Bearer " + token}}
}

// do sends a request as the holder of token ("" for none) with a JSON body
// ("" for none).
func (e *testEnv) do(t *testing.T, method, path, token, body string) (*http.Response, string) {
	t.Helper()
	var h http.Header
	if token != "" {
		h = bearer(token)
	}
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	return testRequest(t, e.srv, method, path, r, h)
}

// signIn creates a member through the dev sign-in and returns its token
// and ID.
func (e *testEnv) signIn(t *testing.T, name string) (string, rooms.UserID) {
	t.Helper()
	resp, body := e.do(t, http.MethodPost, "/api/v1/auth/dev", "", `{"display_name":`+quote(name)+`}`)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("sign in: %d %s", resp.StatusCode, body)
	}
	var out struct {
		Token  string `json:"token"`
		Member struct {
			ID rooms.UserID `json:"id"`
		} `json:"member"`
	}
	// TestDevSignIn checks the whole shape; here only two fields matter.
	if err := json.Unmarshal([]byte(body), &out); err != nil {
		t.Fatalf("sign in: %v", err)
	}
	return out.Token, out.Member.ID
}

// createRoom creates a room as token's holder and returns it.
func (e *testEnv) createRoom(t *testing.T, token, title string) roomOut {
	t.Helper()
	resp, body := e.do(t, http.MethodPost, "/api/v1/rooms", token, `{"title":`+quote(title)+`}`)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create room: %d %s", resp.StatusCode, body)
	}
	var r roomOut
	decodeStrictly(t, body, &r, true)
	return r
}

// mustStillServe checks that the server answers a good request, after a
// bad one has been refused.
func (e *testEnv) mustStillServe(t *testing.T, token string) {
	t.Helper()
	e.createRoom(t, token, "Still here")
}

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// roomOut is a room as a client reads it, with every documented field.
type roomOut struct {
	ID          rooms.RoomID `json:"id"`
	Title       string       `json:"title"`
	Description string       `json:"description"`
	Visibility  string       `json:"visibility"`
	CreatedBy   struct {
		ID          rooms.UserID `json:"id"`
		DisplayName string       `json:"display_name"`
	} `json:"created_by"`
	CreatedAt     time.Time  `json:"created_at"`
	EndedAt       *time.Time `json:"ended_at"`
	Live          bool       `json:"live"`
	SpeakerCount  int        `json:"speaker_count"`
	ListenerCount int        `json:"listener_count"`
	LoudestN      int        `json:"loudest_n"`
	GuestCount    int        `json:"guest_count"`
}

// decodeStrictly decodes body into v and fails on unknown fields, so that
// the tests notice a field the doc does not list. With allFields, every
// top-level field of v's JSON must also be present in the body.
func decodeStrictly(t *testing.T, body string, v any, allFields bool) {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("decode %s: %v", body, err)
	}
	if !allFields {
		return
	}
	var got map[string]json.RawMessage
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatal(err)
	}
	want, _ := json.Marshal(v)
	var fields map[string]json.RawMessage
	_ = json.Unmarshal(want, &fields)
	for k := range fields {
		if _, ok := got[k]; !ok {
			t.Errorf("field %q missing from %s", k, body)
		}
	}
}

// wantError checks that a response is the API's error shape with the
// given status and code, and returns its message.
func wantError(t *testing.T, resp *http.Response, body string, status int, code string) string {
	t.Helper()
	if resp.StatusCode != status {
		t.Fatalf("status = %d, want %d; body %s", resp.StatusCode, status, body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
	var e struct {
		Error struct {
			Code    string       `json:"code"`
			Message string       `json:"message"`
			Fields  []fieldError `json:"fields"`
		} `json:"error"`
	}
	decodeStrictly(t, body, &e, true)
	if e.Error.Code != code {
		t.Fatalf("code = %q, want %q; body %s", e.Error.Code, code, body)
	}
	if e.Error.Message == "" {
		t.Errorf("empty message in %s", body)
	}
	// A validation error names every wrong field; no other error has any.
	if (code == codeValidationFailed) != (len(e.Error.Fields) > 0) {
		t.Errorf("code %s with fields %v", code, e.Error.Fields)
	}
	for _, f := range e.Error.Fields {
		if f.Field == "" || f.Message == "" {
			t.Errorf("a field error without a field or message: %s", body)
		}
	}
	return e.Error.Message
}
