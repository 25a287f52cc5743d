package members

import (
	"context"
	"encoding/base64"
	"fmt"
	"strings"
	"time"

	"github.com/parley-audio/parley/rooms"
)

// Page sizes of the lists (invites, the waitlist).
const (
	DefaultPageSize = 50
	MaxPageSize     = 100
)

// Page is a page of a list and the cursor of the next ("" on the last).
type Page[T any] struct {
	Items      []T
	NextCursor string
}

// InvitePage is a page of a member's invites, with where their quota
// stands.
type InvitePage struct {
	Page[Invite]
	// Quota is how many invites the member holds at a time; QuotaUsed how
	// many of those count now (used, and unused ones still usable).
	Quota, QuotaUsed int
}

// NewInvite is an invite just made: the code is shown to its creator this
// once, and kept only as a hash.
type NewInvite struct {
	Invite Invite
	Code   InviteCode
}

// CreateInvite makes an invite of creator's, valid for Config.InviteTTL,
// if their quota allows: else ErrQuotaExhausted. A creator who is not an
// active account is ErrForbidden.
func (s *Service) CreateInvite(ctx context.Context, creator rooms.UserID) (NewInvite, error) {
	now := s.clock()
	inv := Invite{ID: NewInviteID(), CreatedBy: creator, CreatedAt: now, ExpiresAt: now.Add(s.cfg.InviteTTL)}
	code := newInviteCode()
	if err := s.store.CreateInvite(ctx, inv, hashSecret(code), s.cfg.InviteQuota); err != nil {
		return NewInvite{}, fmt.Errorf("create invite: %w", err)
	}
	s.log.InfoContext(ctx, "invite created", "user", creator, "invite", inv.ID)
	return NewInvite{Invite: inv, Code: code}, nil
}

// Invites returns a page of creator's invites, newest first, with their
// quota. limit 0 means DefaultPageSize; cursor "" the first page.
func (s *Service) Invites(ctx context.Context, creator rooms.UserID, limit int, cursor string) (InvitePage, error) {
	after, limit, err := pageQuery(limit, cursor, func(id string) bool {
		_, err := ParseInviteID(id)
		return err == nil
	})
	if err != nil {
		return InvitePage{}, err
	}
	list, err := s.store.Invites(ctx, creator, after, limit+1)
	if err != nil {
		return InvitePage{}, err
	}
	used, err := s.store.QuotaUsed(ctx, creator, s.clock())
	if err != nil {
		return InvitePage{}, err
	}
	p := InvitePage{Quota: s.cfg.InviteQuota, QuotaUsed: used}
	p.Page = page(list, limit, func(i Invite) Cursor { return Cursor{At: i.CreatedAt, ID: string(i.ID)} })
	return p, nil
}

// RevokeInvite revokes one of creator's unused invites, giving its place
// in the quota back. Revoking it again returns it unchanged; a used one is
// ErrInviteUsed; another's or a missing one ErrInviteNotFound.
func (s *Service) RevokeInvite(ctx context.Context, creator rooms.UserID, id InviteID) (Invite, error) {
	inv, err := s.store.RevokeInvite(ctx, creator, id, s.clock())
	if err != nil {
		return Invite{}, err
	}
	s.log.InfoContext(ctx, "invite revoked", "user", creator, "invite", id)
	return inv, nil
}

// LetIn spends one of inviter's invites on the person with that username
// on the waitlist, who becomes active, invited by inviter. Errors: a
// *ValidationError for a username that cannot exist, ErrAccountNotFound,
// ErrNotWaitlisted, ErrQuotaExhausted, ErrForbidden (an inviter who is not
// active).
func (s *Service) LetIn(ctx context.Context, inviter rooms.UserID, username string) (Account, error) {
	u := NormalizeUsername(username)
	if msg := usernameProblem(u); msg != "" {
		return Account{}, &ValidationError{Fields: []FieldError{{Field: "username", Message: msg}}}
	}
	a, err := s.store.LetIn(ctx, inviter, u, NewInviteID(), s.cfg.InviteQuota, s.clock())
	if err != nil {
		return Account{}, err
	}
	s.log.InfoContext(ctx, "let in from the waitlist", "user", a.ID, "invited_by", inviter)
	return a, nil
}

// Waitlist returns a page of the accounts waiting, oldest first, to an
// active admin (else ErrForbidden).
func (s *Service) Waitlist(ctx context.Context, actor rooms.UserID, limit int, cursor string) (Page[Account], error) {
	if err := s.requireAdmin(ctx, actor); err != nil {
		return Page[Account]{}, err
	}
	return s.OperatorWaitlist(ctx, limit, cursor)
}

// Approve makes a waitlisted account active, for an active admin (else
// ErrForbidden). Errors: ErrAccountNotFound, ErrNotWaitlisted.
func (s *Service) Approve(ctx context.Context, actor, id rooms.UserID) (Account, error) {
	if err := s.requireAdmin(ctx, actor); err != nil {
		return Account{}, err
	}
	a, err := s.store.Approve(ctx, id)
	if err != nil {
		return Account{}, err
	}
	s.log.InfoContext(ctx, "approved from the waitlist", "user", a.ID, "by", actor)
	return a, nil
}

// OperatorWaitlist is Waitlist for the `parley admin` command, which
// whoever holds the database runs: it checks no caller.
func (s *Service) OperatorWaitlist(ctx context.Context, limit int, cursor string) (Page[Account], error) {
	after, limit, err := pageQuery(limit, cursor, func(id string) bool {
		_, err := rooms.ParseUserID(id)
		return err == nil
	})
	if err != nil {
		return Page[Account]{}, err
	}
	list, err := s.store.Waitlist(ctx, after, limit+1)
	if err != nil {
		return Page[Account]{}, err
	}
	return page(list, limit, func(a Account) Cursor { return Cursor{At: a.CreatedAt, ID: string(a.ID)} }), nil
}

// OperatorApprove approves the waitlisted account with that username, for
// the `parley admin` command (no caller is checked).
func (s *Service) OperatorApprove(ctx context.Context, username string) (Account, error) {
	a, _, err := s.store.Credentials(ctx, NormalizeUsername(username))
	if err != nil {
		return Account{}, fmt.Errorf("approve %q: %w", username, err)
	}
	a, err = s.store.Approve(ctx, a.ID)
	if err != nil {
		return Account{}, fmt.Errorf("approve %q: %w", username, err)
	}
	s.log.InfoContext(ctx, "approved from the waitlist", "user", a.ID, "by", "operator")
	return a, nil
}

// pageQuery checks a page's limit and cursor. validID says whether a
// cursor's ID has the list's shape.
func pageQuery(limit int, cursor string, validID func(string) bool) (Cursor, int, error) {
	ve := &ValidationError{}
	if limit == 0 {
		limit = DefaultPageSize
	}
	if limit < 1 || limit > MaxPageSize {
		ve.add("limit", fmt.Sprintf("must be between 1 and %d", MaxPageSize))
	}
	var after Cursor
	if cursor != "" {
		var ok bool
		if after, ok = decodeCursor(cursor); !ok || !validID(after.ID) {
			ve.add("cursor", "is not a cursor this server issued")
		}
	}
	return after, limit, ve.orNil()
}

// page cuts a list read with limit+1 rows to limit, with the cursor of the
// next page when there was more.
func page[T any](list []T, limit int, at func(T) Cursor) Page[T] {
	p := Page[T]{Items: list}
	if len(list) > limit {
		p.Items = list[:limit]
		p.NextCursor = encodeCursor(at(p.Items[limit-1]))
	}
	if p.Items == nil {
		p.Items = []T{}
	}
	return p
}

// Cursors are opaque to clients: a position in a list ordered by (time,
// ID), as rooms' cursors are written.
func encodeCursor(c Cursor) string {
	return base64.RawURLEncoding.EncodeToString([]byte(c.At.UTC().Format(time.RFC3339Nano) + "|" + c.ID))
}

func decodeCursor(s string) (Cursor, bool) {
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return Cursor{}, false
	}
	ts, id, ok := strings.Cut(string(raw), "|")
	if !ok {
		return Cursor{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, ts)
	if err != nil {
		return Cursor{}, false
	}
	return Cursor{At: t, ID: id}, true
}
