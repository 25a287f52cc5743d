package rooms

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"time"

	"github.com/parley-audio/parley/internal/sqldb"
)

// SQLStore is the durable store of rooms on SQLite (the embedded default)
// or Postgres: one set of queries, with $n placeholders, for both. Its zero
// value is not usable; call NewSQLStore or OpenSQLite.
type SQLStore struct {
	db sqldb.StoreDB
}

var _ RoomRecords = (*SQLStore)(nil)

//go:embed migrations/sqlite/*.sql migrations/postgres/*.sql
var migrationFS embed.FS

// Migrations is the schema history of rooms' tables, recorded in their own
// table so that they share a Postgres database with other stores.
var Migrations = sqldb.Migrations{FS: migrationFS, Dir: "migrations", Table: "schema_migrations"}

// NewSQLStore brings db's rooms schema up to date and returns the store
// on it. The caller keeps db and closes it after the store is done.
func NewSQLStore(ctx context.Context, db *sqldb.DB) (*SQLStore, error) {
	sdb, err := sqldb.Migrated(ctx, db, Migrations)
	if err != nil {
		return nil, fmt.Errorf("rooms schema: %w", err)
	}
	return &SQLStore{db: sdb}, nil
}

// OpenSQLite opens, or creates, an SQLite database of its own at path and
// returns the store on it; Close closes the database.
func OpenSQLite(ctx context.Context, path string) (*SQLStore, error) {
	sdb, err := sqldb.OpenSQLiteStore(ctx, path, Migrations)
	if err != nil {
		return nil, fmt.Errorf("rooms store: %w", err)
	}
	return &SQLStore{db: sdb}, nil
}

// Close closes the database if the store opened it. It is safe to call
// more than once.
func (s *SQLStore) Close() error { return s.db.Close() }

// Ping reports whether the database answers.
func (s *SQLStore) Ping(ctx context.Context) error {
	if err := s.db.Ping(ctx); err != nil {
		return failed("ping rooms store", err)
	}
	return nil
}

// CreateRoom implements RoomRecords.
func (s *SQLStore) CreateRoom(ctx context.Context, r Room) error {
	_, err := s.db.W.ExecContext(ctx,
		`INSERT INTO rooms (id, title, description, visibility, created_by, created_at, ended_at, loudest_n, cohosts) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		string(r.ID), r.Title, r.Description, string(visibilityOrOpen(r.Visibility)), string(r.CreatedBy), toMillis(r.CreatedAt), nullMillis(r.EndedAt), r.LoudestN, joinIDs(r.Cohosts))
	if err != nil {
		return failed(fmt.Sprintf("insert room %s", r.ID), err)
	}
	return nil
}

// roomSelect reads rooms. HostName is the Service's to fill in: names are
// the members store's.
const roomSelect = `SELECT r.id, r.title, r.description, r.visibility, r.created_by, r.created_at, r.ended_at, r.loudest_n, r.cohosts, r.chat_off FROM rooms r `

type rowQuerier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func scanRoom(sc interface{ Scan(...any) error }) (Room, error) {
	var r Room
	var created int64
	var ended sql.NullInt64
	var cohosts string
	var chatOff int64
	if err := sc.Scan(&r.ID, &r.Title, &r.Description, &r.Visibility, &r.CreatedBy, &created, &ended, &r.LoudestN, &cohosts, &chatOff); err != nil {
		return Room{}, err
	}
	r.Cohosts, r.ChatDisabled = splitIDs(cohosts), chatOff != 0
	r.CreatedAt = fromMillis(created)
	if ended.Valid {
		r.EndedAt = fromMillis(ended.Int64)
	}
	return r, nil
}

func selectRoom(ctx context.Context, q rowQuerier, id RoomID) (Room, error) {
	r, err := scanRoom(q.QueryRowContext(ctx, roomSelect+`WHERE r.id = $1`, string(id)))
	if errors.Is(err, sql.ErrNoRows) {
		return Room{}, fmt.Errorf("room %s: %w", id, ErrRoomNotFound)
	}
	if err != nil {
		return Room{}, failed(fmt.Sprintf("select room %s", id), err)
	}
	return r, nil
}

// Room implements RoomRecords.
func (s *SQLStore) Room(ctx context.Context, id RoomID) (Room, error) {
	return selectRoom(ctx, s.db.R, id)
}

// EndRoom implements RoomRecords. The conditional UPDATE is what makes
// ending atomic: of two concurrent calls exactly one changes the row. The
// transaction only keeps the follow-up read on the same snapshot, so that
// telling "ended" from "missing" cannot race a concurrent insert.
func (s *SQLStore) EndRoom(ctx context.Context, id RoomID, at time.Time) (_ Room, err error) {
	tx, err := s.db.W.BeginTx(ctx, nil)
	if err != nil {
		return Room{}, failed(fmt.Sprintf("end room %s", id), err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	res, err := tx.ExecContext(ctx,
		`UPDATE rooms SET ended_at = $1 WHERE id = $2 AND ended_at IS NULL`, toMillis(at), string(id))
	if err != nil {
		return Room{}, failed(fmt.Sprintf("end room %s", id), err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return Room{}, failed(fmt.Sprintf("end room %s", id), err)
	}
	r, err := selectRoom(ctx, tx, id)
	if err != nil {
		return Room{}, fmt.Errorf("end room: %w", err)
	}
	if n == 0 {
		// The room exists, so the UPDATE skipped it for having ended.
		return Room{}, fmt.Errorf("end room %s: %w", id, ErrRoomEnded)
	}
	if err := tx.Commit(); err != nil {
		return Room{}, failed(fmt.Sprintf("end room %s: commit", id), err)
	}
	return r, nil
}

// The LiveRooms queries. Their WHERE repeats the partial index's predicate
// word for word, which is what lets SQLite use it, and the row-value
// comparison lets it seek straight to the cursor.
const (
	liveRoomsFirst = roomSelect + `WHERE r.ended_at IS NULL
		ORDER BY r.created_at DESC, r.id DESC LIMIT $1`
	liveRoomsAfter = roomSelect + `WHERE r.ended_at IS NULL AND (r.created_at, r.id) < ($1, $2)
		ORDER BY r.created_at DESC, r.id DESC LIMIT $3`
)

// LiveRooms implements RoomRecords.
func (s *SQLStore) LiveRooms(ctx context.Context, q ListQuery) ([]Room, error) {
	if q.Limit < 1 {
		return nil, fmt.Errorf("live rooms: limit %d: %w", q.Limit, ErrInvalid)
	}
	query, args := liveRoomsFirst, []any{q.Limit}
	if !q.AfterTime.IsZero() {
		query, args = liveRoomsAfter, []any{toMillis(q.AfterTime), string(q.AfterRoomID), q.Limit}
	}
	return collect(ctx, s.db.R, "live rooms", scanRoom, query, args...)
}

func toMillis(t time.Time) int64 { return t.UnixMilli() }

func nullMillis(t time.Time) sql.NullInt64 {
	if t.IsZero() {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.UnixMilli(), Valid: true}
}

func fromMillis(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

// failed wraps a database failure. The store could not do its job, which
// callers see as ErrUnavailable (the API's 503); a cancelled or expired
// context stays what it is.
func failed(op string, err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%s: %w", op, err)
	}
	return fmt.Errorf("%s: %w: %w", op, ErrUnavailable, err)
}

// SchemaVersion returns the newest migration applied to the rooms schema.
func (s *SQLStore) SchemaVersion(ctx context.Context) (int, error) {
	return s.db.Version(ctx, Migrations.Table)
}

// RoomsCreatedBy calls fn with every room user created, oldest first, as
// the rows arrive: a member's data export reads it.
func (s *SQLStore) RoomsCreatedBy(ctx context.Context, user UserID, fn func(Room) error) error {
	rows, err := s.db.R.QueryContext(ctx, roomSelect+`WHERE r.created_by = $1 ORDER BY r.created_at, r.id`, string(user))
	if err != nil {
		return failed("rooms created by "+string(user), err)
	}
	defer rows.Close()
	for rows.Next() {
		r, err := scanRoom(rows)
		if err != nil {
			return failed("rooms created by "+string(user), err)
		}
		if err := fn(r); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return failed("rooms created by "+string(user), err)
	}
	return nil
}
