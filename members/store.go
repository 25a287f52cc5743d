package members

import (
	"context"
	"time"

	"github.com/parley-audio/parley/rooms"
)

// Store is everything the Service keeps durably. It is the union of small
// interfaces, one per concern, so that a test fake or a later backend can
// be written a part at a time. Implementations: SQLite (the default) and
// Postgres, both *SQLStore, held to one contract suite (store_test.go).
type Store interface {
	AccountStore
	InviteStore
	SessionStore
	Ping(ctx context.Context) error
}

// How CreateAccount lets an account in. Whatever the mode, the very first
// account of an instance becomes an active admin.
type JoinMode int

const (
	// JoinWaitlist creates the account on the waitlist.
	JoinWaitlist JoinMode = iota
	// JoinInvite consumes NewAccount.InviteHash and creates the account
	// active, invited by the invite's creator.
	JoinInvite
	// JoinDirect creates the account active, with NewAccount.Account.Admin
	// as given (`parley admin create`).
	JoinDirect
)

// NewAccount is an account to create. Account.Status and Account.InvitedBy
// are decided by the store from Mode.
type NewAccount struct {
	Account      Account
	PasswordHash string
	Mode         JoinMode
	InviteHash   string
}

// AccountStore keeps accounts.
type AccountStore interface {
	// CreateAccount stores a new account and returns it as stored. In one
	// transaction it claims the instance's first account (which becomes an
	// active admin whatever the mode), or consumes the invite (JoinInvite:
	// ErrInviteInvalid, ErrInviteUsed, ErrInviteExpired or
	// ErrInviteRevoked, judged at Account.CreatedAt). A username already
	// held is ErrUsernameTaken; nothing is changed on any error.
	CreateAccount(ctx context.Context, n NewAccount) (Account, error)
	// Account returns one account or ErrAccountNotFound.
	Account(ctx context.Context, id rooms.UserID) (Account, error)
	// Credentials returns the account with that (normalized) username and
	// its password hash, or ErrAccountNotFound.
	Credentials(ctx context.Context, username string) (Account, string, error)
	// Waitlist returns up to limit waitlisted accounts, oldest first,
	// after the cursor (zero: from the start).
	Waitlist(ctx context.Context, after Cursor, limit int) ([]Account, error)
	// Approve makes a waitlisted account active. It returns
	// ErrAccountNotFound or ErrNotWaitlisted.
	Approve(ctx context.Context, id rooms.UserID) (Account, error)
}

// Cursor is a position in a list ordered by (time, ID).
type Cursor struct {
	At time.Time
	ID string
}

// IsZero reports whether the cursor is the start of the list.
func (c Cursor) IsZero() bool { return c.ID == "" }

// Invite is one invitation a member gave.
type Invite struct {
	ID        InviteID
	CreatedBy rooms.UserID
	CreatedAt time.Time
	ExpiresAt time.Time
	// UsedBy and UsedAt are set once someone signed up with it (or was let
	// in from the waitlist with it).
	UsedBy    rooms.UserID
	UsedAt    time.Time
	RevokedAt time.Time
	// Direct is true for an invite spent on someone from the waitlist,
	// which never had a code.
	Direct bool
}

// InviteState is an invite's standing at a moment.
type InviteState string

// The states, in the order they are judged.
const (
	InviteUsed    InviteState = "used"
	InviteRevoked InviteState = "revoked"
	InviteExpired InviteState = "expired"
	InviteActive  InviteState = "active"
)

// State is the invite's state at now.
func (i Invite) State(now time.Time) InviteState {
	switch {
	case i.UsedBy != "":
		return InviteUsed
	case !i.RevokedAt.IsZero():
		return InviteRevoked
	case !now.Before(i.ExpiresAt):
		return InviteExpired
	default:
		return InviteActive
	}
}

// countsAgainstQuota reports whether the invite takes one of its creator's
// quota at now: used ones do for good, unused ones while they can still be
// used. Revoked and expired unused ones give their place back.
func (i Invite) countsAgainstQuota(now time.Time) bool {
	s := i.State(now)
	return s == InviteUsed || s == InviteActive
}

// InviteStore keeps invites.
type InviteStore interface {
	// CreateInvite stores a new invite with its code's hash, unless its
	// creator already has quota invites counting against the quota at
	// inv.CreatedAt: then ErrQuotaExhausted. The check and the insert are
	// atomic per creator. A creator who is not active is ErrForbidden.
	CreateInvite(ctx context.Context, inv Invite, codeHash string, quota int) error
	// Invites returns up to limit of a member's invites, newest first,
	// after the cursor.
	Invites(ctx context.Context, creator rooms.UserID, after Cursor, limit int) ([]Invite, error)
	// QuotaUsed counts the member's invites that count against the quota
	// at now.
	QuotaUsed(ctx context.Context, creator rooms.UserID, now time.Time) (int, error)
	// RevokeInvite revokes one of creator's unused invites at now and
	// returns it. Revoking a revoked invite returns it unchanged; a used
	// one is ErrInviteUsed; someone else's or a missing one is
	// ErrInviteNotFound.
	RevokeInvite(ctx context.Context, creator rooms.UserID, id InviteID, now time.Time) (Invite, error)
	// LetIn spends one of inviter's invites (a Direct invite, used at
	// once) to make the waitlisted account with that username active,
	// invited by inviter. It returns ErrAccountNotFound, ErrNotWaitlisted,
	// ErrQuotaExhausted or (an inviter not active) ErrForbidden, changing
	// nothing.
	LetIn(ctx context.Context, inviter rooms.UserID, username string, id InviteID, quota int, now time.Time) (Account, error)
}

// Session is one sign-in.
type Session struct {
	ID        SessionID
	AccountID rooms.UserID
	CreatedAt time.Time
	// ExpiresAt is when the current refresh token stops working.
	ExpiresAt time.Time
	RevokedAt time.Time
}

// Revocation is a session revoked at a time, for the revocation cache.
type Revocation struct {
	ID SessionID
	At time.Time
}

// SessionStore keeps sessions and their refresh tokens.
type SessionStore interface {
	// CreateSession stores a new session with its first refresh token.
	CreateSession(ctx context.Context, s Session, refreshHash string) error
	// RotateRefresh exchanges a refresh token for a new one, valid until
	// expires, and returns the session. An unknown token, or one of an
	// expired or revoked session, is ErrRefreshInvalid. A token that was
	// already exchanged is ErrRefreshReused, and its session is revoked
	// at now (that revocation is kept, though an error is returned, and
	// the revoked session is returned with that error).
	RotateRefresh(ctx context.Context, oldHash, newHash string, now, expires time.Time) (Session, error)
	// RevokeSession revokes one session of the account at now. Revoking a
	// revoked one changes nothing; a missing one, or another account's, is
	// ErrSessionNotFound.
	RevokeSession(ctx context.Context, account rooms.UserID, id SessionID, now time.Time) error
	// RevokeSessions revokes every live session of the account at now and
	// returns their IDs.
	RevokeSessions(ctx context.Context, account rooms.UserID, now time.Time) ([]SessionID, error)
	// RevokedSince returns the sessions revoked at or after since.
	RevokedSince(ctx context.Context, since time.Time) ([]Revocation, error)
}
