package rooms

import "strings"

// Guests are people without an account who listen to an open room by its
// link, when the instance allows it. Each guest pass gets a fresh random
// ID with its own prefix, so that a guest can never be taken for a member
// and the rules can tell one from its ID alone: guests only listen. They
// may not raise a hand, be invited to speak, or act at all (the service
// refuses every action by a guest, and any invitation of one), and so are
// never on stage.
const guestPrefix = "gst_"

// GuestName is the display name every guest has in a room.
const GuestName = "Guest"

// NewGuestID returns a fresh random guest ID.
func NewGuestID() UserID { return UserID(newID(guestPrefix)) }

// ParseGuestID checks that s has the shape of a guest ID.
func ParseGuestID(s string) (UserID, error) {
	if !validID(s, guestPrefix) {
		return "", ErrInvalid
	}
	return UserID(s), nil
}

// IsGuest reports whether the ID is a guest's.
func (u UserID) IsGuest() bool { return strings.HasPrefix(string(u), guestPrefix) }

// ParseParticipantID checks that s has the shape of the ID of someone who
// can be in a room: a member or a guest.
func ParseParticipantID(s string) (UserID, error) {
	if validID(s, userPrefix) || validID(s, guestPrefix) {
		return UserID(s), nil
	}
	return "", ErrInvalid
}
