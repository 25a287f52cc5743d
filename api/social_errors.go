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

// Error codes of profiles, follows, blocks, room access and guests, as
// listed in docs/api.md.
const (
	codeMemberNotFound = "member_not_found"
	codeRateLimited    = "rate_limited"
	codeUsernameTaken  = "username_taken"
)

var errNoMember = newAPIError(http.StatusNotFound, codeMemberNotFound, "no member has that ID")

// classifySocial maps the errors of members.Social and of rooms' access
// rules; ok is false for any other error. classify asks it first: none of
// these errors is, or wraps, another that classify knows.
func classifySocial(err error) (status int, code, message string, ok bool) {
	switch {
	case errors.Is(err, members.ErrMemberNotFound), errors.Is(err, rooms.ErrNoSuchMember):
		return http.StatusNotFound, codeMemberNotFound, "no member has that ID", true
	case errors.Is(err, members.ErrBlocked):
		return http.StatusForbidden, codeBlocked, "a block stands between you and this member; unblock them first", true
	case errors.Is(err, members.ErrUsernameTaken):
		return http.StatusConflict, codeUsernameTaken, "that username is taken", true
	case errors.Is(err, rooms.ErrRateLimited), errors.Is(err, members.ErrRateLimited):
		return http.StatusTooManyRequests, codeRateLimited, "too many requests; try again after Retry-After seconds", true
	case errors.Is(err, rooms.ErrGuestsDisabled):
		return http.StatusForbidden, codeForbidden, "this server does not let guests listen", true
	}
	return 0, "", "", false
}

// retryAfter returns how long a rate-limited client should wait, if err
// says.
func retryAfter(err error) (time.Duration, bool) {
	var re *rooms.RateLimitError
	var me *members.RateLimitError
	switch {
	case errors.As(err, &re):
		return re.RetryAfter, true
	case errors.As(err, &me):
		return me.RetryAfter, true
	}
	return 0, false
}

// setRetryAfter sets Retry-After (RFC 9110 §10.2.3), in whole seconds
// rounded up, on a rate-limited answer.
func setRetryAfter(w http.ResponseWriter, err error) {
	if d, ok := retryAfter(err); ok {
		w.Header().Set("Retry-After", strconv.Itoa(max(1, int(math.Ceil(d.Seconds())))))
	}
}
