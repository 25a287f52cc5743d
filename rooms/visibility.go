package rooms

import (
	"context"
	"fmt"
	"time"
)

// Visibility says who may see a room in the list, read it and join it.
// The room's hosts (its creator and the moderators in it) always may; a
// member that one of them blocks never may.
type Visibility string

// The visibilities.
const (
	// VisibilityOpen rooms are for every member (and, when the instance
	// allows guests, for people without an account, by link).
	VisibilityOpen Visibility = "open"
	// VisibilitySocial rooms are for the followers of the room's hosts,
	// and its invitees.
	VisibilitySocial Visibility = "social"
	// VisibilityClosed rooms are for the room's invitees only.
	VisibilityClosed Visibility = "closed"
)

// Valid reports whether v is a visibility.
func (v Visibility) Valid() bool {
	return v == VisibilityOpen || v == VisibilitySocial || v == VisibilityClosed
}

// ParseVisibility checks a visibility given by a client; "" means open.
func ParseVisibility(s string) (Visibility, error) {
	if s == "" {
		return VisibilityOpen, nil
	}
	v := Visibility(s)
	if !v.Valid() {
		return "", &ValidationError{Field: "visibility", Reason: "must be open, social or closed"}
	}
	return v, nil
}

// Audience is what rooms needs to know of how members stand to each
// other, to decide who may see a room: members implements it (rooms never
// imports members), and cmd wires it in. Each call asks about a set of
// members, the hosts (creators and moderators) of one room, or of a page
// of rooms at once.
type Audience interface {
	// Followed returns those of among whom follower follows.
	Followed(ctx context.Context, follower UserID, among []UserID) ([]UserID, error)
	// Blockers returns those of among who block user.
	Blockers(ctx context.Context, user UserID, among []UserID) ([]UserID, error)
}

// Invitee is a member let into a room whatever its visibility: the way in
// to a closed room. Invitations are keyed by room and member.
type Invitee struct {
	Room      RoomID
	Member    UserID
	InvitedBy UserID
	At        time.Time
}

// InviteeCursor is a position in a list of invitees, newest first, by
// (At, ID); ID is the member (in a room's list) or the room (in a
// member's). The zero value starts at the newest.
type InviteeCursor struct {
	At time.Time
	ID string
}

// AccessRecords is the durable part of who may enter a room: its
// visibility and its invitees. Part of RoomRecords; in its contract suite.
type AccessRecords interface {
	// SetVisibility changes a room's visibility, live or ended, or
	// returns ErrRoomNotFound.
	SetVisibility(ctx context.Context, id RoomID, v Visibility) error
	// AddInvitee lets a member into a room. Inviting again keeps the first
	// invitation. An unknown room is ErrRoomNotFound.
	AddInvitee(ctx context.Context, inv Invitee) error
	// RemoveInvitee withdraws an invitation; withdrawing none changes
	// nothing.
	RemoveInvitee(ctx context.Context, room RoomID, member UserID) error
	// IsInvitee reports whether the member is invited to the room.
	IsInvitee(ctx context.Context, room RoomID, member UserID) (bool, error)
	// Invitees returns up to limit of a room's invitees, newest first,
	// after the cursor (ID: the member).
	Invitees(ctx context.Context, room RoomID, after InviteeCursor, limit int) ([]Invitee, error)
	// InvitationsOf returns up to limit of the invitations a member holds,
	// newest first, after the cursor (ID: the room): for their data
	// export.
	InvitationsOf(ctx context.Context, member UserID, after InviteeCursor, limit int) ([]Invitee, error)
}

// errHidden is what a member who may not see a room is told: that there
// is no such room. Saying "closed" or "you are blocked" would confirm that
// the room exists and tell a blocked member that they are.
func errHidden(id RoomID) error { return fmt.Errorf("room %s: %w", id, ErrRoomNotFound) }
