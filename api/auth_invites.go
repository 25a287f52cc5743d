package api

import (
	"net/http"
	"net/url"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/parley-audio/parley/members"
	"github.com/parley-audio/parley/rooms"
)

// inviteJSON is an invite as its creator sees it. The code is not in it:
// it was shown once, when the invite was made.
type inviteJSON struct {
	ID        members.InviteID    `json:"id"`
	State     members.InviteState `json:"state"`
	CreatedAt time.Time           `json:"created_at"`
	ExpiresAt time.Time           `json:"expires_at"`
	// Direct is an invite spent on someone from the waitlist (let in),
	// which never had a code.
	Direct    bool         `json:"direct"`
	UsedBy    rooms.UserID `json:"used_by,omitempty"`
	UsedAt    *time.Time   `json:"used_at,omitempty"`
	RevokedAt *time.Time   `json:"revoked_at,omitempty"`
}

func inviteOut(i members.Invite, now time.Time) inviteJSON {
	return inviteJSON{
		ID: i.ID, State: i.State(now), CreatedAt: i.CreatedAt, ExpiresAt: i.ExpiresAt, Direct: i.Direct,
		UsedBy: i.UsedBy, UsedAt: timeOrNil(i.UsedAt), RevokedAt: timeOrNil(i.RevokedAt),
	}
}

func timeOrNil(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

type quotaJSON struct {
	Limit int `json:"limit"`
	Used  int `json:"used"`
	Left  int `json:"left"`
}

type inviteListResponse struct {
	Invites    []inviteJSON `json:"invites"`
	NextCursor string       `json:"next_cursor,omitempty"`
	Quota      quotaJSON    `json:"quota"`
}

type newInviteResponse struct {
	Invite inviteJSON `json:"invite"`
	// Code is the secret; Link is the page that signs up with it.
	Code string `json:"code"`
	Link string `json:"link"`
}

// pageParams reads ?limit= (see queryLimit) and ?cursor=.
func pageParams(r *http.Request) (int, string, error) {
	limit, err := queryLimit(r)
	return limit, r.URL.Query().Get("cursor"), err
}

// listInvites lists the caller's invites, newest first, with their quota:
// GET /api/v1/me/invites?limit=&cursor=.
func (s *server) listInvites(w http.ResponseWriter, r *http.Request) {
	p, err := principal(r)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	limit, cursor, err := pageParams(r)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	page, err := s.members.Invites(r.Context(), p.UserID, limit, cursor)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	now := s.now()
	out := inviteListResponse{
		Invites: make([]inviteJSON, len(page.Items)), NextCursor: page.NextCursor,
		Quota: quotaJSON{Limit: page.Quota, Used: page.QuotaUsed, Left: max(page.Quota-page.QuotaUsed, 0)},
	}
	for i, inv := range page.Items {
		out.Invites[i] = inviteOut(inv, now)
	}
	writeJSON(w, http.StatusOK, out)
}

// createInvite makes an invite of the caller's: POST /api/v1/me/invites.
// The answer holds its code and link, which are never shown again.
func (s *server) createInvite(w http.ResponseWriter, r *http.Request) {
	p, err := principal(r)
	if err == nil {
		err = decodeOptionalJSON(w, r, &struct{}{})
	}
	var inv members.NewInvite
	if err == nil {
		inv, err = s.members.CreateInvite(r.Context(), p.UserID)
	}
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	w.Header().Set("Location", "/api/v1/me/invites/"+string(inv.Invite.ID))
	writeJSON(w, http.StatusCreated, newInviteResponse{
		Invite: inviteOut(inv.Invite, inv.Invite.CreatedAt), Code: string(inv.Code), Link: inviteLink(r, inv.Code),
	})
}

// inviteLink is the web client's sign-up page with the code filled in, on
// the origin the request came to. The Host header is the client's to
// choose, but the link goes back to that same client only.
func inviteLink(r *http.Request, code members.InviteCode) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return (&url.URL{Scheme: scheme, Host: r.Host, Path: "/join", RawQuery: url.Values{"invite": {string(code)}}.Encode()}).String()
}

// revokeInvite revokes one of the caller's unused invites:
// DELETE /api/v1/me/invites/{id}.
func (s *server) revokeInvite(w http.ResponseWriter, r *http.Request) {
	p, err := principal(r)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	id, err := members.ParseInviteID(chi.URLParam(r, "id"))
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	inv, err := s.members.RevokeInvite(r.Context(), p.UserID, id)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusOK, inviteOut(inv, s.now()))
}

type letInRequest struct {
	Username string `json:"username"`
}

// letIn spends one of the caller's invites on someone from the waitlist:
// POST /api/v1/me/let-in.
func (s *server) letIn(w http.ResponseWriter, r *http.Request) {
	p, err := principal(r)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	var req letInRequest
	if err := decodeJSON(w, r, &req); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	a, err := s.members.LetIn(r.Context(), p.UserID, req.Username)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusOK, accountOut(a))
}

type waitlistResponse struct {
	Accounts   []accountJSON `json:"accounts"`
	NextCursor string        `json:"next_cursor,omitempty"`
}

// waitlist lists the accounts waiting, oldest first, to an admin:
// GET /api/v1/admin/waitlist?limit=&cursor=.
func (s *server) waitlist(w http.ResponseWriter, r *http.Request) {
	p, err := principal(r)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	limit, cursor, err := pageParams(r)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	page, err := s.members.Waitlist(r.Context(), p.UserID, limit, cursor)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	out := waitlistResponse{Accounts: make([]accountJSON, len(page.Items)), NextCursor: page.NextCursor}
	for i, a := range page.Items {
		out.Accounts[i] = accountOut(a)
	}
	writeJSON(w, http.StatusOK, out)
}

// approve lets someone in from the waitlist, for an admin:
// POST /api/v1/admin/waitlist/{user_id}/approve.
func (s *server) approve(w http.ResponseWriter, r *http.Request) {
	p, err := principal(r)
	if err == nil {
		err = decodeOptionalJSON(w, r, &struct{}{})
	}
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	// Something that is not a user ID is no one's: the service checks
	// the caller first, then finds no account.
	id, _ := rooms.ParseUserID(chi.URLParam(r, "user_id"))
	a, err := s.members.Approve(r.Context(), p.UserID, id)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusOK, accountOut(a))
}
