package signaling

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/coder/websocket"
	"github.com/pion/webrtc/v4"
	"golang.org/x/time/rate"

	"github.com/parley-audio/parley/rooms"
	"github.com/parley-audio/parley/sfu"
)

// session is one participant's WebSocket. Its handler goroutine runs loop,
// which owns the session's state (the room it is in, its PeerConnection);
// a reader goroutine decodes frames, a writer drains the outbox, and a
// pinger keeps the connection alive. run waits for all three.
type session struct {
	srv  *Server
	id   rooms.SessionID
	user Identity
	ws   *websocket.Conn
	out  *outbox
	log  *slog.Logger

	inbox chan clientMessage

	ctrlMu sync.Mutex // guards ctrl
	ctrl   []control
	wake   chan struct{} // capacity 1: there is something in ctrl

	// gate holds the server's ICE candidates and offers until the answer
	// being made has been queued: Pion gathers while the answer is made, a
	// browser refuses candidates that arrive before the description, and an
	// offer that overtook the answer would look like glare to the client.
	gate candidateGate

	// Owned by loop's goroutine.
	hub         *hub
	room        rooms.Room
	peer        *sfu.Peer
	joinReplyTo string
}

// control is work handed to the session's goroutine by others.
type control struct {
	// gone is a room the session is no longer in: it ended, or the
	// session's participant was removed or expired.
	gone rooms.RoomID
	// drain: the node is draining; send the client elsewhere.
	drain bool
}

func (s *session) notify(c control) {
	s.ctrlMu.Lock()
	s.ctrl = append(s.ctrl, c)
	s.ctrlMu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// kick says goodbye and closes the connection; loop then cleans up.
func (s *session) kick(reason string, code websocket.StatusCode) {
	s.out.send(encode(TypeGoodbye, "", 0, GoodbyePayload{Reason: reason}))
	s.out.close(code, reason)
}

func (s *session) run(ctx context.Context) {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(3)
	go func() {
		defer wg.Done()
		if err := s.out.run(ctx); err != nil && !isClosed(err) {
			s.log.DebugContext(ctx, "writer ended", "err", err)
		}
	}()
	go func() { defer wg.Done(); s.read(ctx) }()
	go func() { defer wg.Done(); s.ping(ctx) }()

	s.out.send(encode(TypeWelcome, "", 0, WelcomePayload{
		Protocol: ProtocolVersion, SessionID: s.id,
		User:            rooms.MemberRef{ID: s.user.User, DisplayName: s.user.Name},
		PingIntervalMS:  s.srv.cfg.PingInterval.Milliseconds(),
		MaxMessageBytes: s.srv.cfg.MaxMessageBytes,
	}))
	s.loop(ctx)
	// A dropped connection keeps its place for the reconnect grace.
	s.leaveRoom(ctx, rooms.ReasonDisconnected)
	s.out.close(websocket.StatusNormalClosure, "")

	// Give the writer a bounded time to flush and close, then tear down.
	select {
	case <-s.writerDone(&wg):
	case <-time.After(s.srv.cfg.WriteTimeout):
	}
	cancel()
	_ = s.ws.CloseNow()
	wg.Wait()
}

// writerDone is closed once the outbox's close handshake has had its
// chance: when every goroutine of the session has finished.
func (s *session) writerDone(wg *sync.WaitGroup) <-chan struct{} {
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	return done
}

func (s *session) loop(ctx context.Context) {
	for {
		select {
		case m, ok := <-s.inbox:
			if !ok {
				return
			}
			s.handle(ctx, m)
		case <-s.wake:
			s.ctrlMu.Lock()
			work := s.ctrl
			s.ctrl = nil
			s.ctrlMu.Unlock()
			for _, c := range work {
				if c.drain {
					s.drainSession(ctx)
				}
				if c.gone != "" && s.hub != nil && s.hub.id == c.gone {
					s.closeMedia()
					s.releaseHub()
					s.room = rooms.Room{}
				}
			}
		case <-s.out.done():
			return
		case <-ctx.Done():
			return
		}
	}
}

// read decodes frames and hands valid messages to loop. Bad input is
// answered here, so it never reaches the session's state.
func (s *session) read(ctx context.Context) {
	defer close(s.inbox)
	lim := rate.NewLimiter(rate.Limit(s.srv.cfg.RateLimit), s.srv.cfg.RateBurst)
	var lastLimited time.Time
	for {
		typ, r, err := s.ws.Reader(ctx)
		if err != nil {
			return
		}
		data, tooBig, err := readLimited(r, s.srv.cfg.MaxMessageBytes)
		if err != nil {
			// Over the hard limit: the library has closed with 1009.
			return
		}
		if !lim.Allow() {
			// Answer a flood with at most one error a second, so that the
			// flood cannot turn into a flood of replies.
			if now := time.Now(); now.Sub(lastLimited) >= time.Second {
				lastLimited = now
				s.sendError("", protoErr(CodeRateLimited, "more than %g messages a second", s.srv.cfg.RateLimit))
			}
			continue
		}
		if tooBig {
			s.sendError("", protoErr(CodeMessageTooLarge, "messages may be at most %d bytes", s.srv.cfg.MaxMessageBytes))
			continue
		}
		if typ != websocket.MessageText {
			s.sendError("", protoErr(CodeInvalidMessage, "messages must be text frames holding JSON"))
			continue
		}
		m, perr := decodeClient(data)
		if perr != nil {
			s.sendError(m.ID, perr)
			continue
		}
		select {
		case s.inbox <- m:
		case <-ctx.Done():
			return
		}
	}
}

// readLimited reads one message of at most limit bytes. A longer one is
// read to its end and discarded, so the connection stays usable.
func readLimited(r io.Reader, limit int) (data []byte, tooBig bool, err error) {
	data, err = io.ReadAll(io.LimitReader(r, int64(limit)+1))
	if err != nil {
		return nil, false, err
	}
	if len(data) > limit {
		if _, err := io.Copy(io.Discard, r); err != nil {
			return nil, true, err
		}
		return nil, true, nil
	}
	return data, false, nil
}

// ping sends a WebSocket ping every interval and closes a connection that
// does not answer in time.
func (s *session) ping(ctx context.Context) {
	t := time.NewTicker(s.srv.cfg.PingInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.out.done():
			return
		case <-t.C:
			pctx, cancel := context.WithTimeout(ctx, s.srv.cfg.PingTimeout)
			err := s.ws.Ping(pctx)
			cancel()
			if err != nil {
				s.out.close(websocket.StatusGoingAway, "ping timeout")
				return
			}
		}
	}
}

func (s *session) sendError(replyTo string, perr *ProtocolError) {
	s.out.send(encode(TypeError, replyTo, 0, ErrorPayload{Code: perr.Code, Message: perr.Message}))
}

func (s *session) reply(replyTo, typ string, payload any) {
	s.out.send(encode(typ, replyTo, 0, payload))
}

func (s *session) handle(ctx context.Context, m clientMessage) {
	var perr *ProtocolError
	switch m.Type {
	case TypePing:
		s.reply(m.ID, TypePong, EmptyPayload{})
		return
	case TypeJoin:
		perr = s.join(ctx, m)
	case TypeLeave:
		if s.hub == nil {
			perr = protoErr(CodeNotJoined, "not in a room")
			break
		}
		id := s.hub.id
		s.leaveRoom(ctx, rooms.ReasonLeft)
		s.reply(m.ID, TypeLeft, LeftPayload{RoomID: id})
	case TypeOffer, TypeAnswer, TypeCandidate:
		if s.peer == nil {
			perr = protoErr(CodeNotJoined, "join a room first")
			break
		}
		perr = s.media(ctx, m)
	case TypeChatSend, TypeChatDelete, TypeSetChat:
		perr = s.chat(ctx, m)
	case TypeEndRoom:
		if s.hub == nil {
			perr = protoErr(CodeNotJoined, "not in a room")
			break
		}
		if _, err := s.srv.rooms.EndRoom(ctx, s.user.User, s.hub.id); err != nil {
			perr = s.actionError(ctx, err)
			break
		}
		s.reply(m.ID, TypeOK, EmptyPayload{})
	default:
		if m.Action == nil {
			break
		}
		if s.hub == nil {
			perr = protoErr(CodeNotJoined, "not in a room")
			break
		}
		a := *m.Action
		a.Actor = s.user.User
		if err := s.srv.rooms.Act(ctx, s.hub.id, a); err != nil {
			perr = s.actionError(ctx, err)
			break
		}
		s.reply(m.ID, TypeOK, EmptyPayload{})
	}
	if perr != nil {
		s.sendError(m.ID, perr)
	}
}

func (s *session) join(ctx context.Context, m clientMessage) *ProtocolError {
	id, err := rooms.ParseRoomID(m.Join.RoomID)
	if s.hub != nil {
		if err == nil && id == s.hub.id {
			return s.resync(ctx, m.ID)
		}
		return protoErr(CodeAlreadyJoined, "already in room %s; leave it first", s.hub.id)
	}
	if err != nil {
		return protoErr(CodeRoomNotFound, "no room has that ID")
	}
	if s.user.Room != "" && id != s.user.Room {
		return protoErr(CodeForbidden, "this guest pass is for another room")
	}
	if r := s.srv.redirectFor(ctx, id, s.user.User, m.Join.Ticket, RedirectPlacement); r != nil {
		s.reply(m.ID, TypeRedirect, *r)
		return nil
	}
	h := s.srv.acquireHub(id)
	if old, oldPeer := h.add(s); old != nil {
		// The same member's older connection here gives way; its peer goes
		// first so that this one can take its media identity.
		if oldPeer != nil {
			_ = oldPeer.Close()
		}
		old.kick(ReasonReplaced, closeReplaced)
	}
	s.hub = h
	s.joinReplyTo = m.ID

	j, err := s.srv.rooms.Join(ctx, id, s.user.User, s.id)
	if err != nil {
		s.releaseHub()
		switch {
		case errors.Is(err, rooms.ErrMemberNotFound):
			return protoErr(CodeUnauthorized, "your account no longer exists")
		case errors.Is(err, rooms.ErrRoomNotFound):
			return protoErr(CodeRoomNotFound, "no room has that ID")
		case errors.Is(err, rooms.ErrRoomEnded):
			return protoErr(CodeRoomEnded, "the room has ended")
		case errors.Is(err, rooms.ErrBlocked):
			return protoErr(CodeBlocked, "you were removed from this room and may not rejoin it")
		case errors.Is(err, rooms.ErrRateLimited):
			var rle *rooms.RateLimitError
			wait := time.Second
			if errors.As(err, &rle) {
				wait = max(rle.RetryAfter.Round(time.Second), time.Second)
			}
			return protoErr(CodeRateLimited, "you joined too many rooms too fast; try again in %s", wait)
		case errors.Is(err, rooms.ErrGuestsDisabled):
			return protoErr(CodeForbidden, "guest listening is off on this server")
		default:
			s.log.ErrorContext(ctx, "join failed", "room", id, "err", err)
			return protoErr(CodeInternal, "could not join the room")
		}
	}
	log := s.log.With("room", id)
	// Every join tells the router the room's setting; it is the same
	// value each time, and the first join of a hub is what sets it.
	h.router.SetLoudestN(j.Room.LoudestN)
	s.gate.reset()
	peer, err := h.router.NewPeer(sfu.PeerID(s.user.User), sfu.PeerParams{
		Logger: log,
		// Server offers pass the same gate as candidates: one made while a
		// client offer is being answered must reach the client after that
		// answer, or the client would take it for glare and drop it.
		OnOffer: func(sdp string) { s.gate.send(s.out, encode(TypeOffer, "", 0, SDPPayload{SDP: sdp})) },
		OnCandidate: func(c *webrtc.ICECandidateInit) {
			s.gate.send(s.out, encode(TypeCandidate, "", 0, candidateOut(c)))
		},
	})
	if err != nil {
		log.ErrorContext(ctx, "create peer", "err", err)
		_ = s.srv.rooms.Leave(ctx, id, s.user.User, s.id, rooms.ReasonLeft)
		s.releaseHub()
		return protoErr(CodeInternal, "could not set up media")
	}
	// Who may publish is decided by rooms (on stage, not muted), applied
	// by the SFU; the hub applies every later change.
	peer.SetPublishAllowed(j.Self.Audible())
	s.peer, s.room = peer, j.Room
	h.setPeer(s, peer)
	h.activate(s, j, s.srv.rooms.Limits().StageCap)
	log.InfoContext(ctx, "joined", "role", j.Self.Role)
	return nil
}

// resync answers a join of the room the session is already in with a
// fresh snapshot, leaving media alone: it is how a client that saw a gap in
// seq catches up without dropping audio. Events are held from before the
// snapshot is read, and those it already covers are dropped, exactly as on
// a first join.
func (s *session) resync(ctx context.Context, replyTo string) *ProtocolError {
	s.hub.hold(s)
	s.joinReplyTo = replyTo
	snap, err := s.srv.rooms.Snapshot(ctx, s.hub.id)
	var self *rooms.Participant
	for i := range snap.Participants {
		if snap.Participants[i].UserID == s.user.User && snap.Participants[i].Session == s.id {
			self = &snap.Participants[i]
		}
	}
	if err != nil || self == nil {
		// Gone from the room (removed, replaced, or the room ended): the
		// events said so; leave cleanly.
		s.closeMedia()
		s.releaseHub()
		if err != nil && !errors.Is(err, rooms.ErrRoomEnded) && !errors.Is(err, rooms.ErrRoomNotFound) {
			s.log.ErrorContext(ctx, "resync failed", "err", err)
			return protoErr(CodeInternal, "could not read the room")
		}
		return protoErr(CodeNotJoined, "you are no longer in this room")
	}
	s.hub.activate(s, rooms.Joined{Room: s.room, Self: *self, Snapshot: snap}, s.srv.rooms.Limits().StageCap)
	return nil
}

// actionError maps a refusal from rooms to its protocol error.
func (s *session) actionError(ctx context.Context, err error) *ProtocolError {
	var verr *rooms.ValidationError
	for _, c := range []struct {
		target error
		code   string
	}{
		{rooms.ErrForbidden, CodeForbidden}, {rooms.ErrNotParticipant, CodeNotInRoom},
		{rooms.ErrStageFull, CodeStageFull}, {rooms.ErrHandsDisabled, CodeHandsDisabled},
		{rooms.ErrNotInvited, CodeNotInvited}, {rooms.ErrAlreadyOnStage, CodeAlreadyOnStage},
		{rooms.ErrNotOnStage, CodeNotOnStage}, {rooms.ErrRoomEnded, CodeRoomEnded},
		{rooms.ErrRoomNotFound, CodeRoomNotFound},
	} {
		if errors.Is(err, c.target) {
			return protoErr(c.code, "%s", err.Error())
		}
	}
	if errors.As(err, &verr) {
		return protoErr(CodeInvalidMessage, "%s", verr.Error())
	}
	s.log.ErrorContext(ctx, "action failed", "err", err)
	return protoErr(CodeInternal, "the action failed")
}

func (s *session) media(ctx context.Context, m clientMessage) *ProtocolError {
	switch m.Type {
	case TypeOffer:
		s.gate.hold()
		answer, err := s.peer.HandleOffer(ctx, m.SDP.SDP)
		if err != nil {
			s.gate.release(s.out)
			return mediaError(err)
		}
		s.reply(m.ID, TypeAnswer, SDPPayload{SDP: answer})
		s.gate.release(s.out)
	case TypeAnswer:
		if err := s.peer.HandleAnswer(ctx, m.SDP.SDP); err != nil {
			return mediaError(err)
		}
	case TypeCandidate:
		if err := s.peer.AddICECandidate(candidateIn(m.Candidate)); err != nil {
			return mediaError(err)
		}
	}
	return nil
}

func mediaError(err error) *ProtocolError {
	switch {
	case errors.Is(err, sfu.ErrInvalidSDP):
		return protoErr(CodeInvalidSDP, "%s", err.Error())
	case errors.Is(err, sfu.ErrNoPendingOffer):
		return protoErr(CodeNoPendingOffer, "the server has no offer outstanding")
	case errors.Is(err, sfu.ErrInvalidCandidate):
		return protoErr(CodeInvalidCandidate, "%s", err.Error())
	case errors.Is(err, sfu.ErrClosed):
		return protoErr(CodeNotJoined, "the connection to the room has closed")
	default:
		return protoErr(CodeInternal, "media error")
	}
}

func candidateIn(p *CandidatePayload) webrtc.ICECandidateInit {
	return webrtc.ICECandidateInit{Candidate: p.Candidate, SDPMid: p.SDPMid, SDPMLineIndex: p.SDPMLineIndex, UsernameFragment: p.UsernameFragment}
}

func candidateOut(c *webrtc.ICECandidateInit) CandidatePayload {
	if c == nil {
		return CandidatePayload{}
	}
	return CandidatePayload{Candidate: c.Candidate, SDPMid: c.SDPMid, SDPMLineIndex: c.SDPMLineIndex, UsernameFragment: c.UsernameFragment}
}

// leaveRoom closes the session's media and takes it out of its room.
func (s *session) leaveRoom(ctx context.Context, reason string) {
	if s.hub == nil {
		return
	}
	id := s.hub.id
	s.closeMedia()
	s.releaseHub()
	s.room = rooms.Room{}
	// The room must hear of the departure even when ctx has ended, as it
	// has during shutdown.
	lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	var err error
	if reason == rooms.ReasonDisconnected {
		err = s.srv.rooms.Disconnect(lctx, id, s.user.User, s.id)
	} else {
		err = s.srv.rooms.Leave(lctx, id, s.user.User, s.id, reason)
	}
	if err != nil {
		s.log.WarnContext(ctx, "leave failed", "room", id, "reason", reason, "err", err)
	}
}

func (s *session) closeMedia() {
	if s.peer != nil {
		_ = s.peer.Close()
		s.peer = nil
	}
}

func (s *session) releaseHub() {
	if s.hub != nil {
		s.hub.remove(s)
		s.srv.releaseHub(s.hub)
		s.hub = nil
	}
}

// candidateGate queues frames while held and sends them, in order, on
// release. It starts held: no candidate may precede the first answer.
type candidateGate struct {
	mu      sync.Mutex // guards open and pending
	open    bool
	pending [][]byte
}

func (g *candidateGate) hold() {
	g.mu.Lock()
	g.open = false
	g.mu.Unlock()
}

// reset holds the gate and forgets what a previous PeerConnection left.
func (g *candidateGate) reset() {
	g.mu.Lock()
	g.open, g.pending = false, nil
	g.mu.Unlock()
}

func (g *candidateGate) send(out *outbox, frame []byte) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.open {
		g.pending = append(g.pending, frame)
		return
	}
	out.send(frame)
}

func (g *candidateGate) release(out *outbox) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, f := range g.pending {
		out.send(f)
	}
	g.pending, g.open = nil, true
}
