package members

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/parley-audio/parley/rooms"
)

// DeletedName is what rooms show for a member whose account was deleted:
// their rooms and, if kept, their words outlive them, their name does not.
const DeletedName = "Deleted member"

// devUsernamePrefix starts the usernames of accounts made by the
// development sign-in, which no one chose.
const devUsernamePrefix = "dev_"

// CreateMember implements rooms.MemberRecords for the development sign-in:
// an active account with a generated username and no password, which can
// only ever sign in through the development sign-in again. It never claims
// the instance's first (admin) account.
func (s *SQLStore) CreateMember(ctx context.Context, m rooms.Member) error {
	_, err := s.db.W.ExecContext(ctx, `INSERT INTO accounts
		(id, username, display_name, status, password_hash, created_at)
		VALUES ($1, $2, $3, 'active', '', $4)`,
		string(m.ID), devUsername(m.ID), m.DisplayName, millis(m.CreatedAt))
	if s.db.IsUnique(err) {
		return fmt.Errorf("create member %s: ID taken: %w", m.ID, ErrUsernameTaken)
	}
	if err != nil {
		return failed("insert member", err)
	}
	return nil
}

// devUsername derives a development account's username from its ID: the
// ID's random part, which is lowercase base32 and 26 characters long, fits
// the username rules with the prefix.
func devUsername(id rooms.UserID) string {
	_, rest, _ := strings.Cut(string(id), "_")
	u := devUsernamePrefix + rest
	if len(u) > MaxUsernameLen {
		u = u[:MaxUsernameLen]
	}
	return u
}

// Member implements rooms.MemberRecords: the account as rooms knows it.
// A deleted account is still a member, named DeletedName, so that the
// rooms it hosted read well.
func (s *SQLStore) Member(ctx context.Context, id rooms.UserID) (rooms.Member, error) {
	var m rooms.Member
	var status string
	var created int64
	err := s.db.R.QueryRowContext(ctx, `SELECT id, display_name, status, created_at FROM accounts WHERE id = $1`,
		string(id)).Scan(&m.ID, &m.DisplayName, &status, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return rooms.Member{}, fmt.Errorf("member %s: %w", id, rooms.ErrMemberNotFound)
	}
	if err != nil {
		return rooms.Member{}, failed("select member", err)
	}
	if Status(status) == StatusDeleted {
		m.DisplayName = DeletedName
	}
	m.CreatedAt = fromMillis(created)
	return m, nil
}
