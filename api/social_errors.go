package api

import (
	"errors"
	"net/http"

	"github.com/parley-audio/parley/members"
	"github.com/parley-audio/parley/rooms"
)

// Error codes of profiles, follows, blocks, room access and guests, as
// listed in docs/api.md.
// (rate_limited and username_taken are the accounts' too: auth_errors.go.)
const (
	codeMemberNotFound = "member_not_found"
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
	case errors.Is(err, rooms.ErrRateLimited):
		return http.StatusTooManyRequests, codeRateLimited, "too many requests; try again after Retry-After seconds", true
	case errors.Is(err, rooms.ErrGuestsDisabled):
		return http.StatusForbidden, codeForbidden, "this server does not let guests listen", true
	}
	return 0, "", "", false
}
