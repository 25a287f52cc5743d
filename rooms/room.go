package rooms

import (
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Role is a participant's place in a room.
type Role string

// The roles. Moderators are on stage too.
const (
	RoleModerator Role = "moderator"
	RoleSpeaker   Role = "speaker"
	RoleListener  Role = "listener"
)

// OnStage reports whether the role puts its holder on the stage.
func (r Role) OnStage() bool { return r == RoleModerator || r == RoleSpeaker }

// CanPublish reports whether a participant with this role may send audio
// into the room. This is the one place that decides it; the SFU applies it.
func (r Role) CanPublish() bool { return r.OnStage() }

// Member is a person with an account on this instance.
type Member struct {
	ID          UserID
	DisplayName string
	CreatedAt   time.Time
}

// Room is the durable record of a room.
type Room struct {
	ID          RoomID
	Title       string
	Description string
	// Visibility says who may see and join it; reads never leave it
	// empty.
	Visibility Visibility
	CreatedBy  UserID
	// HostName is the creator's display name, filled in by reads.
	HostName  string
	CreatedAt time.Time
	// EndedAt is zero while the room is live.
	EndedAt time.Time
	// LoudestN is how many speakers the room forwards at once, the
	// loudest by audio level: 0 the server's default, -1 every speaker.
	LoudestN int
	// Cohosts join the room as moderators, as its creator does. Only a
	// room opened by an event has them (the event's co-hosts).
	Cohosts []UserID
	// ChatDisabled is set while a moderator has turned chat off.
	ChatDisabled bool
}

// IsHost reports whether u is the room's creator or one of its co-hosts.
func (r Room) IsHost(u UserID) bool {
	if u == r.CreatedBy {
		return true
	}
	for _, c := range r.Cohosts {
		if c == u {
			return true
		}
	}
	return false
}

// Live reports whether the room has not ended.
func (r Room) Live() bool { return r.EndedAt.IsZero() }

// Participant is a member present in a live room.
type Participant struct {
	UserID      UserID
	DisplayName string
	Role        Role
	JoinedAt    time.Time
	// Muted is a mute on stage, set by themselves or a moderator; only they
	// can lift it.
	Muted bool
	// Invited is a pending invitation to speak.
	Invited bool
	// HandSeq is 0 when the hand is down, otherwise the room's sequence
	// number when it went up: the queue is in HandSeq order.
	HandSeq uint64
	// StageSince is when they went on stage; the longest-serving speaker
	// succeeds the last moderator.
	StageSince time.Time
	// Session is the signaling session that holds the participant's place.
	Session SessionID
}

// Audible reports whether the participant's audio may be forwarded: on
// stage and not muted. This is the decision the SFU applies.
func (p Participant) Audible() bool { return p.Role.CanPublish() && !p.Muted }

// Counts are a live room's head counts. Speakers counts everyone on stage,
// moderators included; Listeners everyone else, guests included; Guests
// the guests among the listeners.
type Counts struct {
	Speakers  int
	Listeners int
	Guests    int
}

// RoomView is a room with its live head counts.
type RoomView struct {
	Room
	Counts
}

// Limits on user-supplied text, in characters.
const (
	MaxTitleLen       = 120
	MaxDescriptionLen = 2000
	MaxDisplayNameLen = 64
)

// cleanText trims s and checks its length and that it holds no control
// characters (newlines are allowed only when multiline is true).
func cleanText(field, s string, minLen, maxLen int, multiline bool) (string, error) {
	s = strings.TrimSpace(s)
	if !utf8.ValidString(s) {
		return "", &ValidationError{Field: field, Reason: "must be valid UTF-8"}
	}
	n := utf8.RuneCountInString(s)
	if n < minLen {
		if minLen == 1 {
			return "", &ValidationError{Field: field, Reason: "must not be empty"}
		}
		return "", &ValidationError{Field: field, Reason: "is too short"}
	}
	if n > maxLen {
		return "", &ValidationError{Field: field, Reason: "must be at most " + strconv.Itoa(maxLen) + " characters"}
	}
	for _, r := range s {
		if unicode.IsControl(r) && !(multiline && (r == '\n' || r == '\t')) {
			return "", &ValidationError{Field: field, Reason: "must not contain control characters"}
		}
		// Invisible format characters (bidi overrides, zero-width spaces)
		// let one name pass for another. The zero-width joiner stays: emoji
		// sequences need it.
		if unicode.Is(unicode.Cf, r) && r != '\u200d' {
			return "", &ValidationError{Field: field, Reason: "must not contain invisible formatting characters"}
		}
	}
	return s, nil
}

// CleanDisplayName validates and normalizes a display name.
func CleanDisplayName(s string) (string, error) {
	return cleanText("display_name", s, 1, MaxDisplayNameLen, false)
}
