package rooms

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"
)

var _ ChatRecords = (*SQLStore)(nil)

const chatSelect = `SELECT id, room_id, seq, author_id, body, created_at, deleted_at, deleted_by FROM chat_messages `

func scanChat(sc interface{ Scan(...any) error }) (ChatMessage, error) {
	var m ChatMessage
	var author, by sql.NullString
	var created int64
	var deleted sql.NullInt64
	if err := sc.Scan(&m.ID, &m.Room, &m.Seq, &author, &m.Body, &created, &deleted, &by); err != nil {
		return ChatMessage{}, err
	}
	m.Author, m.DeletedBy, m.CreatedAt = UserID(author.String), UserID(by.String), fromMillis(created)
	if deleted.Valid {
		m.DeletedAt = fromMillis(deleted.Int64)
	}
	return m, nil
}

// roomChatState tells why a room refused chat: missing, ended or chat off.
func roomChatState(ctx context.Context, q rowQuerier, room RoomID) error {
	var ended sql.NullInt64
	var off int64
	err := q.QueryRowContext(ctx, `SELECT ended_at, chat_off FROM rooms WHERE id = $1`, string(room)).Scan(&ended, &off)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("room %s: %w", room, ErrRoomNotFound)
	case err != nil:
		return failed(fmt.Sprintf("room %s", room), err)
	case ended.Valid:
		return fmt.Errorf("room %s: %w", room, ErrRoomEnded)
	case off != 0:
		return fmt.Errorf("room %s: %w", room, ErrChatDisabled)
	}
	return nil
}

// AddChatMessage implements ChatRecords. The room's row numbers its
// messages: the conditional UPDATE takes the next seq, and its row lock
// (or SQLite's one writer) orders concurrent senders, on every process.
func (s *SQLStore) AddChatMessage(ctx context.Context, m ChatMessage) (ChatMessage, error) {
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		var seq int64
		err := tx.QueryRowContext(ctx, `UPDATE rooms SET chat_seq = chat_seq + 1
			WHERE id = $1 AND ended_at IS NULL AND chat_off = 0 RETURNING chat_seq`, string(m.Room)).Scan(&seq)
		if errors.Is(err, sql.ErrNoRows) {
			if err := roomChatState(ctx, tx, m.Room); err != nil {
				return err
			}
			return fmt.Errorf("room %s: %w", m.Room, ErrChatDisabled) // changed under us; cannot happen in a transaction
		}
		if err != nil {
			return failed(fmt.Sprintf("number chat in %s", m.Room), err)
		}
		m.Seq = uint64(seq)
		if _, err := tx.ExecContext(ctx, `INSERT INTO chat_messages (id, room_id, seq, author_id, body, created_at)
			VALUES ($1, $2, $3, $4, $5, $6)`,
			string(m.ID), string(m.Room), seq, string(m.Author), m.Body, toMillis(m.CreatedAt)); err != nil {
			return failed(fmt.Sprintf("insert chat message in %s", m.Room), err)
		}
		return nil
	}, nil, func(err error) error { return failed("add chat message", err) })
	if err != nil {
		return ChatMessage{}, fmt.Errorf("chat: %w", err)
	}
	m.CreatedAt = fromMillis(toMillis(m.CreatedAt))
	return m, nil
}

func selectChat(ctx context.Context, q rowQuerier, room RoomID, id MessageID) (ChatMessage, error) {
	m, err := scanChat(q.QueryRowContext(ctx, chatSelect+`WHERE id = $1 AND room_id = $2`, string(id), string(room)))
	if errors.Is(err, sql.ErrNoRows) {
		return ChatMessage{}, fmt.Errorf("message %s in %s: %w", id, room, ErrMessageNotFound)
	}
	if err != nil {
		return ChatMessage{}, failed(fmt.Sprintf("select message %s", id), err)
	}
	return m, nil
}

// ChatMessage implements ChatRecords.
func (s *SQLStore) ChatMessage(ctx context.Context, room RoomID, id MessageID) (ChatMessage, error) {
	return selectChat(ctx, s.db.R, room, id)
}

// DeleteChatMessage implements ChatRecords.
func (s *SQLStore) DeleteChatMessage(ctx context.Context, room RoomID, id MessageID, by UserID, at time.Time) (ChatMessage, error) {
	var out ChatMessage
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE chat_messages SET body = '', deleted_at = $1, deleted_by = $2
			WHERE id = $3 AND room_id = $4 AND deleted_at IS NULL`, toMillis(at), string(by), string(id), string(room)); err != nil {
			return failed(fmt.Sprintf("delete message %s", id), err)
		}
		var err error
		out, err = selectChat(ctx, tx, room, id)
		return err
	}, nil, func(err error) error { return failed("delete message", err) })
	if err != nil {
		return ChatMessage{}, fmt.Errorf("chat: %w", err)
	}
	return out, nil
}

// ChatHistory implements ChatRecords.
func (s *SQLStore) ChatHistory(ctx context.Context, room RoomID, q ChatQuery) ([]ChatMessage, error) {
	if err := checkStoreLimit("chat history", q.Limit); err != nil {
		return nil, err
	}
	const live = `WHERE room_id = $1 AND deleted_at IS NULL `
	var list []ChatMessage
	var err error
	switch {
	case q.After > 0:
		list, err = collect(ctx, s.db.R, "chat history", scanChat,
			chatSelect+live+`AND seq > $2 ORDER BY seq LIMIT $3`, string(room), int64(q.After), q.Limit)
		return list, err
	case q.Before > 0:
		list, err = collect(ctx, s.db.R, "chat history", scanChat,
			chatSelect+live+`AND seq < $2 ORDER BY seq DESC LIMIT $3`, string(room), int64(q.Before), q.Limit)
	default:
		list, err = collect(ctx, s.db.R, "chat history", scanChat,
			chatSelect+live+`ORDER BY seq DESC LIMIT $2`, string(room), q.Limit)
	}
	slices.Reverse(list)
	return list, err
}

// SetChatDisabled implements ChatRecords.
func (s *SQLStore) SetChatDisabled(ctx context.Context, room RoomID, off bool) (bool, error) {
	v := 0
	if off {
		v = 1
	}
	var changed bool
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE rooms SET chat_off = $1 WHERE id = $2 AND ended_at IS NULL AND chat_off <> $1`, v, string(room))
		if err != nil {
			return failed(fmt.Sprintf("set chat of %s", room), err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return failed(fmt.Sprintf("set chat of %s", room), err)
		}
		if changed = n > 0; changed {
			return nil
		}
		if err := roomChatState(ctx, tx, room); err != nil && !errors.Is(err, ErrChatDisabled) {
			return err
		}
		return nil
	}, nil, func(err error) error { return failed("set chat", err) })
	return changed, err
}

// ChatBy implements ChatRecords.
func (s *SQLStore) ChatBy(ctx context.Context, user UserID, after Cursor, limit int) ([]ChatMessage, error) {
	if err := checkStoreLimit("chat by", limit); err != nil {
		return nil, err
	}
	const where = `WHERE author_id = $1 AND deleted_at IS NULL `
	query, args := chatSelect+where+`ORDER BY created_at DESC, id DESC LIMIT $2`, []any{string(user), limit}
	if !after.IsZero() {
		query = chatSelect + where + `AND (created_at, id) < ($3, $4) ORDER BY created_at DESC, id DESC LIMIT $2`
		args = append(args, toMillis(after.At), after.ID)
	}
	return collect(ctx, s.db.R, "chat by", scanChat, query, args...)
}

// AnonymizeChatBy implements ChatRecords.
func (s *SQLStore) AnonymizeChatBy(ctx context.Context, user UserID) (int64, error) {
	return s.execCount(ctx, "anonymize chat", `UPDATE chat_messages SET author_id = NULL WHERE author_id = $1`, string(user))
}

// DeleteChatBy implements ChatRecords.
func (s *SQLStore) DeleteChatBy(ctx context.Context, user UserID) (int64, error) {
	return s.execCount(ctx, "delete chat", `DELETE FROM chat_messages WHERE author_id = $1`, string(user))
}

func (s *SQLStore) execCount(ctx context.Context, op, query string, args ...any) (int64, error) {
	res, err := s.db.W.ExecContext(ctx, query, args...)
	if err != nil {
		return 0, failed(op, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, failed(op, err)
	}
	return n, nil
}
