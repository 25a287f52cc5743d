package members

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/parley-audio/parley/internal/sqldb"
	"github.com/parley-audio/parley/rooms"
)

var _ SocialStore = (*SQLStore)(nil)

// UpdateProfile implements SocialStore.
func (s *SQLStore) UpdateProfile(ctx context.Context, id rooms.UserID, u ProfileUpdate) (Account, error) {
	var sets []string
	var args []any
	for _, f := range []struct {
		col string
		v   *string
	}{
		{"display_name", u.DisplayName}, {"username", u.Username}, {"headline", u.Headline},
		{"bio", u.Bio}, {"avatar_url", u.AvatarURL},
	} {
		if f.v != nil {
			args = append(args, *f.v)
			sets = append(sets, f.col+" = $"+strconv.Itoa(len(args)))
		}
	}
	if len(sets) == 0 {
		return Account{}, fmt.Errorf("update profile %s: nothing to change: %w", id, ErrInvalid)
	}
	args = append(args, string(id))
	q := `UPDATE accounts SET ` + strings.Join(sets, ", ") + ` WHERE id = $` + strconv.Itoa(len(args)) +
		` AND status = 'active' RETURNING ` + accountColumns
	a, err := scanAccount(s.db.W.QueryRowContext(ctx, q, args...))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return Account{}, fmt.Errorf("update profile %s: %w", id, ErrAccountNotFound)
	case s.db.IsUnique(err):
		return Account{}, fmt.Errorf("update profile %s: %w", id, ErrUsernameTaken)
	case err != nil:
		return Account{}, failed("update profile", err)
	}
	return a, nil
}

// FollowCounts implements SocialStore.
func (s *SQLStore) FollowCounts(ctx context.Context, id rooms.UserID) (followers, following int, err error) {
	err = s.db.R.QueryRowContext(ctx, `SELECT
		(SELECT COUNT(*) FROM follows f JOIN accounts a ON a.id = f.follower WHERE f.followee = $1 AND a.status = 'active'),
		(SELECT COUNT(*) FROM follows f JOIN accounts a ON a.id = f.followee WHERE f.follower = $1 AND a.status = 'active')`,
		string(id)).Scan(&followers, &following)
	if err != nil {
		return 0, 0, failed("follow counts", err)
	}
	return followers, following, nil
}

// Relation implements SocialStore.
func (s *SQLStore) Relation(ctx context.Context, viewer, other rooms.UserID) (Relation, error) {
	var r Relation
	err := s.db.R.QueryRowContext(ctx, `SELECT
		EXISTS (SELECT 1 FROM follows WHERE follower = $1 AND followee = $2),
		EXISTS (SELECT 1 FROM follows WHERE follower = $2 AND followee = $1),
		EXISTS (SELECT 1 FROM blocks WHERE blocker = $1 AND blocked = $2),
		EXISTS (SELECT 1 FROM blocks WHERE blocker = $2 AND blocked = $1)`,
		string(viewer), string(other)).Scan(&r.Following, &r.FollowedBy, &r.Blocking, &r.BlockedBy)
	if err != nil {
		return Relation{}, failed("relation", err)
	}
	return r, nil
}

// lockPair locks both accounts' rows, in ID order so that two transactions
// on one pair never wait on each other in a circle, and checks that both
// are active. Every change of a follow or a block between two members
// takes it first: without it, on Postgres, a follow and a block of one
// pair committing at once could each miss the other and leave a follow
// standing across a block. (SQLite has one writer; the lock is free.)
func lockPair(ctx context.Context, tx *sql.Tx, a, b rooms.UserID) error {
	first, second := a, b
	if second < first {
		first, second = second, first
	}
	for _, id := range []rooms.UserID{first, second} {
		res, err := tx.ExecContext(ctx, `UPDATE accounts SET status = status WHERE id = $1 AND status = 'active'`, string(id))
		if err != nil {
			return failed("lock accounts", err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return failed("lock accounts", err)
		} else if n == 0 {
			return fmt.Errorf("account %s: %w", id, ErrAccountNotFound)
		}
	}
	return nil
}

// Follow implements SocialStore.
func (s *SQLStore) Follow(ctx context.Context, follower, followee rooms.UserID, at time.Time) error {
	if follower == followee {
		return fmt.Errorf("follow: %s follows themselves: %w", follower, ErrInvalid)
	}
	return s.inTx(ctx, "follow", func(tx *sql.Tx) error {
		if err := lockPair(ctx, tx, follower, followee); err != nil {
			return err
		}
		var blocked bool
		if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM blocks
			WHERE (blocker = $1 AND blocked = $2) OR (blocker = $2 AND blocked = $1))`,
			string(follower), string(followee)).Scan(&blocked); err != nil {
			return failed("follow: check blocks", err)
		}
		if blocked {
			return fmt.Errorf("follow %s: %w", followee, ErrBlocked)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO follows (follower, followee, created_at) VALUES ($1, $2, $3)
			ON CONFLICT DO NOTHING`, string(follower), string(followee), millis(at)); err != nil {
			return failed("follow", err)
		}
		return nil
	}, nil)
}

// Unfollow implements SocialStore.
func (s *SQLStore) Unfollow(ctx context.Context, follower, followee rooms.UserID) error {
	if _, err := s.db.W.ExecContext(ctx, `DELETE FROM follows WHERE follower = $1 AND followee = $2`,
		string(follower), string(followee)); err != nil {
		return failed("unfollow", err)
	}
	return nil
}

// Block implements SocialStore.
func (s *SQLStore) Block(ctx context.Context, blocker, blocked rooms.UserID, at time.Time) error {
	if blocker == blocked {
		return fmt.Errorf("block: %s blocks themselves: %w", blocker, ErrInvalid)
	}
	return s.inTx(ctx, "block", func(tx *sql.Tx) error {
		if err := lockPair(ctx, tx, blocker, blocked); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO blocks (blocker, blocked, created_at) VALUES ($1, $2, $3)
			ON CONFLICT DO NOTHING`, string(blocker), string(blocked), millis(at)); err != nil {
			return failed("block", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM follows
			WHERE (follower = $1 AND followee = $2) OR (follower = $2 AND followee = $1)`,
			string(blocker), string(blocked)); err != nil {
			return failed("block: end follows", err)
		}
		return nil
	}, nil)
}

// Unblock implements SocialStore.
func (s *SQLStore) Unblock(ctx context.Context, blocker, blocked rooms.UserID) error {
	if _, err := s.db.W.ExecContext(ctx, `DELETE FROM blocks WHERE blocker = $1 AND blocked = $2`,
		string(blocker), string(blocked)); err != nil {
		return failed("unblock", err)
	}
	return nil
}

// edgeList is one of the three lists of edges: which table, which column
// names the member whose list it is (mine), and which the other end.
type edgeList struct {
	op, table, mine, other string
}

var (
	followersList = edgeList{"followers", "follows", "followee", "follower"}
	followingList = edgeList{"following", "follows", "follower", "followee"}
	blocksList    = edgeList{"blocks", "blocks", "blocker", "blocked"}
)

// edges reads one page of a list. The row-value comparison seeks straight
// to the cursor along the list's index.
func (s *SQLStore) edges(ctx context.Context, l edgeList, id rooms.UserID, after Cursor, limit int) ([]Edge, error) {
	if limit < 1 {
		return nil, fmt.Errorf("%s: limit %d: %w", l.op, limit, ErrInvalid)
	}
	q := `SELECT ` + prefixed("a.", accountColumns) + `, e.created_at FROM ` + l.table + ` e
		JOIN accounts a ON a.id = e.` + l.other + `
		WHERE e.` + l.mine + ` = $1 AND a.status = 'active' `
	args := []any{string(id), limit}
	if !after.IsZero() {
		q += `AND (e.created_at, e.` + l.other + `) < ($3, $4) `
		args = append(args, millis(after.At), after.ID)
	}
	q += `ORDER BY e.created_at DESC, e.` + l.other + ` DESC LIMIT $2`
	return collect(ctx, s.db.R, l.op, scanEdge, q, args...)
}

func scanEdge(sc scanner) (Edge, error) {
	var e Edge
	var since int64
	a, err := scanAccount(scannerFunc(func(dest ...any) error { return sc.Scan(append(dest, &since)...) }))
	e.Member, e.Since = a, fromMillis(since)
	return e, err
}

// prefixed qualifies each of a comma-separated list of columns.
func prefixed(p, cols string) string {
	parts := strings.Split(cols, ",")
	for i, c := range parts {
		parts[i] = p + strings.TrimSpace(c)
	}
	return strings.Join(parts, ", ")
}

// Followers implements SocialStore.
func (s *SQLStore) Followers(ctx context.Context, id rooms.UserID, after Cursor, limit int) ([]Edge, error) {
	return s.edges(ctx, followersList, id, after, limit)
}

// Following implements SocialStore.
func (s *SQLStore) Following(ctx context.Context, id rooms.UserID, after Cursor, limit int) ([]Edge, error) {
	return s.edges(ctx, followingList, id, after, limit)
}

// Blocks implements SocialStore.
func (s *SQLStore) Blocks(ctx context.Context, blocker rooms.UserID, after Cursor, limit int) ([]Edge, error) {
	return s.edges(ctx, blocksList, blocker, after, limit)
}

// inList returns "$from, $from+1, …" for n placeholders and the IDs as
// arguments.
func inList(from int, ids []rooms.UserID) (string, []any) {
	ph := make([]string, len(ids))
	args := make([]any, len(ids))
	for i, id := range ids {
		ph[i] = "$" + strconv.Itoa(from+i)
		args[i] = string(id)
	}
	return strings.Join(ph, ", "), args
}

// among runs query (with $1 the member and $2... the candidates) and
// returns the candidates it selects. Candidates go in chunks, so that no
// list, however long, meets an engine's limit on parameters.
func (s *SQLStore) among(ctx context.Context, op, query string, member rooms.UserID, candidates []rooms.UserID) ([]rooms.UserID, error) {
	const chunk = 500
	var out []rooms.UserID
	for len(candidates) > 0 {
		n := min(chunk, len(candidates))
		ph, args := inList(2, candidates[:n])
		candidates = candidates[n:]
		got, err := collect(ctx, s.db.R, op, func(sc scanner) (rooms.UserID, error) {
			var id rooms.UserID
			err := sc.Scan(&id)
			return id, err
		}, strings.Replace(query, "$LIST", ph, 1), append([]any{string(member)}, args...)...)
		if err != nil {
			return nil, err
		}
		out = append(out, got...)
	}
	return out, nil
}

// Followed implements SocialStore.
func (s *SQLStore) Followed(ctx context.Context, follower rooms.UserID, among []rooms.UserID) ([]rooms.UserID, error) {
	return s.among(ctx, "followed", `SELECT followee FROM follows WHERE follower = $1 AND followee IN ($LIST)`, follower, among)
}

// Blockers implements SocialStore.
func (s *SQLStore) Blockers(ctx context.Context, user rooms.UserID, among []rooms.UserID) ([]rooms.UserID, error) {
	return s.among(ctx, "blockers", `SELECT blocker FROM blocks WHERE blocked = $1 AND blocker IN ($LIST)`, user, among)
}

// asciiLower folds the display name the way the search prefix is folded:
// ASCII letters only. SQLite's LIKE already ignores the case of ASCII
// letters and only of them; Postgres's LIKE does not, and its lower()
// would also fold other letters, so it gets translate() of A-Z alone. Both
// engines then match the same names.
func asciiLower(d sqldb.Dialect, col string) string {
	if d == sqldb.Postgres {
		return `translate(` + col + `, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')`
	}
	return col
}

// likePrefix escapes a prefix for LIKE ... ESCAPE '!'.
func likePrefix(p string) string {
	r := strings.NewReplacer("!", "!!", "%", "!%", "_", "!_")
	return r.Replace(p) + "%"
}

// SearchMembers implements SocialStore. It scans active accounts for the
// display-name match (there is no index for a folded prefix): fine for a
// community's thousands of members, and bounded by the caller's rate
// limit.
func (s *SQLStore) SearchMembers(ctx context.Context, q SearchQuery) ([]Account, error) {
	if q.Limit < 1 || q.Prefix == "" {
		return nil, fmt.Errorf("search members: %w", ErrInvalid)
	}
	query := `SELECT ` + prefixed("a.", accountColumns) + ` FROM accounts a
		WHERE a.status = 'active'
		AND (a.username LIKE $1 ESCAPE '!' OR ` + asciiLower(s.db.Dialect, "a.display_name") + ` LIKE $1 ESCAPE '!')
		AND a.username > $2
		AND NOT EXISTS (SELECT 1 FROM blocks b WHERE b.blocker = a.id AND b.blocked = $3)
		ORDER BY a.username LIMIT $4`
	return collect(ctx, s.db.R, "search members", scanAccount, query,
		likePrefix(q.Prefix), q.AfterUsername, string(q.Viewer), q.Limit)
}
