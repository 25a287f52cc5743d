package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/parley-audio/parley/signaling"
)

// RedirectError is a join answered with a redirect: another node of the
// cluster serves it (docs/protocol.md, "Clusters").
type RedirectError struct {
	Redirect signaling.RedirectPayload
}

func (e *RedirectError) Error() string {
	return fmt.Sprintf("redirected to node %s (%s): %s", e.Redirect.NodeID, e.Redirect.Reason, e.Redirect.URL)
}

// maxRedirects bounds how many redirects Connect follows.
const maxRedirects = 3

// Connect dials the node at baseURL and joins the room, following the
// redirects of a cluster to the node that serves it. The session it
// returns is joined; the sessions it left are closed.
func Connect(ctx context.Context, baseURL, token, roomID string, opts Options) (*Session, signaling.JoinedPayload, error) {
	s, err := Dial(ctx, baseURL, token, opts)
	if err != nil {
		return nil, signaling.JoinedPayload{}, err
	}
	return s.JoinFollowing(ctx, roomID, token)
}

// JoinFollowing joins the room, and when the node redirects, closes this
// session and joins on the node named, with the redirect's ticket (at
// most maxRedirects times). It returns the session that joined; on error
// every session it opened is closed.
func (s *Session) JoinFollowing(ctx context.Context, roomID, token string) (*Session, signaling.JoinedPayload, error) {
	ticket := ""
	for i := 0; ; i++ {
		j, err := s.JoinWithTicket(ctx, roomID, ticket)
		var r *RedirectError
		if !errors.As(err, &r) || i == maxRedirects {
			if err != nil {
				_ = s.Close()
				return nil, j, err
			}
			return s, j, nil
		}
		_ = s.Close()
		if s, err = DialURL(ctx, r.Redirect.URL, token, s.opts); err != nil {
			return nil, j, err
		}
		ticket = r.Redirect.Ticket
	}
}

// Redirects returns the redirects the server sent without being asked:
// the node is draining, and the client should move.
func (s *Session) Redirects() []signaling.RedirectPayload {
	var out []signaling.RedirectPayload
	for _, e := range s.Events() {
		if e.Type != signaling.TypeRedirect || e.ReplyTo != "" {
			continue
		}
		var r signaling.RedirectPayload
		if json.Unmarshal(e.Payload, &r) == nil {
			out = append(out, r)
		}
	}
	return out
}

// Move follows a redirect: it connects to the node it names, joins the
// room there with its ticket (the place, role and all, moves to the new
// session, as on any reconnection) and starts media, then closes this
// session. It returns the new session.
func (s *Session) Move(ctx context.Context, r signaling.RedirectPayload, token string, mo MediaOptions) (*Session, signaling.JoinedPayload, error) {
	n, err := DialURL(ctx, r.URL, token, s.opts)
	if err != nil {
		return nil, signaling.JoinedPayload{}, err
	}
	j, err := n.JoinWithTicket(ctx, string(r.RoomID), r.Ticket)
	if err == nil {
		err = n.StartMedia(ctx, mo)
	}
	if err != nil {
		_ = n.Close()
		return nil, j, err
	}
	_ = s.Close()
	return n, j, nil
}
