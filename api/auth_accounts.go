package api

import (
	"context"
	"net"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/parley-audio/parley/members"
	"github.com/parley-audio/parley/rooms"
)

// MemberService is what the API needs of members.Service: accounts,
// sessions, invites and the waitlist. Like RoomService it is the surface
// of a part of the REST API.
type MemberService interface {
	SessionChecker
	SignUp(ctx context.Context, req members.SignUpRequest) (members.SignUpResult, error)
	SignIn(ctx context.Context, username, password, from string) (members.Grant, error)
	Refresh(ctx context.Context, token string) (members.Grant, error)
	SignOut(ctx context.Context, account rooms.UserID, id members.SessionID) error
	SignOutEverywhere(ctx context.Context, account rooms.UserID) (int, error)
	CreateInvite(ctx context.Context, creator rooms.UserID) (members.NewInvite, error)
	Invites(ctx context.Context, creator rooms.UserID, limit int, cursor string) (members.InvitePage, error)
	RevokeInvite(ctx context.Context, creator rooms.UserID, id members.InviteID) (members.Invite, error)
	LetIn(ctx context.Context, inviter rooms.UserID, username string) (members.Account, error)
	Waitlist(ctx context.Context, actor rooms.UserID, limit int, cursor string) (members.Page[members.Account], error)
	Approve(ctx context.Context, actor, id rooms.UserID) (members.Account, error)
}

var _ MemberService = (*members.Service)(nil)

// accountRoutes mounts the routes that need no token: sign-up, sign-in
// and refresh.
func (s *server) accountRoutes(r chi.Router) {
	r.Post("/auth/signup", s.signUp)
	r.Post("/auth/signin", s.signIn)
	r.Post("/auth/refresh", s.refresh)
}

// signedInAccountRoutes mounts the routes of a signed-in member.
func (s *server) signedInAccountRoutes(r chi.Router) {
	r.Post("/auth/signout", s.signOut)
	r.Post("/auth/signout-all", s.signOutAll)
	r.Get("/me/invites", s.listInvites)
	r.Post("/me/invites", s.createInvite)
	r.Delete("/me/invites/{id}", s.revokeInvite)
	r.Post("/me/let-in", s.letIn)
	r.Get("/admin/waitlist", s.waitlist)
	r.Post("/admin/waitlist/{user_id}/approve", s.approve)
}

// accountJSON is an account as its owner and admins see it.
type accountJSON struct {
	ID          rooms.UserID   `json:"id"`
	Username    string         `json:"username"`
	DisplayName string         `json:"display_name"`
	Status      members.Status `json:"status"`
	Admin       bool           `json:"admin"`
	InvitedBy   rooms.UserID   `json:"invited_by,omitempty"`
	CreatedAt   time.Time      `json:"created_at"`
}

func accountOut(a members.Account) accountJSON {
	return accountJSON{
		ID: a.ID, Username: a.Username, DisplayName: a.DisplayName, Status: a.Status,
		Admin: a.Admin, InvitedBy: a.InvitedBy, CreatedAt: a.CreatedAt,
	}
}

// sessionResponse is a signed-in session: an access token for the API and
// signaling, and the refresh token that gets the next one.
type sessionResponse struct {
	Token            string            `json:"token"`
	ExpiresAt        time.Time         `json:"expires_at"`
	RefreshToken     string            `json:"refresh_token"`
	RefreshExpiresAt time.Time         `json:"refresh_expires_at"`
	SessionID        members.SessionID `json:"session_id"`
	Member           accountJSON       `json:"member"`
}

// grantOut issues the access token of a grant.
func (s *server) grantOut(g members.Grant) (sessionResponse, error) {
	token, exp, err := s.tokens.IssueAccess(g.Account.Member(), g.Session.ID)
	if err != nil {
		return sessionResponse{}, err
	}
	return sessionResponse{
		Token: token, ExpiresAt: exp, RefreshToken: string(g.RefreshToken),
		RefreshExpiresAt: g.Session.ExpiresAt, SessionID: g.Session.ID, Member: accountOut(g.Account),
	}, nil
}

type signUpRequest struct {
	Username    string `json:"username"`
	Password    string `json:"password"`
	DisplayName string `json:"display_name"`
	InviteCode  string `json:"invite_code"`
}

// waitlistedResponse answers a sign-up that joined the waitlist.
type waitlistedResponse struct {
	Member accountJSON `json:"member"`
}

// signUp creates an account: POST /api/v1/auth/signup. With an invite
// code (or as the instance's first account) it is active and signed in:
// 201 with a session. Without one it waits: 202 with the account.
func (s *server) signUp(w http.ResponseWriter, r *http.Request) {
	var req signUpRequest
	if err := decodeJSON(w, r, &req); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	res, err := s.members.SignUp(r.Context(), members.SignUpRequest{
		Username: req.Username, Password: req.Password, DisplayName: req.DisplayName, InviteCode: req.InviteCode,
		From: clientKey(r),
	})
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	if res.Grant == nil {
		writeJSON(w, http.StatusAccepted, waitlistedResponse{Member: accountOut(res.Account)})
		return
	}
	out, err := s.grantOut(*res.Grant)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusCreated, out)
}

type signInRequest struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

// signIn opens a session with a username and password:
// POST /api/v1/auth/signin.
func (s *server) signIn(w http.ResponseWriter, r *http.Request) {
	var req signInRequest
	if err := decodeJSON(w, r, &req); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	g, err := s.members.SignIn(r.Context(), req.Username, req.Password, clientKey(r))
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	out, err := s.grantOut(g)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

type refreshRequest struct {
	RefreshToken string `json:"refresh_token"`
}

// refresh exchanges a refresh token for a new access token and a new
// refresh token: POST /api/v1/auth/refresh. It needs no access token, as
// the one the client had has usually expired.
func (s *server) refresh(w http.ResponseWriter, r *http.Request) {
	var req refreshRequest
	if err := decodeJSON(w, r, &req); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	if req.RefreshToken == "" {
		writeError(w, r, s.log, &members.ValidationError{Fields: []members.FieldError{{Field: "refresh_token", Message: "is required"}}})
		return
	}
	g, err := s.members.Refresh(r.Context(), req.RefreshToken)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	out, err := s.grantOut(g)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// signOut ends the session of the token: POST /api/v1/auth/signout. A
// development token belongs to no session, so there is nothing to end.
func (s *server) signOut(w http.ResponseWriter, r *http.Request) {
	p, err := principal(r)
	if err == nil {
		err = decodeOptionalJSON(w, r, &struct{}{})
	}
	if err == nil && p.SessionID != "" {
		err = s.members.SignOut(r.Context(), p.UserID, p.SessionID)
	}
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// signOutAll ends every session of the caller's account, this one
// included: POST /api/v1/auth/signout-all.
func (s *server) signOutAll(w http.ResponseWriter, r *http.Request) {
	p, err := principal(r)
	if err == nil {
		err = decodeOptionalJSON(w, r, &struct{}{})
	}
	if err == nil {
		_, err = s.members.SignOutEverywhere(r.Context(), p.UserID)
	}
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// clientKey is who a sign-in attempt is counted against: the client's
// address (Parley trusts no forwarding header; see NewHandler). An IPv6
// client is counted by its /64, which one host usually has whole.
func clientKey(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ip := net.ParseIP(host)
	if ip == nil {
		return host
	}
	if ip4 := ip.To4(); ip4 != nil {
		return ip4.String()
	}
	return ip.Mask(net.CIDRMask(64, 128)).String() + "/64"
}
