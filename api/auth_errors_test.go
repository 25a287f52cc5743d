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
	"github.com/parley-audio/parley/rooms"
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
		"ErrUnavailable":    members.ErrUnavailable,
		"ErrAccountDeleted": members.ErrAccountDeleted, "ErrWrongPassword": members.ErrWrongPassword,
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
	// The rate limit's wait travels in Retry-After, rounded up, and once,
	// for members' limits and rooms' alike.
	for _, err := range []error{
		&members.RateLimitError{RetryAfter: 1500 * time.Millisecond},
		fmt.Errorf("chat: %w", &rooms.RateLimitError{RetryAfter: 1500 * time.Millisecond}),
	} {
		rec := httptest.NewRecorder()
		writeError(rec, httptest.NewRequest(http.MethodPost, "/api/v1/auth/signin", nil), slog.New(slog.DiscardHandler), err)
		if got := rec.Header().Values("Retry-After"); len(got) != 1 || got[0] != "2" {
			t.Errorf("%v: Retry-After = %q for 1.5 s, want one 2", err, got)
		}
		if rec.Code != http.StatusTooManyRequests {
			t.Errorf("%v: status %d, want 429", err, rec.Code)
		}
	}
}
