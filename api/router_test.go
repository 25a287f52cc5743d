package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/parley-audio/parley/rooms"
)

func TestHealthz(t *testing.T) {
	e := newTestEnv(t, nil)
	e.setReady(errors.New("shutting down")) // liveness ignores readiness
	resp, body := e.do(t, http.MethodGet, "/healthz", "", "")
	if resp.StatusCode != http.StatusOK || strings.TrimSpace(body) != `{"status":"ok"}` {
		t.Fatalf("healthz = %d %s", resp.StatusCode, body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
}

func TestReadyz(t *testing.T) {
	e := newTestEnv(t, nil)
	resp, body := e.do(t, http.MethodGet, "/readyz", "", "")
	if resp.StatusCode != http.StatusOK || strings.TrimSpace(body) != `{"status":"ready"}` {
		t.Fatalf("readyz = %d %s", resp.StatusCode, body)
	}

	e.setReady(errors.New("shutting down"))
	resp, body = e.do(t, http.MethodGet, "/readyz", "", "")
	wantError(t, resp, body, http.StatusServiceUnavailable, codeNotReady)

	e.setReady(nil)
	resp, body = e.do(t, http.MethodGet, "/readyz", "", "")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("ready again: %d %s", resp.StatusCode, body)
	}
}

func TestReadyzWhenTheStoreIsGone(t *testing.T) {
	e := newTestEnv(t, nil)
	if err := e.db.Close(); err != nil {
		t.Fatal(err)
	}
	resp, body := e.do(t, http.MethodGet, "/readyz", "", "")
	msg := wantError(t, resp, body, http.StatusServiceUnavailable, codeNotReady)
	if strings.Contains(msg, "sql") {
		t.Errorf("store detail sent to the client: %q", msg)
	}
}

// A store that cannot be reached is 503 not_ready, as docs/api.md says:
// the client learns only that, and the log says why.
func TestAStoreThatIsGoneIsNotReadyAndLoggedNotSent(t *testing.T) {
	e := newTestEnv(t, nil)
	token, _ := e.signIn(t, "Ann")
	if err := e.people.Close(); err != nil {
		t.Fatal(err)
	}
	resp, body := e.do(t, http.MethodGet, "/api/v1/me", token, "")
	msg := wantError(t, resp, body, http.StatusServiceUnavailable, codeNotReady)
	if strings.Contains(msg, "sql") || strings.Contains(msg, "closed") {
		t.Errorf("detail sent to the client: %q", msg)
	}
	id := resp.Header.Get("X-Request-Id")
	logs := e.logs.String()
	if !strings.Contains(logs, "database is closed") || id == "" || !strings.Contains(logs, id) {
		t.Errorf("the log lacks the detail or request id %q:\n%s", id, logs)
	}
}

// failingMembers is the real service, except that Member fails in a way
// rooms does not name.
type failingMembers struct{ RoomService }

func (failingMembers) Member(context.Context, rooms.UserID) (rooms.Member, error) {
	return rooms.Member{}, errors.New("disk on fire")
}

func TestInternalErrorsAreLoggedNotSent(t *testing.T) {
	e := newTestEnv(t, func(p *Params) { p.Rooms = failingMembers{p.Rooms} })
	token, _ := e.signIn(t, "Ann")
	resp, body := e.do(t, http.MethodGet, "/api/v1/me", token, "")
	msg := wantError(t, resp, body, http.StatusInternalServerError, codeInternal)
	if strings.Contains(msg, "fire") {
		t.Errorf("detail sent to the client: %q", msg)
	}
	id := resp.Header.Get("X-Request-Id")
	if logs := e.logs.String(); !strings.Contains(logs, "disk on fire") || id == "" || !strings.Contains(logs, id) {
		t.Errorf("the log lacks the detail or request id %q:\n%s", id, logs)
	}
}

func TestUnknownEndpointsAndMethods(t *testing.T) {
	e := newTestEnv(t, nil)
	token, _ := e.signIn(t, "Ann")
	room := e.createRoom(t, token, "Here")
	tests := []struct {
		name   string
		method string
		path   string
		status int
		code   string
		allow  string
	}{
		{"an unknown path under /api/v1 is not_found", http.MethodGet, "/api/v1/nope", 404, codeNotFound, ""},
		{"an unknown version is not_found", http.MethodGet, "/api/v2/rooms", 404, codeNotFound, ""},
		{"/api itself is not_found", http.MethodGet, "/api", 404, codeNotFound, ""},
		{"a path below a room's end is not_found", http.MethodPost, "/api/v1/rooms/" + string(room.ID) + "/end/now", 404, codeNotFound, ""},
		{"the root without a web client is not_found", http.MethodGet, "/", 404, codeNotFound, ""},
		{"the signal path without signaling is not_found", http.MethodGet, "/api/v1/signal", 404, codeNotFound, ""},
		{"DELETE on rooms is method_not_allowed", http.MethodDelete, "/api/v1/rooms", 405, codeMethodNotAllowed, "GET, POST"},
		{"PUT on a room is method_not_allowed", http.MethodPut, "/api/v1/rooms/" + string(room.ID), 405, codeMethodNotAllowed, "GET"},
		{"GET on end is method_not_allowed", http.MethodGet, "/api/v1/rooms/" + string(room.ID) + "/end", 405, codeMethodNotAllowed, "POST"},
		{"POST on me is method_not_allowed", http.MethodPost, "/api/v1/me", 405, codeMethodNotAllowed, "GET, DELETE"},
		{"GET on dev sign-in is method_not_allowed", http.MethodGet, "/api/v1/auth/dev", 405, codeMethodNotAllowed, "POST"},
		{"POST on healthz is method_not_allowed", http.MethodPost, "/healthz", 405, codeMethodNotAllowed, "GET"},
		{"DELETE on readyz is method_not_allowed", http.MethodDelete, "/readyz", 405, codeMethodNotAllowed, "GET"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := e.do(t, tt.method, tt.path, token, "")
			wantError(t, resp, body, tt.status, tt.code)
			if got := resp.Header.Get("Allow"); got != tt.allow {
				t.Errorf("Allow = %q, want %q", got, tt.allow)
			}
			e.mustStillServe(t, token)
		})
	}
}

func TestWebClientGetsEverythingElse(t *testing.T) {
	web := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprintf(w, "web:%s %s", r.Method, r.URL.Path)
	})
	e := newTestEnv(t, func(p *Params) { p.Web = web })
	for _, path := range []string{"/", "/index.html", "/rooms/rm_x", "/apifoo"} {
		resp, body := e.do(t, http.MethodGet, path, "", "")
		if resp.StatusCode != http.StatusOK || body != "web:GET "+path {
			t.Errorf("GET %s = %d %q, want the web client", path, resp.StatusCode, body)
		}
		if resp.Header.Get("Cache-Control") != "" {
			t.Errorf("GET %s: the web client's caching is its own, got %q", path, resp.Header.Get("Cache-Control"))
		}
	}
	// The API keeps its own 404, even with a web client mounted.
	for _, path := range []string{"/api", "/api/", "/api/v1/nope"} {
		resp, body := e.do(t, http.MethodGet, path, "", "")
		wantError(t, resp, body, http.StatusNotFound, codeNotFound)
	}
}

func TestSignalIsAWebSocketWithoutTheRESTDeadline(t *testing.T) {
	hadDeadline := make(chan bool, 1)
	signal := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, ok := r.Context().Deadline()
		hadDeadline <- ok
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			t.Errorf("accept: %v", err)
			return
		}
		defer c.CloseNow()
		typ, msg, err := c.Read(r.Context())
		if err != nil {
			t.Errorf("server read: %v", err)
			return
		}
		if err := c.Write(r.Context(), typ, append([]byte("echo:"), msg...)); err != nil {
			t.Errorf("server write: %v", err)
		}
		c.Close(websocket.StatusNormalClosure, "")
	})
	e := newTestEnv(t, func(p *Params) { p.Signal = signal })

	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	c, resp, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(e.srv.URL, "http")+"/api/v1/signal", nil)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer c.CloseNow()
	checkSecurityHeaders(t, resp, "/api/v1/signal")
	if err := c.Write(ctx, websocket.MessageText, []byte("hi")); err != nil {
		t.Fatalf("write: %v", err)
	}
	_, msg, err := c.Read(ctx)
	if err != nil || string(msg) != "echo:hi" {
		t.Fatalf("read = %q, %v", msg, err)
	}
	if <-hadDeadline {
		t.Error("the WebSocket's context has the REST deadline")
	}

	// Only GET is routed to it.
	r, body := e.do(t, http.MethodPost, "/api/v1/signal", "", "")
	wantError(t, r, body, http.StatusMethodNotAllowed, codeMethodNotAllowed)
}

func TestRESTHandlersHaveADeadline(t *testing.T) {
	e := newTestEnv(t, nil)
	token, _ := e.signIn(t, "Ann")
	// Dev sign-in is outside the auth group; check it and an authenticated
	// route both carry the deadline, through a service that reports it.
	probe := &deadlineProbe{RoomService: e.svc}
	srv := httptest.NewServer(NewHandler(Params{Rooms: probe, Tokens: e.tokens, DevSignIn: true}))
	defer srv.Close()
	testRequest(t, srv, http.MethodGet, "/api/v1/me", nil, bearer(token))
	testRequest(t, srv, http.MethodPost, "/api/v1/auth/dev", strings.NewReader(`{"display_name":"Bob"}`), nil)
	testRequest(t, srv, http.MethodGet, "/readyz", nil, nil)
	probe.mu.Lock()
	defer probe.mu.Unlock()
	if len(probe.left) != 3 {
		t.Fatalf("probe saw %d calls, want 3", len(probe.left))
	}
	for i, left := range probe.left {
		if left <= 0 || left > restTimeout {
			t.Errorf("call %d: time left %v, want within (0, %v]", i, left, restTimeout)
		}
	}
}

// deadlineProbe records how long each call had before its deadline (0 for
// none).
type deadlineProbe struct {
	RoomService
	mu   sync.Mutex // guards left
	left []time.Duration
}

func (p *deadlineProbe) record(ctx context.Context) {
	var left time.Duration
	if d, ok := ctx.Deadline(); ok {
		left = time.Until(d)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.left = append(p.left, left)
}

func (p *deadlineProbe) Member(ctx context.Context, id rooms.UserID) (rooms.Member, error) {
	p.record(ctx)
	return p.RoomService.Member(ctx, id)
}

func (p *deadlineProbe) CreateMember(ctx context.Context, name string) (rooms.Member, error) {
	p.record(ctx)
	return p.RoomService.CreateMember(ctx, name)
}

func (p *deadlineProbe) Ready(ctx context.Context) error {
	p.record(ctx)
	return p.RoomService.Ready(ctx)
}

func TestAnExpiredDeadlineIsNotReady(t *testing.T) {
	// A store call that outlives the deadline: what the client sees.
	h := withDeadline(10 * time.Millisecond)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
		writeError(w, r, testLogger(t), fmt.Errorf("select room: %w", r.Context().Err()))
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/v1/rooms", nil))
	res := rec.Result()
	wantError(t, res, rec.Body.String(), http.StatusServiceUnavailable, codeNotReady)
}

func TestPanicsAreInternalErrors(t *testing.T) {
	boom := http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom") })
	e := newTestEnv(t, func(p *Params) { p.Web = boom; p.Signal = boom })
	token, _ := e.signIn(t, "Ann")
	for _, path := range []string{"/somewhere", "/api/v1/signal"} {
		resp, body := e.do(t, http.MethodGet, path, "", "")
		msg := wantError(t, resp, body, http.StatusInternalServerError, codeInternal)
		if strings.Contains(msg, "boom") {
			t.Errorf("panic value sent to the client: %q", msg)
		}
		e.mustStillServe(t, token)
	}
	if logs := e.logs.String(); !strings.Contains(logs, "boom") || !strings.Contains(logs, "goroutine") {
		t.Errorf("panic not logged with its stack:\n%s", logs)
	}
}

func TestAbortHandlerPanicsStillAbort(t *testing.T) {
	abort := http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic(http.ErrAbortHandler) })
	e := newTestEnv(t, func(p *Params) { p.Web = abort })
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, e.srv.URL+"/x", nil)
	resp, err := e.srv.Client().Do(req)
	if err == nil {
		resp.Body.Close()
		t.Fatalf("got a response %d; want the connection aborted", resp.StatusCode)
	}
}

func TestRequestLog(t *testing.T) {
	e := newTestEnv(t, nil)
	token, _ := e.signIn(t, "Ann")
	h := bearer(token)
	h.Set("X-Request-Id", "chosen-by-client")
	resp, _ := testRequest(t, e.srv, http.MethodGet, "/api/v1/me?x=secret-query", nil, h)
	id := resp.Header.Get("X-Request-Id")
	if !regexp.MustCompile(`^req_[A-Za-z0-9_-]{16}$`).MatchString(id) {
		t.Fatalf("X-Request-Id = %q, want one of ours", id)
	}
	resp2, _ := e.do(t, http.MethodGet, "/api/v1/me", token, "")
	if resp2.Header.Get("X-Request-Id") == id {
		t.Error("two requests share a request id")
	}

	logs := e.logs.String()
	var line string
	for l := range strings.Lines(logs) {
		if strings.Contains(l, id) && strings.Contains(l, `"msg":"http request"`) {
			line = l
		}
	}
	for _, want := range []string{`"method":"GET"`, `"path":"/api/v1/me"`, `"status":200`, `"duration":`, `"request_id":"` + id + `"`} {
		if !strings.Contains(line, want) {
			t.Errorf("log line %q lacks %s", line, want)
		}
	}
	for _, secret := range []string{token, "secret-query", "Bearer", "chosen-by-client"} {
		if strings.Contains(logs, secret) {
			t.Errorf("the log holds %q", secret)
		}
	}
}

func TestNewHandlerPanicsWithoutItsDependencies(t *testing.T) {
	for _, p := range []Params{{}, {Rooms: &deadlineProbe{}}, {Tokens: newTestTokens(t, newTestClock())}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("NewHandler(%+v) did not panic", p)
				}
			}()
			NewHandler(p)
		}()
	}
}

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), nil))
}
