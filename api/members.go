package api

import (
	"errors"
	"net/http"
	"time"

	"github.com/parley-audio/parley/rooms"
)

type devSignInRequest struct {
	DisplayName string `json:"display_name"`
}

type signInResponse struct {
	Token     string           `json:"token"`
	ExpiresAt time.Time        `json:"expires_at"`
	Member    rooms.MemberJSON `json:"member"`
}

// devSignIn creates a member and signs them in: POST /api/v1/auth/dev.
func (s *server) devSignIn(w http.ResponseWriter, r *http.Request) {
	var req devSignInRequest
	if err := decodeJSON(w, r, &req); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	m, err := s.rooms.CreateMember(r.Context(), req.DisplayName)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	token, exp, err := s.tokens.Issue(m)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusCreated, signInResponse{Token: token, ExpiresAt: exp, Member: m.JSON()})
}

// me returns the signed-in member: GET /api/v1/me.
func (s *server) me(w http.ResponseWriter, r *http.Request) {
	p, err := principal(r)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	m, err := s.rooms.Member(r.Context(), p.UserID)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusOK, m.JSON())
}

// errNoPrincipal means a handler that needs a caller is mounted outside
// the auth middleware: a wiring bug, hence a 500.
var errNoPrincipal = errors.New("api: no principal on the request; route is missing the auth middleware")

func principal(r *http.Request) (Principal, error) {
	p, ok := PrincipalFrom(r.Context())
	if !ok {
		return Principal{}, errNoPrincipal
	}
	return p, nil
}
