// Package client is a Go client of Parley: the REST calls of docs/api.md
// and a signaling session of docs/protocol.md with a Pion PeerConnection.
// The end-to-end tests and the load generator use it; it is also a working
// reference for native apps.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/parley-audio/parley/rooms"
)

// API calls the REST API.
type API struct {
	BaseURL string // e.g. http://127.0.0.1:8080
	HTTP    *http.Client
	Token   string
}

// APIError is an error answer of the REST API.
type APIError struct {
	Status  int
	Code    string
	Message string
}

func (e *APIError) Error() string { return fmt.Sprintf("%d %s: %s", e.Status, e.Code, e.Message) }

// SignInResult is the answer of the development sign-in.
type SignInResult struct {
	Token     string           `json:"token"`
	ExpiresAt time.Time        `json:"expires_at"`
	Member    rooms.MemberJSON `json:"member"`
}

// DevSignIn signs in with a display name and keeps the token.
func (a *API) DevSignIn(ctx context.Context, name string) (SignInResult, error) {
	var out SignInResult
	err := a.do(ctx, http.MethodPost, "/api/v1/auth/dev", map[string]string{"display_name": name}, &out)
	if err == nil {
		a.Token = out.Token
	}
	return out, err
}

// SignedIn is a signed-in session (docs/api.md, "Authentication").
type SignedIn struct {
	Token            string    `json:"token"`
	ExpiresAt        time.Time `json:"expires_at"`
	RefreshToken     string    `json:"refresh_token"`
	RefreshExpiresAt time.Time `json:"refresh_expires_at"`
	SessionID        string    `json:"session_id"`
	Member           Account   `json:"member"`
}

// Account is a member's account as its owner sees it.
type Account struct {
	ID          rooms.UserID `json:"id"`
	Username    string       `json:"username"`
	DisplayName string       `json:"display_name"`
	Status      string       `json:"status"`
	Admin       bool         `json:"admin"`
	InvitedBy   rooms.UserID `json:"invited_by,omitempty"`
	CreatedAt   time.Time    `json:"created_at"`
}

// SignUp creates an account, with an invite code or ("") onto the
// waitlist. An active account is signed in, and its access token kept; a
// waitlisted one returns a SignedIn with only Member set.
func (a *API) SignUp(ctx context.Context, username, password, displayName, inviteCode string) (SignedIn, error) {
	var out SignedIn
	err := a.do(ctx, http.MethodPost, "/api/v1/auth/signup", map[string]string{
		"username": username, "password": password, "display_name": displayName, "invite_code": inviteCode,
	}, &out)
	if err == nil && out.Token != "" {
		a.Token = out.Token
	}
	return out, err
}

// SignIn signs in with a username and password and keeps the access token.
func (a *API) SignIn(ctx context.Context, username, password string) (SignedIn, error) {
	var out SignedIn
	err := a.do(ctx, http.MethodPost, "/api/v1/auth/signin", map[string]string{"username": username, "password": password}, &out)
	if err == nil {
		a.Token = out.Token
	}
	return out, err
}

// Refresh exchanges a refresh token for new tokens and keeps the access
// token. The old refresh token no longer works.
func (a *API) Refresh(ctx context.Context, refreshToken string) (SignedIn, error) {
	var out SignedIn
	err := a.do(ctx, http.MethodPost, "/api/v1/auth/refresh", map[string]string{"refresh_token": refreshToken}, &out)
	if err == nil {
		a.Token = out.Token
	}
	return out, err
}

// SignOut ends the session of the access token.
func (a *API) SignOut(ctx context.Context) error {
	return a.do(ctx, http.MethodPost, "/api/v1/auth/signout", nil, nil)
}

// NewInvite is an invite just made: its code and sign-up link.
type NewInvite struct {
	Invite struct {
		ID string `json:"id"`
	} `json:"invite"`
	Code string `json:"code"`
	Link string `json:"link"`
}

// CreateInvite makes an invite.
func (a *API) CreateInvite(ctx context.Context) (NewInvite, error) {
	var out NewInvite
	err := a.do(ctx, http.MethodPost, "/api/v1/me/invites", nil, &out)
	return out, err
}

// CreateRoom opens a room.
func (a *API) CreateRoom(ctx context.Context, title, description string) (rooms.RoomJSON, error) {
	return a.CreateRoomWith(ctx, NewRoom{Title: title, Description: description})
}

// NewRoom is the body of POST /api/v1/rooms.
type NewRoom struct {
	Title       string `json:"title"`
	Description string `json:"description,omitempty"`
	// LoudestN: 0 (or absent) the server's default, -1 every speaker,
	// n the n loudest.
	LoudestN int `json:"loudest_n,omitempty"`
	// Visibility: open (or absent), social or closed.
	Visibility string `json:"visibility,omitempty"`
}

// CreateRoomWith opens a room with the given settings.
func (a *API) CreateRoomWith(ctx context.Context, n NewRoom) (rooms.RoomJSON, error) {
	var out rooms.RoomJSON
	err := a.do(ctx, http.MethodPost, "/api/v1/rooms", n, &out)
	return out, err
}

// EndRoom ends a room.
func (a *API) EndRoom(ctx context.Context, id rooms.RoomID) (rooms.RoomJSON, error) {
	var out rooms.RoomJSON
	err := a.do(ctx, http.MethodPost, "/api/v1/rooms/"+url.PathEscape(string(id))+"/end", nil, &out)
	return out, err
}

// RoomList is a page of live rooms.
type RoomList struct {
	Rooms      []rooms.RoomJSON `json:"rooms"`
	NextCursor string           `json:"next_cursor,omitempty"`
}

// LiveRooms lists live rooms.
func (a *API) LiveRooms(ctx context.Context) (RoomList, error) {
	var out RoomList
	err := a.do(ctx, http.MethodGet, "/api/v1/rooms", nil, &out)
	return out, err
}

func (a *API) do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(a.BaseURL, "/")+path, body)
	if err != nil {
		return err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if a.Token != "" {
		req.Header.Set("Authorization", "Bearer "+a.Token)
	}
	hc := a.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	if resp.StatusCode >= 300 {
		var e struct {
			Error struct {
				Code    string `json:"code"`
				Message string `json:"message"`
			} `json:"error"`
		}
		_ = json.Unmarshal(data, &e)
		return &APIError{Status: resp.StatusCode, Code: e.Error.Code, Message: e.Error.Message}
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("%s %s: decode: %w", method, path, err)
		}
	}
	return nil
}

// IsCode reports whether err is an API or protocol error with that code.
func IsCode(err error, code string) bool {
	var a *APIError
	if errors.As(err, &a) {
		return a.Code == code
	}
	var p *ProtocolError
	if errors.As(err, &p) {
		return p.Code == code
	}
	return false
}

// GetText fetches a path and returns the body, for pages and health checks.
func (a *API) GetText(ctx context.Context, path string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(a.BaseURL, "/")+path, nil)
	if err != nil {
		return "", err
	}
	hc := a.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return "", err
	}
	if resp.StatusCode >= 300 {
		return string(b), &APIError{Status: resp.StatusCode}
	}
	return string(b), nil
}

// GetAuthed fetches a path with the token and returns the body.
func (a *API) GetAuthed(ctx context.Context, path string) (string, error) {
	var raw json.RawMessage
	if err := a.do(ctx, http.MethodGet, path, nil, &raw); err != nil {
		return "", err
	}
	return string(raw), nil
}

// ChatPage is a page of a room's chat (docs/api.md, "Chat").
type ChatPage struct {
	Messages    []rooms.ChatMessageJSON `json:"messages"`
	NextCursor  string                  `json:"next_cursor,omitempty"`
	ChatEnabled bool                    `json:"chat_enabled"`
}

// ChatHistory reads a page of a room's chat. query is "" for the newest
// messages, or the query string of a page ("?after=12", "?cursor=...").
func (a *API) ChatHistory(ctx context.Context, id rooms.RoomID, query string) (ChatPage, error) {
	var p ChatPage
	err := a.do(ctx, http.MethodGet, "/api/v1/rooms/"+string(id)+"/chat"+query, nil, &p)
	return p, err
}
