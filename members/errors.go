package members

import (
	"errors"
	"strings"
	"time"
)

// Sentinel errors. Callers test them with errors.Is; the api package maps
// them to HTTP statuses (docs/api.md lists the codes).
var (
	// ErrInvalid means the input failed validation. It is wrapped by
	// *ValidationError, which names every field that is wrong.
	ErrInvalid = errors.New("invalid input")
	// ErrUsernameTaken means another account, active or on the waitlist,
	// holds the username.
	ErrUsernameTaken = errors.New("username taken")
	// ErrAccountNotFound means no account has that ID or username. A
	// development sign-in's member has no account either.
	ErrAccountNotFound = errors.New("account not found")
	// ErrNotWaitlisted means the account exists but is not on the waitlist.
	ErrNotWaitlisted = errors.New("account is not on the waitlist")
	// ErrForbidden means the caller may not do this (not an admin, or an
	// account that is not active).
	ErrForbidden = errors.New("forbidden")

	// ErrInviteInvalid means an invite code that was never issued here: a
	// typo, a forgery, or a code of the wrong shape.
	ErrInviteInvalid = errors.New("invite code invalid")
	// ErrInviteUsed means the invite has already been used by someone.
	ErrInviteUsed = errors.New("invite already used")
	// ErrInviteExpired means the invite was not used in time.
	ErrInviteExpired = errors.New("invite expired")
	// ErrInviteRevoked means the invite's creator revoked it.
	ErrInviteRevoked = errors.New("invite revoked")
	// ErrInviteNotFound means the caller has no invite with that ID.
	ErrInviteNotFound = errors.New("invite not found")
	// ErrQuotaExhausted means the member has no invites left to give.
	ErrQuotaExhausted = errors.New("invite quota exhausted")

	// ErrBadCredentials means the username or the password is wrong. Which
	// one is never said, so that sign-in cannot tell who has an account.
	ErrBadCredentials = errors.New("wrong username or password")
	// ErrWaitlisted means the password is right but the account is still on
	// the waitlist.
	ErrWaitlisted = errors.New("account is on the waitlist")
	// ErrRateLimited is wrapped by *RateLimitError, which says when to
	// try again.
	ErrRateLimited = errors.New("too many attempts")

	// ErrRefreshInvalid means a refresh token that was never issued, or
	// whose session has expired or been revoked.
	ErrRefreshInvalid = errors.New("refresh token invalid")
	// ErrRefreshReused means a refresh token that had already been
	// rotated was presented again: it may have been stolen, so its whole
	// session has been revoked.
	ErrRefreshReused = errors.New("refresh token reused; session revoked")
	// ErrSessionNotFound means the account has no such session.
	ErrSessionNotFound = errors.New("session not found")
	// ErrSessionRevoked means the session was signed out, or ended for a
	// reused refresh token: its access tokens are refused.
	ErrSessionRevoked = errors.New("session revoked")

	// ErrUnavailable means the store could not be reached or failed.
	ErrUnavailable = errors.New("members store unavailable")
)

// FieldError is one wrong field of the input, named as the API names it.
type FieldError struct {
	Field   string
	Message string
}

// ValidationError lists every wrong field of one input, so that a client
// can show them all at once rather than one per round trip.
type ValidationError struct {
	Fields []FieldError
}

func (e *ValidationError) Error() string {
	parts := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		parts[i] = f.Field + ": " + f.Message
	}
	return "invalid input: " + strings.Join(parts, "; ")
}

// Is makes errors.Is(err, ErrInvalid) true for every ValidationError.
func (e *ValidationError) Is(target error) bool { return target == ErrInvalid }

// add records a wrong field.
func (e *ValidationError) add(field, message string) {
	e.Fields = append(e.Fields, FieldError{Field: field, Message: message})
}

// orNil returns e when it holds a field, else nil, so that a validator can
// collect into a ValidationError and return it unconditionally.
func (e *ValidationError) orNil() error {
	if len(e.Fields) == 0 {
		return nil
	}
	return e
}

// RateLimitError says that a sign-in was refused for too many failures, and
// when it may be tried again.
type RateLimitError struct {
	RetryAfter time.Duration
}

func (e *RateLimitError) Error() string {
	return "too many attempts; retry after " + e.RetryAfter.String()
}

// Is makes errors.Is(err, ErrRateLimited) true.
func (e *RateLimitError) Is(target error) bool { return target == ErrRateLimited }
