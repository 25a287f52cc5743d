package members

import (
	"context"
	"errors"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/parley-audio/parley/rooms"
)

// Social errors, beside the package's others (errors.go).
var (
	// ErrMemberNotFound means no active member has that ID: it never
	// existed, is still on the waitlist, or was deleted.
	ErrMemberNotFound = errors.New("member not found")
	// ErrBlocked means a block stands between two members: one cannot
	// follow the other while either blocks the other.
	ErrBlocked = errors.New("a block stands between these members")
)

// Limits on profile fields, in characters.
const (
	MaxHeadlineLen  = 100
	MaxBioLen       = 1000
	MaxAvatarURLLen = 500
)

// ProfileUpdate is a change to a member's own profile: each field that is
// not nil is set, the others are kept.
type ProfileUpdate struct {
	DisplayName *string
	Username    *string
	Headline    *string
	Bio         *string
	AvatarURL   *string
}

// IsEmpty reports whether the update changes nothing.
func (u ProfileUpdate) IsEmpty() bool {
	return u.DisplayName == nil && u.Username == nil && u.Headline == nil && u.Bio == nil && u.AvatarURL == nil
}

// validate checks every field given and returns the update cleaned
// (trimmed, the username folded), or a *ValidationError naming each wrong
// field.
func (u ProfileUpdate) validate() (ProfileUpdate, error) {
	ve := &ValidationError{}
	if u.IsEmpty() {
		ve.add("profile", "give at least one of display_name, username, headline, bio, avatar_url")
		return u, ve
	}
	if u.DisplayName != nil {
		name, err := rooms.CleanDisplayName(*u.DisplayName)
		var rve *rooms.ValidationError
		switch {
		case errors.As(err, &rve):
			ve.add("display_name", rve.Reason)
		case err != nil:
			ve.add("display_name", "is not valid")
		}
		u.DisplayName = &name
	}
	if u.Username != nil {
		name := NormalizeUsername(*u.Username)
		if msg := usernameProblem(name); msg != "" {
			ve.add("username", msg)
		}
		u.Username = &name
	}
	if u.Headline != nil {
		s, msg := cleanProfileText(*u.Headline, MaxHeadlineLen, false)
		if msg != "" {
			ve.add("headline", msg)
		}
		u.Headline = &s
	}
	if u.Bio != nil {
		s, msg := cleanProfileText(*u.Bio, MaxBioLen, true)
		if msg != "" {
			ve.add("bio", msg)
		}
		u.Bio = &s
	}
	if u.AvatarURL != nil {
		s, msg := cleanAvatarURL(*u.AvatarURL)
		if msg != "" {
			ve.add("avatar_url", msg)
		}
		u.AvatarURL = &s
	}
	return u, ve.orNil()
}

// cleanProfileText trims s and says what is wrong with it, or "": too
// long, not UTF-8, control characters (newlines and tabs are allowed in
// multiline text), or invisible formatting characters, which let one text
// pass for another.
func cleanProfileText(s string, maxLen int, multiline bool) (string, string) {
	s = strings.TrimSpace(s)
	if !utf8.ValidString(s) {
		return s, "must be valid UTF-8"
	}
	if utf8.RuneCountInString(s) > maxLen {
		return s, "must be at most " + strconv.Itoa(maxLen) + " characters"
	}
	for _, r := range s {
		if unicode.IsControl(r) && !(multiline && (r == '\n' || r == '\t')) {
			if multiline {
				return s, "must not contain control characters other than new lines and tabs"
			}
			return s, "must be one line, without control characters"
		}
		if unicode.Is(unicode.Cf, r) && r != '\u200d' {
			return s, "must not contain invisible formatting characters"
		}
	}
	return s, ""
}

// cleanAvatarURL checks an avatar's address: empty (no avatar), or an
// absolute http or https URL with a host and no credentials in it, at most
// MaxAvatarURLLen characters. Clients load it as an image, so nothing else
// (javascript:, data:, file:) may get through.
func cleanAvatarURL(s string) (string, string) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", ""
	}
	if len(s) > MaxAvatarURLLen {
		return s, "must be at most " + strconv.Itoa(MaxAvatarURLLen) + " characters"
	}
	for _, r := range s {
		if r <= ' ' || r == 0x7f || !utf8.ValidRune(r) || r > unicode.MaxASCII {
			return s, "must be a URL without spaces or characters outside ASCII (percent-encode them)"
		}
	}
	u, err := url.Parse(s)
	switch {
	case err != nil:
		return s, "must be a URL"
	case u.Scheme != "https" && u.Scheme != "http":
		return s, "must be an http or https URL"
	case u.Host == "" || u.Hostname() == "":
		return s, "must name a host"
	case u.User != nil:
		return s, "must not hold a user name or password"
	}
	return s, ""
}

// Edge is one follow or block, seen from one end: the member at the other
// end and since when.
type Edge struct {
	Member Account
	Since  time.Time
}

// Relation is how one member stands to another.
type Relation struct {
	// Following: the viewer follows them. FollowedBy: they follow the
	// viewer. Blocking: the viewer blocks them. BlockedBy: they block the
	// viewer (never shown to the viewer; it refuses a follow).
	Following, FollowedBy, Blocking, BlockedBy bool
}

// SearchQuery finds active members whose username or display name starts
// with Prefix (already folded: ASCII letters in lower case), in username
// order, after the username AfterUsername, leaving out anyone who blocks
// Viewer.
type SearchQuery struct {
	Viewer        rooms.UserID
	Prefix        string
	AfterUsername string
	Limit         int
}

// SocialStore keeps what members do to each other and their profiles.
// Every row is keyed by member IDs. Lists are newest first, paginated by a
// Cursor on (time, member ID), and show active accounts only.
type SocialStore interface {
	// UpdateProfile applies u (already validated) to an active account
	// and returns it as stored. A username another account holds is
	// ErrUsernameTaken; an account that is missing or not active is
	// ErrAccountNotFound. Nothing changes on an error.
	UpdateProfile(ctx context.Context, id rooms.UserID, u ProfileUpdate) (Account, error)
	// FollowCounts returns how many active members follow id, and how
	// many id follows.
	FollowCounts(ctx context.Context, id rooms.UserID) (followers, following int, err error)
	// Relation says how viewer stands to other.
	Relation(ctx context.Context, viewer, other rooms.UserID) (Relation, error)

	// Follow makes follower follow followee since at. Following again keeps
	// the first time. Both must be active accounts (ErrAccountNotFound);
	// a block either way is ErrBlocked.
	Follow(ctx context.Context, follower, followee rooms.UserID, at time.Time) error
	// Unfollow ends a follow; ending none changes nothing.
	Unfollow(ctx context.Context, follower, followee rooms.UserID) error
	// Followers returns who follows id, newest follow first.
	Followers(ctx context.Context, id rooms.UserID, after Cursor, limit int) ([]Edge, error)
	// Following returns whom id follows, newest follow first.
	Following(ctx context.Context, id rooms.UserID, after Cursor, limit int) ([]Edge, error)

	// Block makes blocker block blocked since at, and ends any follow
	// between them, both ways, in the same step. Blocking again keeps the
	// first time. blocked must be an active account (ErrAccountNotFound).
	Block(ctx context.Context, blocker, blocked rooms.UserID, at time.Time) error
	// Unblock ends a block; ending none changes nothing.
	Unblock(ctx context.Context, blocker, blocked rooms.UserID) error
	// Blocks returns whom blocker blocks, newest block first.
	Blocks(ctx context.Context, blocker rooms.UserID, after Cursor, limit int) ([]Edge, error)

	// Followed returns those of among whom follower follows.
	Followed(ctx context.Context, follower rooms.UserID, among []rooms.UserID) ([]rooms.UserID, error)
	// Blockers returns those of among who block user.
	Blockers(ctx context.Context, user rooms.UserID, among []rooms.UserID) ([]rooms.UserID, error)

	// SearchMembers returns up to q.Limit active members matching q.
	SearchMembers(ctx context.Context, q SearchQuery) ([]Account, error)
}
