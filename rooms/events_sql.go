package rooms

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/parley-audio/parley/internal/sqldb"
)

var _ EventRecords = (*SQLStore)(nil)

// eventSelect reads events with their RSVP count and whether the viewer
// ($1) RSVPed. Co-hosts come from a second query (withCohosts).
const eventSelect = `SELECT e.id, e.host_id, e.title, e.description, e.starts_at, e.created_at, e.updated_at,
	e.cancelled_at, e.room_id, e.started_at, e.started_by,
	(SELECT COUNT(*) FROM event_rsvps v WHERE v.event_id = e.id),
	EXISTS (SELECT 1 FROM event_rsvps v WHERE v.event_id = e.id AND v.user_id = $1)
	FROM events e `

func scanEvent(sc interface{ Scan(...any) error }) (ScheduledEvent, error) {
	var e ScheduledEvent
	var starts, created, updated int64
	var cancelled, started sql.NullInt64
	var room, by sql.NullString
	if err := sc.Scan(&e.ID, &e.Host, &e.Title, &e.Description, &starts, &created, &updated,
		&cancelled, &room, &started, &by, &e.RSVPs, &e.RSVPed); err != nil {
		return ScheduledEvent{}, err
	}
	e.StartsAt, e.CreatedAt, e.UpdatedAt = fromMillis(starts), fromMillis(created), fromMillis(updated)
	if cancelled.Valid {
		e.CancelledAt = fromMillis(cancelled.Int64)
	}
	if started.Valid {
		e.StartedAt = fromMillis(started.Int64)
	}
	e.Room, e.StartedBy = RoomID(room.String), UserID(by.String)
	return e, nil
}

type querier interface {
	rowQuerier
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// collect runs a query and scans every row with scan.
func collect[T any](ctx context.Context, q querier, op string, scan func(sqldb.Scanner) (T, error), query string, args ...any) ([]T, error) {
	return sqldb.Collect(ctx, q, func(err error) error { return failed(op, err) }, scan, query, args...)
}

// withCohosts fills in the co-hosts of a page of events in one query.
func withCohosts(ctx context.Context, q querier, evs []ScheduledEvent) error {
	if len(evs) == 0 {
		return nil
	}
	args := make([]any, len(evs))
	at := make(map[EventID]int, len(evs))
	for i, e := range evs {
		args[i] = string(e.ID)
		at[e.ID] = i
	}
	type row struct {
		event EventID
		user  UserID
	}
	rows, err := collect(ctx, q, "event co-hosts", func(sc interface{ Scan(...any) error }) (row, error) {
		var r row
		err := sc.Scan(&r.event, &r.user)
		return r, err
	}, `SELECT event_id, user_id FROM event_cohosts WHERE event_id IN (`+placeholders(1, len(evs))+`) ORDER BY event_id, position`, args...)
	if err != nil {
		return err
	}
	for _, r := range rows {
		i := at[r.event]
		evs[i].Cohosts = append(evs[i].Cohosts, r.user)
	}
	return nil
}

// placeholders returns "$from, $from+1, ..." n times.
func placeholders(from, n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("$" + strconv.Itoa(from+i))
	}
	return b.String()
}

func selectEvent(ctx context.Context, q querier, id EventID, viewer UserID) (ScheduledEvent, error) {
	e, err := scanEvent(q.QueryRowContext(ctx, eventSelect+`WHERE e.id = $2`, string(viewer), string(id)))
	if errors.Is(err, sql.ErrNoRows) {
		return ScheduledEvent{}, fmt.Errorf("event %s: %w", id, ErrEventNotFound)
	}
	if err != nil {
		return ScheduledEvent{}, failed(fmt.Sprintf("select event %s", id), err)
	}
	evs := []ScheduledEvent{e}
	if err := withCohosts(ctx, q, evs); err != nil {
		return ScheduledEvent{}, err
	}
	return evs[0], nil
}

func insertCohosts(ctx context.Context, tx *sql.Tx, id EventID, cohosts []UserID) error {
	for i, u := range cohosts {
		if _, err := tx.ExecContext(ctx, `INSERT INTO event_cohosts (event_id, user_id, position) VALUES ($1, $2, $3)`,
			string(id), string(u), i); err != nil {
			return failed(fmt.Sprintf("insert co-host of %s", id), err)
		}
	}
	return nil
}

// CreateEvent implements EventRecords.
func (s *SQLStore) CreateEvent(ctx context.Context, e ScheduledEvent) error {
	return s.db.InTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO events
			(id, host_id, title, description, starts_at, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
			string(e.ID), string(e.Host), e.Title, e.Description, toMillis(e.StartsAt), toMillis(e.CreatedAt), toMillis(e.UpdatedAt)); err != nil {
			return failed(fmt.Sprintf("insert event %s", e.ID), err)
		}
		return insertCohosts(ctx, tx, e.ID, e.Cohosts)
	}, nil, func(err error) error { return failed("create event", err) })
}

// Event implements EventRecords.
func (s *SQLStore) Event(ctx context.Context, id EventID, viewer UserID) (ScheduledEvent, error) {
	return selectEvent(ctx, s.db.R, id, viewer)
}

// scheduledOnly turns an event that is no longer scheduled into its error.
func scheduledOnly(e ScheduledEvent) error {
	switch e.Status() {
	case EventCancelled:
		return fmt.Errorf("event %s: %w", e.ID, ErrEventCancelled)
	case EventLive:
		return fmt.Errorf("event %s: %w", e.ID, ErrEventStarted)
	}
	return nil
}

// changeScheduled runs change on a scheduled event inside a write
// transaction: the event is read (and, by the write that follows, locked)
// first, so a cancelled or started one is refused and left alone.
func (s *SQLStore) changeScheduled(ctx context.Context, id EventID, op string, change func(tx *sql.Tx, e ScheduledEvent) error) (ScheduledEvent, error) {
	var out ScheduledEvent
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		e, err := selectEvent(ctx, tx, id, "")
		if err != nil {
			return err
		}
		if err := scheduledOnly(e); err != nil {
			return err
		}
		// The write is conditional too: on Postgres another transaction
		// may have started or cancelled the event since the read.
		if err := change(tx, e); err != nil {
			return err
		}
		out, err = selectEvent(ctx, tx, id, "")
		return err
	}, nil, func(err error) error { return failed(op, err) })
	return out, err
}

// errRaced is a conditional write that found the event changed under it.
func errRaced(id EventID) error {
	return fmt.Errorf("event %s changed at the same time: %w", id, ErrEventStarted)
}

// UpdateEvent implements EventRecords.
func (s *SQLStore) UpdateEvent(ctx context.Context, e ScheduledEvent) (ScheduledEvent, error) {
	out, err := s.changeScheduled(ctx, e.ID, "update event", func(tx *sql.Tx, _ ScheduledEvent) error {
		res, err := tx.ExecContext(ctx, `UPDATE events SET title = $1, description = $2, starts_at = $3, updated_at = $4
			WHERE id = $5 AND cancelled_at IS NULL AND room_id IS NULL`,
			e.Title, e.Description, toMillis(e.StartsAt), toMillis(e.UpdatedAt), string(e.ID))
		if err != nil {
			return failed(fmt.Sprintf("update event %s", e.ID), err)
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return errRaced(e.ID)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM event_cohosts WHERE event_id = $1`, string(e.ID)); err != nil {
			return failed(fmt.Sprintf("update co-hosts of %s", e.ID), err)
		}
		return insertCohosts(ctx, tx, e.ID, e.Cohosts)
	})
	if err != nil {
		return ScheduledEvent{}, fmt.Errorf("update event: %w", err)
	}
	return out, nil
}

// CancelEvent implements EventRecords.
func (s *SQLStore) CancelEvent(ctx context.Context, id EventID, at time.Time) (ScheduledEvent, error) {
	out, err := s.changeScheduled(ctx, id, "cancel event", func(tx *sql.Tx, _ ScheduledEvent) error {
		res, err := tx.ExecContext(ctx, `UPDATE events SET cancelled_at = $1, updated_at = $1
			WHERE id = $2 AND cancelled_at IS NULL AND room_id IS NULL`, toMillis(at), string(id))
		if err != nil {
			return failed(fmt.Sprintf("cancel event %s", id), err)
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return errRaced(id)
		}
		return nil
	})
	if err != nil {
		return ScheduledEvent{}, fmt.Errorf("cancel event: %w", err)
	}
	return out, nil
}

// StartEvent implements EventRecords. The room's title, description and
// co-hosts are the event's as the transaction reads them, so an edit that
// raced the start cannot leave the two apart.
func (s *SQLStore) StartEvent(ctx context.Context, id EventID, by UserID, room Room) (ScheduledEvent, error) {
	out, err := s.changeScheduled(ctx, id, "start event", func(tx *sql.Tx, e ScheduledEvent) error {
		r := room
		r.Title, r.Description, r.CreatedBy, r.Cohosts, r.EndedAt = e.Title, e.Description, e.Host, e.Cohosts, time.Time{}
		if _, err := tx.ExecContext(ctx,
			`INSERT INTO rooms (id, title, description, created_by, created_at, cohosts) VALUES ($1, $2, $3, $4, $5, $6)`,
			string(r.ID), r.Title, r.Description, string(r.CreatedBy), toMillis(r.CreatedAt), joinIDs(r.Cohosts)); err != nil {
			return failed(fmt.Sprintf("insert room of event %s", id), err)
		}
		res, err := tx.ExecContext(ctx, `UPDATE events SET room_id = $1, started_at = $2, started_by = $3
			WHERE id = $4 AND cancelled_at IS NULL AND room_id IS NULL`,
			string(r.ID), toMillis(r.CreatedAt), string(by), string(id))
		if err != nil {
			return failed(fmt.Sprintf("start event %s", id), err)
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return errRaced(id)
		}
		return nil
	})
	if err != nil {
		return ScheduledEvent{}, fmt.Errorf("start event: %w", err)
	}
	return out, nil
}

// The UpcomingEvents queries repeat the partial index's predicate, so that
// SQLite walks it.
const (
	upcomingFirst = eventSelect + `WHERE e.cancelled_at IS NULL AND e.room_id IS NULL AND e.starts_at >= $2
		ORDER BY e.starts_at, e.id LIMIT $3`
	upcomingAfter = eventSelect + `WHERE e.cancelled_at IS NULL AND e.room_id IS NULL AND e.starts_at >= $2
		AND (e.starts_at, e.id) > ($4, $5) ORDER BY e.starts_at, e.id LIMIT $3`
)

// UpcomingEvents implements EventRecords.
func (s *SQLStore) UpcomingEvents(ctx context.Context, q EventQuery) ([]ScheduledEvent, error) {
	if err := checkStoreLimit("upcoming events", q.Limit); err != nil {
		return nil, err
	}
	query, args := upcomingFirst, []any{string(q.Viewer), toMillis(q.From), q.Limit}
	if !q.After.IsZero() {
		query, args = upcomingAfter, append(args, toMillis(q.After.At), q.After.ID)
	}
	evs, err := collect(ctx, s.db.R, "upcoming events", scanEvent, query, args...)
	if err != nil {
		return nil, err
	}
	return evs, withCohosts(ctx, s.db.R, evs)
}

// SetRSVP implements EventRecords.
func (s *SQLStore) SetRSVP(ctx context.Context, id EventID, user UserID, going bool, at time.Time) error {
	_, err := s.changeScheduled(ctx, id, "rsvp", func(tx *sql.Tx, _ ScheduledEvent) error {
		var err error
		if going {
			_, err = tx.ExecContext(ctx, `INSERT INTO event_rsvps (event_id, user_id, created_at) VALUES ($1, $2, $3)
				ON CONFLICT (event_id, user_id) DO NOTHING`, string(id), string(user), toMillis(at))
		} else {
			_, err = tx.ExecContext(ctx, `DELETE FROM event_rsvps WHERE event_id = $1 AND user_id = $2`, string(id), string(user))
		}
		if err != nil {
			return failed(fmt.Sprintf("rsvp to %s", id), err)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("rsvp: %w", err)
	}
	return nil
}

// EventsHostedBy implements EventRecords.
func (s *SQLStore) EventsHostedBy(ctx context.Context, user UserID, after Cursor, limit int) ([]ScheduledEvent, error) {
	if err := checkStoreLimit("events hosted", limit); err != nil {
		return nil, err
	}
	query, args := eventSelect+`WHERE e.host_id = $2 ORDER BY e.created_at DESC, e.id DESC LIMIT $3`, []any{string(user), string(user), limit}
	if !after.IsZero() {
		query = eventSelect + `WHERE e.host_id = $2 AND (e.created_at, e.id) < ($4, $5) ORDER BY e.created_at DESC, e.id DESC LIMIT $3`
		args = append(args, toMillis(after.At), after.ID)
	}
	evs, err := collect(ctx, s.db.R, "events hosted", scanEvent, query, args...)
	if err != nil {
		return nil, err
	}
	return evs, withCohosts(ctx, s.db.R, evs)
}

func scanRSVP(sc interface{ Scan(...any) error }) (RSVP, error) {
	var r RSVP
	var at int64
	err := sc.Scan(&r.Event, &r.User, &at)
	r.CreatedAt = fromMillis(at)
	return r, err
}

// RSVPsBy implements EventRecords.
func (s *SQLStore) RSVPsBy(ctx context.Context, user UserID, after Cursor, limit int) ([]RSVP, error) {
	if err := checkStoreLimit("rsvps", limit); err != nil {
		return nil, err
	}
	const sel = `SELECT event_id, user_id, created_at FROM event_rsvps WHERE user_id = $1 `
	query, args := sel+`ORDER BY created_at DESC, event_id DESC LIMIT $2`, []any{string(user), limit}
	if !after.IsZero() {
		query = sel + `AND (created_at, event_id) < ($3, $4) ORDER BY created_at DESC, event_id DESC LIMIT $2`
		args = append(args, toMillis(after.At), after.ID)
	}
	return collect(ctx, s.db.R, "rsvps", scanRSVP, query, args...)
}

// joinIDs and splitIDs keep a short list of member IDs in one column. IDs
// never hold spaces.
// RemoveFromEvents implements EventRecords. The rooms' space-separated
// co-hosts lose user by a REPLACE on the list padded with spaces, so that
// only a whole ID matches.
func (s *SQLStore) RemoveFromEvents(ctx context.Context, user UserID, at time.Time) error {
	return s.db.InTx(ctx, func(tx *sql.Tx) error {
		for _, q := range []struct {
			op, sql string
			args    []any
		}{
			{"cancel hosted events", `UPDATE events SET cancelled_at = $2, updated_at = $2
				WHERE host_id = $1 AND cancelled_at IS NULL AND room_id IS NULL`, []any{string(user), toMillis(at)}},
			{"withdraw co-host", `DELETE FROM event_cohosts WHERE user_id = $1`, []any{string(user)}},
			{"delete RSVPs", `DELETE FROM event_rsvps WHERE user_id = $1`, []any{string(user)}},
			{"withdraw room co-host", `UPDATE rooms
				SET cohosts = TRIM(REPLACE(' ' || cohosts || ' ', ' ' || CAST($1 AS TEXT) || ' ', ' '))
				WHERE cohosts LIKE '%' || CAST($1 AS TEXT) || '%'`, []any{string(user)}},
		} {
			if _, err := tx.ExecContext(ctx, q.sql, q.args...); err != nil {
				return failed(fmt.Sprintf("%s of %s", q.op, user), err)
			}
		}
		return nil
	}, nil, func(err error) error { return failed(fmt.Sprintf("remove %s from events", user), err) })
}

func joinIDs(ids []UserID) string {
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = string(id)
	}
	return strings.Join(parts, " ")
}

func splitIDs(s string) []UserID {
	if s == "" {
		return nil
	}
	parts := strings.Fields(s)
	out := make([]UserID, len(parts))
	for i, p := range parts {
		out[i] = UserID(p)
	}
	return out
}
