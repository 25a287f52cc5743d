package rooms

import (
	"context"
	"fmt"
	"time"
)

// EventID identifies a scheduled room (an event). Random, like RoomID.
type EventID string

const eventPrefix = "evt_"

// NewEventID returns a fresh random event ID.
func NewEventID() EventID { return EventID(newID(eventPrefix)) }

// ParseEventID checks that s has the shape of an event ID.
func ParseEventID(s string) (EventID, error) {
	if !validID(s, eventPrefix) {
		return "", fmt.Errorf("%w: %q is not an event ID", ErrEventNotFound, truncate(s, 40))
	}
	return EventID(s), nil
}

// ScheduledEvent is a room planned for later: its host and co-hosts, what
// it is about and when it starts. Starting it opens its live room, where
// the host and the co-hosts are moderators.
type ScheduledEvent struct {
	ID   EventID
	Host UserID
	// Cohosts are the members who run the event with the host, in the
	// order the host listed them.
	Cohosts     []UserID
	Title       string
	Description string
	StartsAt    time.Time
	CreatedAt   time.Time
	UpdatedAt   time.Time
	// CancelledAt is zero unless the host cancelled it.
	CancelledAt time.Time
	// Room is the live room the event opened; empty until it starts.
	Room      RoomID
	StartedAt time.Time
	StartedBy UserID

	// Filled in by reads: how many members RSVPed, and whether the
	// member the read was for (its viewer) did.
	RSVPs  int
	RSVPed bool
}

// EventStatus is where an event stands.
type EventStatus string

// The statuses.
const (
	EventScheduled EventStatus = "scheduled"
	EventCancelled EventStatus = "cancelled"
	EventLive      EventStatus = "started"
)

// Status says where the event stands.
func (e ScheduledEvent) Status() EventStatus {
	switch {
	case !e.CancelledAt.IsZero():
		return EventCancelled
	case e.Room != "":
		return EventLive
	default:
		return EventScheduled
	}
}

// IsHost reports whether u is the event's host or one of its co-hosts.
func (e ScheduledEvent) IsHost(u UserID) bool {
	if u == e.Host {
		return true
	}
	for _, c := range e.Cohosts {
		if c == u {
			return true
		}
	}
	return false
}

// cursor is the event's place in the upcoming list.
func (e ScheduledEvent) cursor() Cursor { return Cursor{At: e.StartsAt, ID: string(e.ID)} }

// RSVP is one member's RSVP to an event.
type RSVP struct {
	Event     EventID
	User      UserID
	CreatedAt time.Time
}

// Limits on events.
const (
	// MaxCohosts is the most co-hosts an event may have. They all join its
	// room as moderators, so they count towards the stage beyond its cap.
	MaxCohosts = 10
	// MaxEventLead is how far ahead an event may be scheduled.
	MaxEventLead = 366 * 24 * time.Hour
	// UpcomingGrace is how long after its start time an event that has
	// not started yet still counts as upcoming: a late host has that long
	// before it drops off the list (it can still be started).
	UpcomingGrace = 12 * time.Hour
)

// EventQuery pages through upcoming events in start order.
type EventQuery struct {
	// From: events starting at or after it.
	From time.Time
	// After is the last event of the page before (its StartsAt and ID).
	After Cursor
	Limit int
	// Viewer is whose RSVP the read reports.
	Viewer UserID
}

// EventRecords is the durable store of events, their co-hosts and RSVPs.
// Implementations: *SQLStore on SQLite and Postgres, held to the contract
// suite in events_store_test.go.
type EventRecords interface {
	// CreateEvent stores a new event with its co-hosts.
	CreateEvent(ctx context.Context, e ScheduledEvent) error
	// Event returns one event, with its RSVP count and whether viewer
	// RSVPed, or ErrEventNotFound.
	Event(ctx context.Context, id EventID, viewer UserID) (ScheduledEvent, error)
	// UpdateEvent replaces the title, description, start time, co-hosts
	// and update time of a scheduled event with e's, and returns it. It
	// is ErrEventNotFound, ErrEventCancelled or ErrEventStarted (nothing
	// changes then).
	UpdateEvent(ctx context.Context, e ScheduledEvent) (ScheduledEvent, error)
	// CancelEvent cancels a scheduled event at the given time and returns
	// it: ErrEventNotFound, ErrEventCancelled or ErrEventStarted.
	CancelEvent(ctx context.Context, id EventID, at time.Time) (ScheduledEvent, error)
	// StartEvent stores room (live, with the event's co-hosts) and links
	// the event to it, started by by at room.CreatedAt, in one step: of
	// two starts exactly one succeeds; the other is ErrEventStarted (or
	// ErrEventCancelled, ErrEventNotFound) and stores no room.
	StartEvent(ctx context.Context, id EventID, by UserID, room Room) (ScheduledEvent, error)
	// UpcomingEvents returns scheduled events (neither cancelled nor
	// started) starting at or after q.From, soonest first, after q.After.
	UpcomingEvents(ctx context.Context, q EventQuery) ([]ScheduledEvent, error)
	// SetRSVP records (going) or withdraws user's RSVP to a scheduled
	// event; either is idempotent. ErrEventNotFound, ErrEventCancelled or
	// ErrEventStarted otherwise.
	SetRSVP(ctx context.Context, id EventID, user UserID, going bool, at time.Time) error

	// For a member's data export:

	// EventsHostedBy returns the events user hosts, newest first (by
	// creation), after the cursor (CreatedAt, ID).
	EventsHostedBy(ctx context.Context, user UserID, after Cursor, limit int) ([]ScheduledEvent, error)
	// RSVPsBy returns user's RSVPs, newest first, after the cursor
	// (CreatedAt, event ID).
	RSVPsBy(ctx context.Context, user UserID, after Cursor, limit int) ([]RSVP, error)
}
