package api

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
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

// authenticate lets a request through only with a valid token, and puts
// its Principal on the request's context.
func authenticate(tokens *Tokens, log *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			token := BearerToken(r)
			if token == "" {
				writeError(w, r, log, errNoToken)
				return
			}
			p, err := tokens.Verify(token)
			if err != nil {
				writeError(w, r, log, err)
				return
			}
			next.ServeHTTP(w, r.WithContext(withPrincipal(r.Context(), p)))
		})
	}
}
