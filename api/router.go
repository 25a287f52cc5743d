// Package api is Parley's REST API: sign-in, rooms, the stage and health
// checks, as specified in docs/api.md. Handlers only decode, call
// rooms.Service and encode; every decision about rooms is the service's,
// and every mapping of an error to an HTTP status is writeError's.
package api

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/parley-audio/parley/rooms"
)

// RoomService is what the API needs of rooms.Service. It is wider than the
// house's usual one to five methods because it is exactly the surface of
// the REST API, and every handler needs one part of it.
type RoomService interface {
	CreateMember(ctx context.Context, displayName string) (rooms.Member, error)
	Member(ctx context.Context, id rooms.UserID) (rooms.Member, error)
	CreateRoom(ctx context.Context, creator rooms.UserID, n rooms.NewRoom) (rooms.Room, error)
	Room(ctx context.Context, id rooms.RoomID) (rooms.RoomView, error)
	Snapshot(ctx context.Context, id rooms.RoomID) (rooms.Snapshot, error)
	Limits() rooms.Limits
	LiveRooms(ctx context.Context, limit int, cursor string) ([]rooms.RoomView, string, error)
	EndRoom(ctx context.Context, actor rooms.UserID, id rooms.RoomID) (rooms.Room, error)
	Act(ctx context.Context, id rooms.RoomID, a rooms.Action) error
	Ready(ctx context.Context) error
	// Who may see and join rooms (rooms_access.go, guests.go).
	RoomFor(ctx context.Context, viewer rooms.UserID, id rooms.RoomID) (rooms.RoomView, error)
	VisibleRooms(ctx context.Context, viewer rooms.UserID, limit int, cursor string) ([]rooms.RoomView, string, error)
	SetVisibility(ctx context.Context, actor rooms.UserID, id rooms.RoomID, v rooms.Visibility) (rooms.RoomView, error)
	InviteToRoom(ctx context.Context, actor rooms.UserID, id rooms.RoomID, member rooms.UserID) (rooms.InviteeView, error)
	UninviteFromRoom(ctx context.Context, actor rooms.UserID, id rooms.RoomID, member rooms.UserID) error
	RoomInvitees(ctx context.Context, actor rooms.UserID, id rooms.RoomID, limit int, cursor string) ([]rooms.InviteeView, string, error)
	GuestPass(ctx context.Context, id rooms.RoomID) (rooms.Room, rooms.UserID, error)
	GuestsAllowed() bool
}

// Params are NewHandler's dependencies. Rooms and Tokens are required.
type Params struct {
	Rooms  RoomService
	Tokens *Tokens
	// Members is accounts: sign-up, sign-in, sessions, invites and the
	// waitlist (api/auth*.go). nil means none of their routes, and only
	// development tokens are accepted.
	Members MemberService
	// DevSignIn turns on POST /api/v1/auth/dev, and accepts its tokens
	// (which belong to no session). When off the route does not exist, so
	// it answers 404 not_found, and its tokens are refused.
	DevSignIn bool
	// Ready is an extra readiness check from cmd (for example, "shutting
	// down"). nil means none.
	Ready func(ctx context.Context) error
	// Signal is the signaling WebSocket, mounted at GET /api/v1/signal. It
	// authenticates itself (browsers cannot send the header). nil means
	// not mounted.
	Signal http.Handler
	// Web serves everything outside /api, /healthz, /readyz and /metrics.
	// nil means those paths answer 404 not_found.
	Web http.Handler
	// Metrics is mounted at GET /metrics (Prometheus text format), without
	// authentication, like the health checks. nil means not mounted.
	Metrics http.Handler
	// Export writes members' data exports, GET /api/v1/me/export. nil
	// means not mounted.
	Export Exporter
	// Deletion deletes members' own accounts, DELETE /api/v1/me. nil
	// means not mounted.
	Deletion AccountDeleter
	// Logger receives request logs and the details of server errors. nil
	// discards them.
	Logger *slog.Logger
	// Events, Chat and Records serve events, chat, room history, the
	// moderation log and reports (events.go, chat.go, reports.go). nil
	// means Rooms, which rooms.Service is; a Rooms that is not one of them
	// leaves those routes out. Admins says who may read reports; nil
	// means nobody.
	Events  EventService
	Chat    ChatService
	Records RecordService
	Admins  Admins
	// Social serves profiles, follows, blocks and the member directory
	// (social.go). nil means those routes are not mounted.
	Social SocialService
	// Guests signs guest passes (guests.go). nil means the guest-token
	// route is not mounted.
	Guests *GuestTokens
	// GuestLimiter limits guest passes per client address. nil means no
	// limit.
	GuestLimiter Limiter
	// Relay serves GET /internal/v1/relay, the node-to-node relay of a
	// cluster, which authenticates itself with the cluster key; Nodes
	// serves GET /api/v1/nodes. nil means not mounted (a single node).
	Relay http.Handler
	Nodes NodeLister
	// Now is the clock that says what state an invite is in (expired or
	// not); nil means time.Now. Give it the members service's clock.
	Now func() time.Time
}

// restTimeout bounds each REST request. Every one of them is a few store
// calls, so anything slower means a store is in trouble.
const restTimeout = 10 * time.Second

// server holds what the handlers share.
type server struct {
	rooms   RoomService
	members MemberService
	tokens  *Tokens
	ready   func(ctx context.Context) error
	log     *slog.Logger
	now     func() time.Time

	events     EventService
	chat       ChatService
	records    RecordService
	admins     Admins
	social     SocialService
	guests     *GuestTokens
	guestLimit Limiter
}

// NewHandler returns the HTTP handler of the whole server: the REST API,
// the health checks, the signaling WebSocket and the web client. It panics
// when Rooms or Tokens is nil, a wiring mistake that must not reach a
// request.
func NewHandler(p Params) http.Handler {
	if p.Rooms == nil || p.Tokens == nil {
		panic("api: NewHandler needs Params.Rooms and Params.Tokens")
	}
	log := p.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	now := p.Now
	if now == nil {
		now = time.Now
	}
	s := &server{
		rooms: p.Rooms, members: p.Members, tokens: p.Tokens, ready: p.Ready, log: log, now: now,
		events: p.Events, chat: p.Chat, records: p.Records, admins: p.Admins,
		social: p.Social, guests: p.Guests, guestLimit: p.GuestLimiter,
	}
	var sessions SessionChecker
	if p.Members != nil {
		sessions = p.Members
	}
	auth := NewAuthenticator(p.Tokens, sessions, p.DevSignIn)
	if s.events == nil {
		s.events, _ = p.Rooms.(EventService)
	}
	if s.chat == nil {
		s.chat, _ = p.Rooms.(ChatService)
	}
	if s.records == nil {
		s.records, _ = p.Rooms.(RecordService)
	}

	r := chi.NewRouter()
	// No RealIP: it believes X-Forwarded-For and X-Real-IP from anyone.
	// Parley runs without a proxy by default, so r.RemoteAddr is the
	// truth; trusting a proxy must be configured, not assumed.
	// The recoverer sits inside the logger so that a panic logs as a 500.
	r.Use(securityHeaders, assignRequestID, logRequests(log), recoverPanics(log))

	// Set before any route so that chi copies them into the /api/v1
	// subrouter as well.
	r.NotFound(s.notFound(p.Web))
	r.MethodNotAllowed(s.methodNotAllowed(r))

	r.Group(func(r chi.Router) {
		r.Use(withDeadline(restTimeout))
		r.Get("/healthz", s.healthz)
		r.Get("/readyz", s.readyz)
		r.Get("/api/openapi.json", serveOpenAPI)
		if p.Metrics != nil {
			r.Method(http.MethodGet, "/metrics", p.Metrics)
		}
	})

	if p.Relay != nil {
		// Outside the deadline, like signaling: it is a WebSocket.
		r.Method(http.MethodGet, "/internal/v1/relay", p.Relay)
	}
	r.Route("/api/v1", func(r chi.Router) {
		if p.Signal != nil {
			// Outside the deadline: a WebSocket lives for hours, and the
			// handler needs the raw ResponseWriter to hijack.
			r.Method(http.MethodGet, "/signal", p.Signal)
		}
		if p.Export != nil {
			// Outside the REST deadline too: an export streams for as
			// long as the download takes, under its own bound.
			r.With(authenticate(auth, log)).Get("/me/export", s.export(p.Export))
		}
		r.Group(func(r chi.Router) {
			r.Use(withDeadline(restTimeout))
			if p.DevSignIn {
				r.Post("/auth/dev", s.devSignIn)
			}
			if p.Guests != nil {
				r.Post("/rooms/{id}/guest-token", s.guestToken)
			}
			if p.Members != nil {
				s.accountRoutes(r)
			}
			r.Group(func(r chi.Router) {
				r.Use(authenticate(auth, log))
				if p.Members != nil {
					s.signedInAccountRoutes(r)
				}
				r.Get("/me", s.me)
				if p.Deletion != nil {
					r.Delete("/me", s.deleteMe(p.Deletion))
				}
				if p.Nodes != nil {
					r.Get("/nodes", s.nodes(p.Nodes))
				}
				r.Post("/rooms", s.createRoom)
				r.Get("/rooms", s.listRooms)
				r.Get("/rooms/{id}", s.withRoom(s.getRoom))
				r.Post("/rooms/{id}/end", s.withRoom(s.endRoom))
				r.Get("/rooms/{id}/hands", s.withRoom(s.hands))
				for _, rt := range stageRoutes {
					r.Method(rt.method, "/rooms/{id}"+rt.path, s.act(rt))
				}
				s.mountRoomData(r)
				s.roomAccessRoutes(r)
				if p.Social != nil {
					s.socialRoutes(r)
				}
			})
		})
	})
	return r
}

var (
	errNoEndpoint = newAPIError(http.StatusNotFound, codeNotFound, "no such endpoint")
	errMethod     = newAPIError(http.StatusMethodNotAllowed, codeMethodNotAllowed, "the endpoint does not take this method")
)

// notFound answers paths no route matched: the API's 404 for API paths,
// the web client for the rest.
func (s *server) notFound(web http.Handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if web != nil && !isAPIPath(r.URL.Path) {
			web.ServeHTTP(w, r)
			return
		}
		writeError(w, r, s.log, errNoEndpoint)
	}
}

// methodNotAllowed answers 405 with the Allow header RFC 9110 §15.5.6
// requires, found by asking the router which methods the path takes.
func (s *server) methodNotAllowed(root *chi.Mux) http.HandlerFunc {
	methods := []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions}
	return func(w http.ResponseWriter, r *http.Request) {
		var allow []string
		for _, m := range methods {
			if root.Match(chi.NewRouteContext(), m, r.URL.Path) {
				allow = append(allow, m)
			}
		}
		if len(allow) > 0 {
			w.Header().Set("Allow", strings.Join(allow, ", "))
		}
		writeError(w, r, s.log, errMethod)
	}
}

type statusBody struct {
	Status string `json:"status"`
}

// healthz says the process runs; it checks nothing else on purpose, so
// that a slow store never gets a live process restarted.
func (s *server) healthz(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, statusBody{Status: "ok"})
}

// readyz says whether the server should get traffic: its stores answer and
// cmd's own check (for example, not shutting down) passes.
func (s *server) readyz(w http.ResponseWriter, r *http.Request) {
	err := s.rooms.Ready(r.Context())
	if err == nil && s.ready != nil {
		err = s.ready(r.Context())
	}
	if err != nil {
		writeError(w, r, s.log, &apiError{
			status: http.StatusServiceUnavailable, code: codeNotReady,
			message: "the server is not ready", cause: err,
		})
		return
	}
	writeJSON(w, http.StatusOK, statusBody{Status: "ready"})
}
