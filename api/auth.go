package api

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/parley-audio/parley/members"
)

// principalKey is the context key of the caller's Principal. A private
// type, so no other package can set or clobber it.
type principalKey struct{}

// PrincipalFrom returns the caller that the auth middleware verified.
func PrincipalFrom(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok
}

func withPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// BearerToken returns the token of an "Authorization: Bearer <token>"
// header, or "" when there is none. The scheme is case-insensitive
// (RFC 9110 §11.1); the token is not checked here.
func BearerToken(r *http.Request) string {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(token)
}

var errNoToken = newAPIError(http.StatusUnauthorized, codeUnauthorized, "an Authorization: Bearer token is required")

// SessionChecker says whether a sign-in session's access tokens may still
// be used: members.Service.CheckSession, which answers from memory.
type SessionChecker interface {
	CheckSession(id members.SessionID) error
}

// Authenticator checks the bearer tokens of the REST API and of
// signaling: the signature and expiry (Tokens.Verify), then that the
// token's session has not been signed out. Its zero value is not usable;
// call NewAuthenticator. It keeps no state of its own.
type Authenticator struct {
	tokens *Tokens
	// sessions is nil when there are no sign-in sessions to check: then
	// a session's token is refused.
	sessions SessionChecker
	// devTokens accepts tokens without a session, which only the
	// development sign-in issues.
	devTokens bool
}

// NewAuthenticator returns an Authenticator. sessions may be nil (no
// accounts; only development tokens can pass). devTokens accepts the
// development sign-in's tokens, which belong to no session: turn it off
// with the development sign-in, so that its old tokens stop working too.
func NewAuthenticator(tokens *Tokens, sessions SessionChecker, devTokens bool) *Authenticator {
	return &Authenticator{tokens: tokens, sessions: sessions, devTokens: devTokens}
}

var errDevTokensOff = fmt.Errorf("%w: a development sign-in token, and the development sign-in is off", ErrTokenInvalid)

// Authenticate returns who token names. Its errors wrap ErrTokenExpired,
// ErrTokenInvalid, members.ErrSessionRevoked (signed out), or
// members.ErrUnavailable (revocations could not be read lately, so no
// session token can be vouched for).
func (a *Authenticator) Authenticate(token string) (Principal, error) {
	p, err := a.tokens.Verify(token)
	if err != nil {
		return Principal{}, err
	}
	switch {
	case p.SessionID == "" && !a.devTokens:
		return Principal{}, errDevTokensOff
	case p.SessionID == "":
		return p, nil
	case a.sessions == nil:
		return Principal{}, fmt.Errorf("%w: no sessions to check it against", ErrTokenInvalid)
	}
	if err := a.sessions.CheckSession(p.SessionID); err != nil {
		return Principal{}, err
	}
	return p, nil
}

// authenticate lets a request through only with a valid token, and puts
// its Principal on the request's context.
func authenticate(auth *Authenticator, log *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			token := BearerToken(r)
			if token == "" {
				writeError(w, r, log, errNoToken)
				return
			}
			p, err := auth.Authenticate(token)
			if err != nil {
				writeError(w, r, log, err)
				return
			}
			next.ServeHTTP(w, r.WithContext(withPrincipal(r.Context(), p)))
		})
	}
}
