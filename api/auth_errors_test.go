package api

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/parley-audio/parley/members"
)

// Every sentinel of members/errors.go has its own answer: none falls
// through to 500 internal. The list is checked against the file, so a new
// sentinel without a mapping fails here.
func TestEveryMembersErrorHasAnAnswer(t *testing.T) {
	sentinels := map[string]error{
		"ErrInvalid": members.ErrInvalid, "ErrUsernameTaken": members.ErrUsernameTaken,
		"ErrAccountNotFound": members.ErrAccountNotFound, "ErrNotWaitlisted": members.ErrNotWaitlisted,
		"ErrForbidden": members.ErrForbidden, "ErrInviteInvalid": members.ErrInviteInvalid,
		"ErrInviteUsed": members.ErrInviteUsed, "ErrInviteExpired": members.ErrInviteExpired,
		"ErrInviteRevoked": members.ErrInviteRevoked, "ErrInviteNotFound": members.ErrInviteNotFound,
		"ErrQuotaExhausted": members.ErrQuotaExhausted, "ErrBadCredentials": members.ErrBadCredentials,
		"ErrWaitlisted": members.ErrWaitlisted, "ErrRateLimited": members.ErrRateLimited,
		"ErrRefreshInvalid": members.ErrRefreshInvalid, "ErrRefreshReused": members.ErrRefreshReused,
		"ErrSessionNotFound": members.ErrSessionNotFound, "ErrSessionRevoked": members.ErrSessionRevoked,
		"ErrUnavailable": members.ErrUnavailable,
	}
	f, err := parser.ParseFile(token.NewFileSet(), "../members/errors.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	ast.Inspect(f, func(n ast.Node) bool {
		if vs, ok := n.(*ast.ValueSpec); ok {
			for _, id := range vs.Names {
				if strings.HasPrefix(id.Name, "Err") {
					if _, ok := sentinels[id.Name]; !ok {
						t.Errorf("members.%s has no answer checked here: map it in api/auth_errors.go and add it to this test", id.Name)
					}
				}
			}
		}
		return true
	})
	codes := map[string]string{}
	for name, sentinel := range sentinels {
		status, code, msg := classify(fmt.Errorf("wrapped: %w", sentinel))
		if status == http.StatusInternalServerError || code == codeInternal || msg == "" {
			t.Errorf("members.%s answers %d %s", name, status, code)
		}
		if other, ok := codes[code]; ok && code != codeForbidden {
			t.Errorf("members.%s and members.%s share the code %s", name, other, code)
		}
		codes[code] = name
	}
	// The rate limit's wait travels in Retry-After, rounded up.
	rec := httptest.NewRecorder()
	writeError(rec, httptest.NewRequest(http.MethodPost, "/api/v1/auth/signin", nil), slog.New(slog.DiscardHandler),
		&members.RateLimitError{RetryAfter: 1500 * time.Millisecond})
	if got := rec.Header().Get("Retry-After"); got != "2" {
		t.Errorf("Retry-After = %q for 1.5 s, want 2", got)
	}
}
