package rooms

import (
	"crypto/rand"
	"encoding/base32"
	"fmt"
	"strings"
)

// RoomID identifies a room. It is 128 random bits, so room IDs cannot be
// guessed or enumerated (Clubhouse's sequential IDs let scrapers walk every
// record).
type RoomID string

// UserID identifies a member. Random for the same reason as RoomID.
type UserID string

// SessionID identifies one signaling connection of a member. A member who
// reconnects gets a new session; the newest session wins.
type SessionID string

const (
	roomPrefix    = "rm_"
	userPrefix    = "usr_"
	sessionPrefix = "ses_"
	// idBytes random bytes encode to idChars lowercase base32 characters.
	idBytes = 16
	idChars = 26
)

var idEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

func newID(prefix string) string {
	var b [idBytes]byte
	// crypto/rand.Read never returns an error on supported platforms (Go 1.24+).
	_, _ = rand.Read(b[:])
	return prefix + idEncoding.EncodeToString(b[:])
}

// NewRoomID returns a fresh random room ID.
func NewRoomID() RoomID { return RoomID(newID(roomPrefix)) }

// NewUserID returns a fresh random user ID.
func NewUserID() UserID { return UserID(newID(userPrefix)) }

// NewSessionID returns a fresh random session ID.
func NewSessionID() SessionID { return SessionID(newID(sessionPrefix)) }

// ParseRoomID checks that s has the shape of a room ID, so that garbage is
// refused before it reaches a store.
func ParseRoomID(s string) (RoomID, error) {
	if !validID(s, roomPrefix) {
		return "", fmt.Errorf("%w: %q is not a room ID", ErrRoomNotFound, truncate(s, 40))
	}
	return RoomID(s), nil
}

// ParseUserID checks that s has the shape of a user ID.
func ParseUserID(s string) (UserID, error) {
	if !validID(s, userPrefix) {
		return "", fmt.Errorf("%w: %q is not a user ID", ErrMemberNotFound, truncate(s, 40))
	}
	return UserID(s), nil
}

func validID(s, prefix string) bool {
	rest, ok := strings.CutPrefix(s, prefix)
	if !ok || len(rest) != idChars {
		return false
	}
	for i := 0; i < len(rest); i++ {
		c := rest[i]
		if (c < 'a' || c > 'z') && (c < '2' || c > '7') {
			return false
		}
	}
	return true
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
