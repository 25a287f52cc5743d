package rooms

import "time"

// The JSON shapes of rooms and participants. The REST API and signaling
// both send them, so they are defined once here and can never disagree.

// MemberRef is a member as others see them in a room.
type MemberRef struct {
	ID          UserID `json:"id"`
	DisplayName string `json:"display_name"`
}

// RoomJSON is a room on the wire.
type RoomJSON struct {
	ID            RoomID     `json:"id"`
	Title         string     `json:"title"`
	Description   string     `json:"description"`
	Visibility    Visibility `json:"visibility"`
	CreatedBy     MemberRef  `json:"created_by"`
	CreatedAt     time.Time  `json:"created_at"`
	EndedAt       *time.Time `json:"ended_at"`
	Live          bool       `json:"live"`
	SpeakerCount  int        `json:"speaker_count"`
	ListenerCount int        `json:"listener_count"`
	// LoudestN: 0 the server's default, -1 every speaker, n the n loudest.
	LoudestN int `json:"loudest_n"`
	// GuestCount is how many of the listeners are guests.
	GuestCount int `json:"guest_count"`
}

// JSON returns the wire shape of the room.
func (v RoomView) JSON() RoomJSON {
	j := RoomJSON{
		ID: v.ID, Title: v.Title, Description: v.Description, Visibility: visibilityOrOpen(v.Visibility),
		CreatedBy: MemberRef{ID: v.CreatedBy, DisplayName: v.HostName},
		CreatedAt: v.CreatedAt, Live: v.Live(),
		SpeakerCount: v.Speakers, ListenerCount: v.Listeners, LoudestN: v.LoudestN, GuestCount: v.Guests,
	}
	if !v.Live() {
		t := v.EndedAt
		j.EndedAt = &t
	}
	return j
}

// ParticipantJSON is a participant on the wire. The session is private to
// the server and never sent.
type ParticipantJSON struct {
	UserID        UserID    `json:"user_id"`
	DisplayName   string    `json:"display_name"`
	Role          Role      `json:"role"`
	JoinedAt      time.Time `json:"joined_at"`
	Muted         bool      `json:"muted"`
	Invited       bool      `json:"invited"`
	HandRaisedSeq uint64    `json:"hand_raised_seq"`
}

// JSON returns the wire shape of the participant.
func (p Participant) JSON() ParticipantJSON {
	return ParticipantJSON{
		UserID: p.UserID, DisplayName: p.DisplayName, Role: p.Role, JoinedAt: p.JoinedAt,
		Muted: p.Muted, Invited: p.Invited, HandRaisedSeq: p.HandSeq,
	}
}

// MemberJSON is a member's own record on the wire.
type MemberJSON struct {
	ID          UserID    `json:"id"`
	DisplayName string    `json:"display_name"`
	CreatedAt   time.Time `json:"created_at"`
}

// JSON returns the wire shape of the member.
func (m Member) JSON() MemberJSON {
	return MemberJSON{ID: m.ID, DisplayName: m.DisplayName, CreatedAt: m.CreatedAt}
}
