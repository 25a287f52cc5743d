package rooms

import (
	"context"
	"time"
)

// A member is in at most one room at a time: joining another room takes
// them out of the first, whichever server holds either connection. The
// live store keeps, per member, where their newest join put them (their
// whereabouts); a join claims it and leaves the room it held before.
//
// The record lapses after a TTL unless renewed, so that a member whose
// server died leaves nothing behind; the server holding a connection
// renews it with the room's leases, and records it again if it was lost
// (Redis restarted empty). Guests have no whereabouts: a guest pass is for
// one room only.

// Whereabouts is where a member's newest join put them: a room and the
// signaling session holding their place in it.
type Whereabouts struct {
	Room    RoomID
	Session SessionID
}

// IsZero reports whether the member is nowhere.
func (w Whereabouts) IsZero() bool { return w.Room == "" }

// PresenceStore keeps each member's whereabouts. Part of LiveStore; in its
// contract suite. Each call is atomic for its member.
type PresenceStore interface {
	// ClaimPresence records w as the member's whereabouts until now+ttl
	// and returns the whereabouts it replaced (zero if none, or lapsed).
	ClaimPresence(ctx context.Context, user UserID, w Whereabouts, ttl time.Duration, now time.Time) (Whereabouts, error)
	// Presence returns the member's whereabouts at now (zero if none).
	Presence(ctx context.Context, user UserID, now time.Time) (Whereabouts, error)
	// ReleasePresence forgets the member's whereabouts if they still are
	// w; a newer claim is left alone.
	ReleasePresence(ctx context.Context, user UserID, w Whereabouts) error
	// RenewPresence is called by the process holding these sessions in
	// room: it extends each member's whereabouts to now+ttl where they are
	// that room and session, records them where the member has none (or
	// they lapsed: after Redis lost its data, say), and leaves them where
	// a newer join put the member elsewhere.
	RenewPresence(ctx context.Context, room RoomID, held []Held, ttl time.Duration, now time.Time) error
}

// Lineup is a live room's stage and head counts, what the list of rooms
// and the visibility rules need: the stage is at most the stage cap, so
// reading it is cheap whatever the size of the audience.
type Lineup struct {
	// OnStage is everyone on stage, moderators and speakers, in join
	// order.
	OnStage []Participant
	Counts
}

// presenceTTL is how long whereabouts live without renewal. The server
// holding a connection renews them with the leases, every third of the
// lease; a dropped connection keeps its place for the reconnect grace, and
// a dead server's participants for the lease: a TTL of both, plus a lease
// to spare, outlives either.
func presenceTTL(l Limits) time.Duration { return 2*l.LeaseTTL + l.ReconnectGrace }
