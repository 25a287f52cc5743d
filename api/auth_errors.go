package api

import (
	"errors"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/parley-audio/parley/members"
	"github.com/parley-audio/parley/rooms"
)

// Error codes of accounts, invitations and sessions (docs/api.md).
const (
	codeUsernameTaken      = "username_taken"
	codeInviteInvalid      = "invite_invalid"
	codeInviteUsed         = "invite_used"
	codeInviteExpired      = "invite_expired"
	codeInviteRevoked      = "invite_revoked"
	codeInviteNotFound     = "invite_not_found"
	codeQuotaExhausted     = "invite_quota_exhausted"
	codeAccountNotFound    = "account_not_found"
	codeNotWaitlisted      = "not_waitlisted"
	codeInvalidCredentials = "invalid_credentials"
	codeWaitlisted         = "waitlisted"
	codeRateLimited        = "rate_limited"
	codeRefreshInvalid     = "refresh_invalid"
	codeRefreshReused      = "refresh_reused"
	codeSessionNotFound    = "session_not_found"
	codeSessionRevoked     = "session_revoked"
	codeAccountDeleted     = "account_deleted"
	codeWrongPassword      = "wrong_password"
)

// membersErrors maps members' sentinels to their answers. Validation and
// unavailability are classify's, shared with rooms. The messages are
// fixed: an error's own text may name accounts.
var membersErrors = []struct {
	err     error
	status  int
	code    string
	message string
}{
	{members.ErrUsernameTaken, http.StatusConflict, codeUsernameTaken, "that username is taken"},
	{members.ErrInviteInvalid, http.StatusBadRequest, codeInviteInvalid, "that invite code was never issued here; check it for typos"},
	{members.ErrInviteUsed, http.StatusConflict, codeInviteUsed, "that invite has already been used"},
	{members.ErrInviteExpired, http.StatusConflict, codeInviteExpired, "that invite has expired; ask for a new one"},
	{members.ErrInviteRevoked, http.StatusConflict, codeInviteRevoked, "that invite was revoked by the member who gave it"},
	{members.ErrInviteNotFound, http.StatusNotFound, codeInviteNotFound, "you have no invite with that ID"},
	{members.ErrQuotaExhausted, http.StatusConflict, codeQuotaExhausted, "you have no invites left to give"},
	{members.ErrAccountNotFound, http.StatusNotFound, codeAccountNotFound, "no account has that ID or username"},
	{members.ErrNotWaitlisted, http.StatusConflict, codeNotWaitlisted, "that account is not on the waitlist"},
	{members.ErrForbidden, http.StatusForbidden, codeForbidden, "this action is not yours to take"},
	{members.ErrBadCredentials, http.StatusUnauthorized, codeInvalidCredentials, "wrong username or password"},
	{members.ErrWaitlisted, http.StatusForbidden, codeWaitlisted, "your account is on the waitlist; you can sign in once you are let in"},
	{members.ErrRateLimited, http.StatusTooManyRequests, codeRateLimited, "too many attempts; wait and try again (see Retry-After)"},
	{members.ErrRefreshInvalid, http.StatusUnauthorized, codeRefreshInvalid, "the refresh token is not valid; sign in again"},
	{members.ErrRefreshReused, http.StatusUnauthorized, codeRefreshReused, "the refresh token was already used, so its session was signed out; sign in again"},
	{members.ErrSessionNotFound, http.StatusNotFound, codeSessionNotFound, "you have no session with that ID"},
	{members.ErrSessionRevoked, http.StatusUnauthorized, codeSessionRevoked, "this session was signed out; sign in again"},
	{members.ErrAccountDeleted, http.StatusUnauthorized, codeAccountDeleted, "this account was deleted"},
	{members.ErrWrongPassword, http.StatusForbidden, codeWrongPassword, "that is not your password"},
}

// classifyMembers is classify for members' sentinels.
func classifyMembers(err error) (status int, code, message string, ok bool) {
	for _, m := range membersErrors {
		if errors.Is(err, m.err) {
			return m.status, m.code, m.message, true
		}
	}
	return 0, "", "", false
}

// setRetryAfter tells a rate-limited client when to try again, in whole
// seconds rounded up (RFC 9110 §10.2.3): members' limits (sign-in, the
// directory) and rooms' (joins, guest passes, chat).
func setRetryAfter(w http.ResponseWriter, err error) {
	var ml *members.RateLimitError
	var rl *rooms.RateLimitError
	var wait time.Duration
	switch {
	case errors.As(err, &ml):
		wait = ml.RetryAfter
	case errors.As(err, &rl):
		wait = rl.RetryAfter
	default:
		return
	}
	secs := int(math.Ceil(wait.Seconds()))
	if secs < 1 {
		secs = 1
	}
	w.Header().Set("Retry-After", strconv.Itoa(secs))
}
