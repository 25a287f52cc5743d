// Package members is Parley's durable community data: accounts, invitations,
// sign-in sessions, and (later) profiles, follows, blocks and what a member
// owns. Live room state is rooms'; members only tells rooms who a member is
// (through Identities), and rooms never imports members.
package members

import (
	"errors"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/parley-audio/parley/rooms"
)

// Status is where an account stands.
type Status string

// The statuses. A waitlisted account holds its username but cannot sign
// in; a deleted one is kept only as a tombstone of its ID.
const (
	StatusActive     Status = "active"
	StatusWaitlisted Status = "waitlisted"
	StatusDeleted    Status = "deleted"
)

// Account is a person's account on this instance. Its ID is the same
// rooms.UserID that rooms knows them by.
type Account struct {
	ID rooms.UserID
	// Username is lowercase, unique, and reserved from sign-up on, even
	// while the account waits on the waitlist.
	Username    string
	DisplayName string
	// Headline (role and company), Bio and AvatarURL are the profile;
	// they are stored from the start and edited by later work.
	Headline  string
	Bio       string
	AvatarURL string
	Admin     bool
	Status    Status
	// InvitedBy is who let them in with an invite; empty for the first
	// account, an admin's approval, or `parley admin create`.
	InvitedBy rooms.UserID
	CreatedAt time.Time
}

// Member is the account as rooms knows it.
func (a Account) Member() rooms.Member {
	return rooms.Member{ID: a.ID, DisplayName: a.DisplayName, CreatedAt: a.CreatedAt}
}

// Limits on sign-up fields.
const (
	MinUsernameLen = 3
	MaxUsernameLen = 30
	MinPasswordLen = 10
	MaxPasswordLen = 256
)

// NormalizeUsername folds a username to the form it is stored and compared
// in. It does not validate; see validUsername.
func NormalizeUsername(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// usernameProblem says what is wrong with a normalized username, or "".
func usernameProblem(u string) string {
	if len(u) < MinUsernameLen || len(u) > MaxUsernameLen {
		return "must be 3 to 30 characters"
	}
	for i := 0; i < len(u); i++ {
		c := u[i]
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '_' {
			return "may only contain letters a-z, digits and _"
		}
	}
	return ""
}

// passwordProblem says what is wrong with a password, or "". Its length
// is in characters; nothing else is asked of it (NIST SP 800-63B: length
// matters, composition rules do not). The upper bound keeps hashing cheap
// to call.
func passwordProblem(p string) string {
	if !utf8.ValidString(p) {
		return "must be valid UTF-8"
	}
	n := utf8.RuneCountInString(p)
	if n < MinPasswordLen {
		return "must be at least 10 characters"
	}
	if n > MaxPasswordLen {
		return "must be at most 256 characters"
	}
	return ""
}

// SignUpRequest is what a person gives to sign up.
type SignUpRequest struct {
	Username    string
	Password    string
	DisplayName string
	// InviteCode is optional: without one the account joins the waitlist.
	InviteCode string
	// From is the client's address: sign-ups count against its sign-in
	// attempts (Config.SignInPerAddress), as each costs a password hash
	// and a waitlist spammer must not fill the list. Empty: not counted
	// (`parley admin`).
	From string
}

// validate checks every field and returns the cleaned request, or a
// *ValidationError naming each wrong field.
func (r SignUpRequest) validate() (SignUpRequest, error) {
	ve := &ValidationError{}
	r.Username = NormalizeUsername(r.Username)
	if msg := usernameProblem(r.Username); msg != "" {
		ve.add("username", msg)
	}
	if msg := passwordProblem(r.Password); msg != "" {
		ve.add("password", msg)
	}
	name, err := rooms.CleanDisplayName(r.DisplayName)
	var rve *rooms.ValidationError
	switch {
	case errors.As(err, &rve):
		ve.add("display_name", rve.Reason)
	case err != nil:
		ve.add("display_name", "is not valid")
	}
	r.DisplayName = name
	return r, ve.orNil()
}
