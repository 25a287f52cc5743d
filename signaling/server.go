// Package signaling serves the WebSocket protocol of docs/protocol.md: one
// session per participant, joining rooms through the rooms service and
// driving the SFU's PeerConnections.
package signaling

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/parley-audio/parley/rooms"
	"github.com/parley-audio/parley/sfu"
)

// Rooms is what signaling needs of the rooms service.
type Rooms interface {
	Join(ctx context.Context, id rooms.RoomID, user rooms.UserID, session rooms.SessionID) (rooms.Joined, error)
	Leave(ctx context.Context, id rooms.RoomID, user rooms.UserID, session rooms.SessionID, reason string) error
	Disconnect(ctx context.Context, id rooms.RoomID, user rooms.UserID, session rooms.SessionID) error
	Renew(ctx context.Context, id rooms.RoomID, held []rooms.Held) error
	Snapshot(ctx context.Context, id rooms.RoomID) (rooms.Snapshot, error)
	Act(ctx context.Context, id rooms.RoomID, a rooms.Action) error
	EndRoom(ctx context.Context, actor rooms.UserID, id rooms.RoomID) (rooms.Room, error)
	SetSpeaking(ctx context.Context, id rooms.RoomID, user rooms.UserID, speaking bool)
	Subscribe(id rooms.RoomID, fn func(rooms.Event)) (unsubscribe func())
	Limits() rooms.Limits
	// For a cluster (cluster.go).
	AnnounceMediaSource(ctx context.Context, id rooms.RoomID, node rooms.NodeID) error
	Restore(ctx context.Context, id rooms.RoomID, ps []rooms.Participant, minSeq uint64) error
}

var _ Rooms = (*rooms.Service)(nil)

// Media is what signaling needs of the SFU.
type Media interface {
	NewRouter(p sfu.RouterParams) *sfu.Router
}

var _ Media = (*sfu.SFU)(nil)

// Identity is who a token says the client is.
type Identity struct {
	User rooms.UserID
	Name string
	// Room, when set, is the one room the token admits to: a guest's
	// pass. Joining any other is forbidden.
	Room rooms.RoomID
	// Session is the sign-in session the token belongs to (opaque here),
	// which SignedOut names; empty for a token of none.
	Session string
}

// Authenticator checks a token. It returns ErrTokenExpired for an expired
// token and any other error for one that is not valid.
type Authenticator interface {
	Authenticate(token string) (Identity, error)
}

// ErrTokenExpired is what an Authenticator returns for an expired token.
var ErrTokenExpired = errors.New("token expired")

// Config tunes the signaling server. DefaultConfig gives the documented
// values; a zero field is invalid.
type Config struct {
	// MaxMessageBytes is the largest client message answered normally;
	// larger ones get message_too_large.
	MaxMessageBytes int
	// HardMessageBytes is the size past which the connection is closed.
	HardMessageBytes int64
	// QueueSize is each connection's outgoing queue, in messages.
	QueueSize int
	// WriteTimeout bounds one write, and the close handshake.
	WriteTimeout time.Duration
	// PingInterval and PingTimeout drive keepalive.
	PingInterval time.Duration
	PingTimeout  time.Duration
	// RateLimit (messages a second) and RateBurst bound each client.
	RateLimit float64
	RateBurst int
	// BatchInterval is how often batched audience events are sent.
	BatchInterval time.Duration
	// AllowedOrigins are extra origin patterns (host, or host:port, with
	// path.Match wildcards) browsers may connect from; the server's own
	// origin is always allowed.
	AllowedOrigins []string
}

// DefaultConfig returns the values documented in docs/protocol.md.
func DefaultConfig() Config {
	return Config{
		MaxMessageBytes: 64 << 10, HardMessageBytes: 1 << 20, QueueSize: 256,
		WriteTimeout: 10 * time.Second, PingInterval: 20 * time.Second, PingTimeout: 20 * time.Second,
		RateLimit: 50, RateBurst: 100, BatchInterval: time.Second,
	}
}

// Validate reports the first invalid field.
func (c Config) Validate() error {
	switch {
	case c.MaxMessageBytes <= 0 || int64(c.MaxMessageBytes) > c.HardMessageBytes:
		return fmt.Errorf("signaling: MaxMessageBytes must be > 0 and <= HardMessageBytes")
	case c.QueueSize <= 0:
		return fmt.Errorf("signaling: QueueSize must be > 0")
	case c.WriteTimeout <= 0 || c.PingInterval <= 0 || c.PingTimeout <= 0 || c.BatchInterval <= 0:
		return fmt.Errorf("signaling: timeouts and intervals must be > 0")
	case c.RateLimit <= 0 || c.RateBurst <= 0:
		return fmt.Errorf("signaling: RateLimit and RateBurst must be > 0")
	}
	return nil
}

// Params are NewServer's dependencies.
type Params struct {
	Config Config
	Rooms  Rooms
	Media  Media
	Auth   Authenticator
	Logger *slog.Logger
	// Chat serves the chat messages; nil means Rooms, if it implements
	// Chat (rooms.Service does), else chat answers internal.
	Chat Chat
	// Cluster, when set, makes this server one node of a cluster: joins
	// are placed, audio is relayed between nodes, and Drain moves clients
	// away. ClusterConfig then needs a key.
	Cluster       Cluster
	ClusterConfig ClusterConfig
}

// Server accepts signaling WebSockets. Its zero value is not usable; call
// NewServer.
type Server struct {
	cfg   Config
	rooms Rooms
	chat  Chat
	media Media
	auth  Authenticator
	log   *slog.Logger

	cluster  Cluster // nil on a single node
	ccfg     ClusterConfig
	draining atomic.Bool

	mu       sync.Mutex // guards hubs, sessions, relays, closing and hub refs
	hubs     map[rooms.RoomID]*hub
	sessions map[*session]struct{}
	relays   map[*websocket.Conn]context.CancelFunc // relays served to other nodes
	closing  bool
	wg       sync.WaitGroup // one per running session or served relay

	stopMaintain context.CancelFunc
	maintained   chan struct{} // closed when maintain returns
}

// NewServer returns a signaling server.
func NewServer(p Params) (*Server, error) {
	if err := p.Config.Validate(); err != nil {
		return nil, err
	}
	if p.Rooms == nil || p.Media == nil || p.Auth == nil {
		return nil, errors.New("signaling: Rooms, Media and Auth are required")
	}
	if p.Cluster != nil {
		if err := p.ClusterConfig.Validate(); err != nil {
			return nil, err
		}
	}
	log := p.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if p.Chat == nil {
		p.Chat, _ = p.Rooms.(Chat)
	}
	s := &Server{
		cfg: p.Config, rooms: p.Rooms, chat: p.Chat, media: p.Media, auth: p.Auth, log: log,
		cluster: p.Cluster, ccfg: p.ClusterConfig,
		hubs: make(map[rooms.RoomID]*hub), sessions: make(map[*session]struct{}),
		relays:     make(map[*websocket.Conn]context.CancelFunc),
		maintained: make(chan struct{}),
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.stopMaintain = cancel
	go func() { defer close(s.maintained); s.maintain(ctx) }()
	return s, nil
}

// maintain does the server's periodic work until Shutdown: it sends the
// hubs' batched audience events every BatchInterval, and renews the
// leases on the participants whose connections are here, three times per
// lease, so that a live process never lets them lapse.
func (s *Server) maintain(ctx context.Context) {
	flush := time.NewTicker(s.cfg.BatchInterval)
	defer flush.Stop()
	renewEvery := s.rooms.Limits().LeaseTTL / 3
	if renewEvery <= 0 {
		renewEvery = 10 * time.Second
	}
	renew := time.NewTicker(renewEvery)
	defer renew.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-flush.C:
			for _, h := range s.hubList() {
				h.flush()
			}
		case <-renew.C:
			for _, h := range s.hubList() {
				rctx, cancel := context.WithTimeout(ctx, renewEvery)
				if err := s.rooms.Renew(rctx, h.id, h.held()); err != nil {
					h.log.WarnContext(ctx, "renew leases", "err", err)
				}
				cancel()
			}
		}
	}
}

func (s *Server) hubList() []*hub {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*hub, 0, len(s.hubs))
	for _, h := range s.hubs {
		out = append(out, h)
	}
	return out
}

// ServeHTTP upgrades the request to a signaling session.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	token := bearerToken(r)
	ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{
		Subprotocols:    []string{Subprotocol},
		OriginPatterns:  s.cfg.AllowedOrigins,
		CompressionMode: websocket.CompressionDisabled,
	})
	if err != nil {
		// Accept has already written the HTTP error.
		s.log.DebugContext(r.Context(), "websocket upgrade refused", "err", err)
		return
	}
	ws.SetReadLimit(s.cfg.HardMessageBytes)
	ctx := r.Context()

	id, err := s.auth.Authenticate(token)
	if err != nil {
		code, msg := CodeUnauthorized, "a valid token is required"
		if errors.Is(err, ErrTokenExpired) {
			code, msg = CodeTokenExpired, "the token has expired"
		}
		s.refuse(ctx, ws, code, msg, closeUnauthorized)
		return
	}

	sess := &session{
		srv: s, id: rooms.NewSessionID(), user: id, ws: ws,
		out:   newOutbox(ws, s.cfg.QueueSize, s.cfg.WriteTimeout),
		inbox: make(chan clientMessage), wake: make(chan struct{}, 1),
	}
	sess.log = s.log.With("user", id.User, "session", sess.id)

	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		s.refuse(ctx, ws, CodeInternal, "the server is shutting down", websocket.StatusGoingAway)
		return
	}
	s.sessions[sess] = struct{}{}
	s.wg.Add(1)
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.sessions, sess)
		s.mu.Unlock()
		s.wg.Done()
	}()
	// A sign-out that ran between the check above and the registration
	// did not see this connection: check again now that SignedOut would.
	if id.Session != "" {
		if _, err := s.auth.Authenticate(token); err != nil {
			s.refuse(ctx, ws, CodeUnauthorized, "a valid token is required", closeUnauthorized)
			return
		}
	}

	sess.log.DebugContext(ctx, "session started")
	sess.run(ctx)
	sess.log.DebugContext(ctx, "session ended")
}

// refuse sends one error and closes.
func (s *Server) refuse(ctx context.Context, ws *websocket.Conn, code, msg string, status websocket.StatusCode) {
	wctx, cancel := context.WithTimeout(ctx, s.cfg.WriteTimeout)
	defer cancel()
	_ = ws.Write(wctx, websocket.MessageText, encode(TypeError, "", 0, ErrorPayload{Code: code, Message: msg}))
	_ = ws.Close(status, code)
}

// bearerToken finds the token in the Authorization header or, for
// browsers, in the parley-token subprotocol.
func bearerToken(r *http.Request) string {
	if h := r.Header.Get("Authorization"); h != "" {
		if t, ok := strings.CutPrefix(h, "Bearer "); ok {
			return strings.TrimSpace(t)
		}
		return ""
	}
	for _, v := range r.Header.Values("Sec-WebSocket-Protocol") {
		for _, p := range strings.Split(v, ",") {
			if t, ok := strings.CutPrefix(strings.TrimSpace(p), TokenSubprotocolPrefix); ok {
				return t
			}
		}
	}
	return ""
}

// acquireHub returns the room's hub, creating it (and its SFU router and
// event subscription) for the first local session.
func (s *Server) acquireHub(id rooms.RoomID) *hub {
	s.mu.Lock()
	defer s.mu.Unlock()
	h := s.hubs[id]
	if h == nil {
		h = newHub(id, s.log.With("room", id))
		h.router = s.media.NewRouter(sfu.RouterParams{Logger: h.log, OnSpeaking: h.onSpeaking(s.rooms), OnSources: func() {
			if h.cluster != nil {
				h.cluster.wake()
			}
		}})
		if s.cluster != nil {
			h.cluster = newHubCluster(s, h)
		}
		h.unsubscribe = s.rooms.Subscribe(id, h.onEvent)
		s.hubs[id] = h
	}
	h.refs++
	return h
}

// releaseHub drops one hold on the hub and closes it after the last.
func (s *Server) releaseHub(h *hub) {
	s.mu.Lock()
	h.refs--
	last := h.refs == 0
	if last {
		delete(s.hubs, h.id)
	}
	s.mu.Unlock()
	if last {
		h.unsubscribe()
		if h.cluster != nil {
			h.cluster.close()
		}
		_ = h.router.Close()
	}
}

// SignedOut closes every connection opened with a token of one of these
// sign-in sessions (Identity.Session): goodbye signed_out, then close
// code 4401. Their place in a room is left as a dropped connection's.
func (s *Server) SignedOut(authSessions ...string) {
	if len(authSessions) == 0 {
		return
	}
	gone := make(map[string]bool, len(authSessions))
	for _, id := range authSessions {
		if id != "" {
			gone[id] = true
		}
	}
	s.mu.Lock()
	var list []*session
	for sess := range s.sessions {
		if gone[sess.user.Session] {
			list = append(list, sess)
		}
	}
	s.mu.Unlock()
	for _, sess := range list {
		sess.log.Info("signed out; closing")
		sess.kick(ReasonSignedOut, closeUnauthorized)
	}
}

// Sessions returns the number of open sessions.
func (s *Server) Sessions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sessions)
}

// Shutdown tells every client the server is going away, closes their media
// and waits for their sessions to end, or for ctx. New connections are
// refused from the start. It is safe to call more than once.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closing = true
	list := make([]*session, 0, len(s.sessions))
	for sess := range s.sessions {
		list = append(list, sess)
	}
	s.mu.Unlock()

	for _, sess := range list {
		sess.kick(ReasonServerShutdown, websocket.StatusGoingAway)
	}
	s.mu.Lock()
	for _, cancel := range s.relays {
		cancel()
	}
	s.mu.Unlock()
	s.stopMaintain()
	<-s.maintained
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		s.mu.Lock()
		for sess := range s.sessions {
			_ = sess.ws.CloseNow()
		}
		s.mu.Unlock()
		<-done
		return fmt.Errorf("signaling shutdown: %w", ctx.Err())
	}
}
