package client

import (
	"context"
	"net/http"
	"net/url"
	"time"

	"github.com/parley-audio/parley/rooms"
)

// Call makes any REST call of docs/api.md: in, when not nil, is sent as
// the JSON body, and the answer is decoded into out, when not nil. An
// error answer is an *APIError.
func (a *API) Call(ctx context.Context, method, path string, in, out any) error {
	return a.do(ctx, method, path, in, out)
}

// GuestPass is a guest pass: a token for the signaling WebSocket that
// admits one guest, listen-only, to one open room.
type GuestPass struct {
	Token     string          `json:"token"`
	ExpiresAt time.Time       `json:"expires_at"`
	Guest     rooms.MemberRef `json:"guest"`
	Room      rooms.RoomJSON  `json:"room"`
}

// GuestToken asks for a guest pass to an open room, without signing in
// (the API's own token, if any, is not sent).
func (a *API) GuestToken(ctx context.Context, room rooms.RoomID) (GuestPass, error) {
	anon := &API{BaseURL: a.BaseURL, HTTP: a.HTTP}
	var out GuestPass
	err := anon.do(ctx, http.MethodPost, "/api/v1/rooms/"+url.PathEscape(string(room))+"/guest-token", nil, &out)
	return out, err
}
