package signaling

import (
	"context"
	"time"

	"github.com/coder/websocket"

	"github.com/parley-audio/parley/rooms"
)

// Draining reports whether Drain has begun: placement sends nobody here.
func (s *Server) Draining() bool { return s.draining.Load() }

// Drain makes this node leave the cluster gently (docs/cluster.md,
// "Drain"): joins are sent to other nodes from now on, every client in a
// room gets a redirect to the node that should take it (with a ticket, so
// that it keeps its place, role and all, as on any reconnection), and
// clients in no room are told goodbye. It returns when every session has
// ended (the clients moved), or with ctx's error; Shutdown then closes
// what is left. Without a cluster there is nowhere to go, and it returns
// at once.
func (s *Server) Drain(ctx context.Context) error {
	if s.cluster == nil {
		return nil
	}
	s.BeginDrain()
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	for s.Sessions() > 0 {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
	return nil
}

// BeginDrain starts a drain (see Drain) without waiting for it. Only the
// first call counts.
func (s *Server) BeginDrain() {
	if s.cluster == nil || s.draining.Swap(true) {
		return
	}
	s.mu.Lock()
	list := make([]*session, 0, len(s.sessions))
	for sess := range s.sessions {
		list = append(list, sess)
	}
	s.mu.Unlock()
	s.log.Info("draining", "sessions", len(list))
	for _, sess := range list {
		sess.notify(control{drain: true})
	}
}

// drainSession runs on the session's goroutine when the node drains.
func (s *session) drainSession(ctx context.Context) {
	if s.hub == nil {
		s.kick(ReasonServerShutdown, websocket.StatusGoingAway)
		return
	}
	if r := s.srv.redirectFor(ctx, s.hub.id, s.user.User, "", RedirectDraining); r != nil {
		s.out.send(encode(TypeRedirect, "", 0, *r))
		s.log.InfoContext(ctx, "sent to another node", "node", r.NodeID)
	}
}

// redirectFor decides whether a join of room by user belongs elsewhere,
// and returns the redirect to send, or nil to serve it here. A ticket
// this node issued for the user and the room, naming this node, is served
// here unless the node is draining. A registry that cannot be read means
// serving here: placement is an optimization, joining is not.
func (s *Server) redirectFor(ctx context.Context, room rooms.RoomID, user rooms.UserID, ticket string, reason string) *RedirectPayload {
	if s.cluster == nil {
		return nil
	}
	self := s.cluster.Self()
	draining := s.draining.Load()
	if ticket != "" && !draining {
		var c ticketClaims
		if verify(s.ccfg.Key, purposeTicket, ticket, &c) == nil && c.Node == self && c.User == user && c.Room == room && !expired(c.Exp, time.Now()) {
			return nil
		}
	}
	pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	nodes, err := s.cluster.Nodes(pctx)
	if err != nil {
		s.log.WarnContext(ctx, "placement: nodes", "err", err)
		return nil
	}
	holders, err := s.cluster.RoomNodes(pctx, room)
	if err != nil {
		s.log.WarnContext(ctx, "placement: nodes of the room", "err", err)
		return nil
	}
	to := place(s.ccfg.Placement, self, draining, nodes, holders)
	if to == nil {
		return nil
	}
	return &RedirectPayload{
		RoomID: room, URL: signalURL(to.URL), NodeID: to.ID, Reason: reason,
		Ticket: sign(s.ccfg.Key, purposeTicket, ticketClaims{User: user, Room: room, Node: to.ID, Exp: time.Now().Add(tokenTTL).Unix()}),
	}
}

// Rebuild puts back into the live store what this node holds, after the
// store lost its data (docs/cluster.md, "Redis restart"): for every room
// with local members, their records as this node last saw them, and the
// highest seq it saw there.
func (s *Server) Rebuild(ctx context.Context) {
	for _, h := range s.hubList() {
		ps, seq := h.records()
		if len(ps) == 0 {
			continue
		}
		if err := s.rooms.Restore(ctx, h.id, ps, seq); err != nil {
			h.log.WarnContext(ctx, "restore room", "err", err)
			continue
		}
		if h.cluster != nil {
			h.cluster.wake()
		}
	}
}
