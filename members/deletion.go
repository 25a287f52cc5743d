package members

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/parley-audio/parley/rooms"
)

// Deleting an account happens in two steps, in this order, so that a
// failure half way never leaves an account that can still be used:
//
//  1. The account is marked deleted (Service.markDeleted): from then on
//     it cannot sign in, every session of it is revoked, every token of
//     it, session or development, is refused, and its open connections
//     are closed, here at once and on the other servers within the
//     revocation sync.
//  2. Its data is erased by every store's Erasers, as docs/api.md says
//     ("Deleting your account"): each eraser is idempotent, so running
//     them again is always safe.
//
// A deleted account stays pending until its erasure is final: the
// Deleter's Run erases it once more after Settle (a request that passed
// the token check just before the deletion may still be writing for a
// few seconds), and again on every tick until the erasers all succeed.
//
// Like the export (export.go), every store that keeps something about a
// member contributes: an Eraser per kind of data, wired in by cmd next to
// the export's sections. Each Eraser declares the columns holding member
// IDs that it answers for and what becomes of them (Erased, or Kept and
// why), so that a test can check every table of every store against the
// declarations and a new table cannot be forgotten.

// Fate is what deletion does to a member's rows in a column.
type Fate string

// The fates.
const (
	// Erased: the member's rows are deleted, or the column cleared.
	Erased Fate = "erased"
	// Kept: the rows stay, naming the member only by their tombstone ID,
	// which no longer leads to a name or anything else about them.
	Kept Fate = "kept"
)

// MemberColumn is a column that holds member IDs, and what deletion does
// to the deleted member's rows in it.
type MemberColumn struct {
	Table, Column string
	Fate          Fate
	// Why says why, for a Kept column especially.
	Why string
}

// Eraser is one store's part of an account deletion.
type Eraser struct {
	// Name says what it erases, for logs: "members: follows and blocks".
	Name string
	// Columns are the member columns it answers for.
	Columns []MemberColumn
	// Erase erases what the store keeps about user, as of now. It must be
	// idempotent, and safe to run on an account whose data is already
	// gone. nil when every one of Columns is Kept: the eraser then only
	// declares what stays.
	Erase func(ctx context.Context, user rooms.UserID, now time.Time) error
}

// DeleteRequest is a member's request to delete their own account.
type DeleteRequest struct {
	User rooms.UserID
	// Password confirms it, for an account that has one: a stolen access
	// token must not be enough. An account without one (the development
	// sign-in's) needs none, and one given is not checked.
	Password string
	// From is the client's address: attempts count against its sign-in
	// attempts, and failures against the username's, as in SignIn.
	From string
}

// DeleteResult says how far a deletion got.
type DeleteResult struct {
	Deletion Deletion
	// Pending is true when the account is deleted but some of its data
	// could not be erased yet: the Deleter's Run finishes it.
	Pending bool
}

// DeleterParams are NewDeleter's dependencies. Accounts is required.
type DeleterParams struct {
	Accounts *Service
	// Erasers run in this order, each whatever the others did.
	Erasers []Eraser
	// Settle is how long after a deletion its erasure runs once more and
	// becomes final; zero means DefaultSettle.
	Settle time.Duration
	Logger *slog.Logger
}

// DefaultSettle is how long after a deletion its data is erased again,
// for good: longer than any request that passed the token check before
// the deletion can last (the REST API's 10 seconds, a signaling message),
// plus the revocation sync.
const DefaultSettle = time.Minute

// Deleter deletes accounts. Its zero value is not usable; call
// NewDeleter. It is safe for concurrent use.
type Deleter struct {
	svc     *Service
	erasers []Eraser
	settle  time.Duration
	log     *slog.Logger
}

// NewDeleter returns a Deleter that erases with the given erasers.
func NewDeleter(p DeleterParams) (*Deleter, error) {
	if p.Accounts == nil {
		return nil, errors.New("members: NewDeleter needs Accounts")
	}
	seen := map[string]bool{}
	for _, e := range p.Erasers {
		if e.Name == "" || seen[e.Name] {
			return nil, fmt.Errorf("eraser %q: needs a unique name", e.Name)
		}
		seen[e.Name] = true
		erases := len(e.Columns) == 0
		for _, c := range e.Columns {
			if c.Table == "" || c.Column == "" || (c.Fate != Erased && c.Fate != Kept) || (c.Fate == Kept && c.Why == "") {
				return nil, fmt.Errorf("eraser %q: column %s.%s needs a fate, and a kept one a reason", e.Name, c.Table, c.Column)
			}
			erases = erases || c.Fate == Erased
		}
		if e.Erase == nil && erases {
			return nil, fmt.Errorf("eraser %q: erases, so needs Erase", e.Name)
		}
	}
	settle := p.Settle
	if settle <= 0 {
		settle = DefaultSettle
	}
	log := p.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Deleter{svc: p.Accounts, erasers: p.Erasers, settle: settle, log: log}, nil
}

// Erasers returns the erasers, in the order they run.
func (d *Deleter) Erasers() []Eraser { return append([]Eraser(nil), d.erasers...) }

// DeleteAccount deletes the member's account, once the password confirms
// it: it is marked deleted (nothing of it can be used from then on), then
// its data is erased. Errors, with nothing changed: a *ValidationError
// (no password), ErrWrongPassword, a *RateLimitError,
// ErrAccountNotFound, ErrAccountDeleted (deleted already). Once the
// account is marked deleted, a failure to erase is not an error: the
// result is Pending, and Run finishes it.
func (d *Deleter) DeleteAccount(ctx context.Context, req DeleteRequest) (DeleteResult, error) {
	if err := d.svc.confirmDeletion(ctx, req); err != nil {
		return DeleteResult{}, err
	}
	del, err := d.svc.markDeleted(ctx, req.User)
	if err != nil {
		return DeleteResult{}, err
	}
	if err := d.erase(ctx, req.User); err != nil {
		d.log.WarnContext(ctx, "account deleted, erasure pending", "user", req.User, "err", err)
		return DeleteResult{Deletion: del, Pending: true}, nil
	}
	return DeleteResult{Deletion: del}, nil
}

// erase runs every eraser, each whatever the others did, and returns
// their errors joined.
func (d *Deleter) erase(ctx context.Context, user rooms.UserID) error {
	// Erasers trust their caller; this is the one check that an account
	// is erased only once it is marked deleted.
	if _, deleted, err := d.svc.store.Deletion(ctx, user); err != nil {
		return err
	} else if !deleted {
		return fmt.Errorf("erase %s: the account is not marked deleted: %w", user, ErrForbidden)
	}
	now := d.svc.clock()
	var errs []error
	for _, e := range d.erasers {
		if err := ctx.Err(); err != nil {
			return errors.Join(append(errs, err)...)
		}
		if e.Erase == nil {
			continue
		}
		if err := e.Erase(ctx, user, now); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", e.Name, err))
		}
	}
	return errors.Join(errs...)
}

// pendingBatch is how many pending erasures FinishPending reads at a time.
const pendingBatch = 50

// FinishPending erases, for good, the accounts deleted at least Settle
// ago whose erasure is not final yet, and returns how many it finished.
// An account whose erasers fail stays pending for the next call.
func (d *Deleter) FinishPending(ctx context.Context) (int, error) {
	done := 0
	var errs []error
	cutoff := d.svc.clock().Add(-d.settle)
	var after Cursor
	for {
		list, err := d.svc.store.PendingErasures(ctx, cutoff, after, pendingBatch)
		if err != nil {
			return done, errors.Join(append(errs, err)...)
		}
		for _, del := range list {
			after = Cursor{At: del.At, ID: string(del.ID)}
			if err := d.erase(ctx, del.ID); err != nil {
				errs = append(errs, fmt.Errorf("erase %s: %w", del.ID, err))
				continue
			}
			if err := d.svc.store.MarkErased(ctx, del.ID, d.svc.clock()); err != nil {
				return done, errors.Join(append(errs, err)...)
			}
			done++
			d.log.InfoContext(ctx, "deleted account erased", "user", del.ID, "deleted_at", del.At)
		}
		if len(list) < pendingBatch {
			return done, errors.Join(errs...)
		}
	}
}

// Run finishes pending erasures on every tick until ctx ends (cmd gives
// it a ticker, and calls FinishPending once at start). Failures are
// logged and tried again on the next tick.
func (d *Deleter) Run(ctx context.Context, tick <-chan time.Time) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick:
		}
		if _, err := d.FinishPending(ctx); err != nil && ctx.Err() == nil {
			d.log.WarnContext(ctx, "finish pending erasures", "err", err)
		}
	}
}

// confirmDeletion checks that req may delete its account: an account
// with a password needs it, checked under the sign-in rate limits (a
// stolen access token must not become a way to guess the password).
func (s *Service) confirmDeletion(ctx context.Context, req DeleteRequest) error {
	a, err := s.store.Account(ctx, req.User)
	if err != nil {
		return err
	}
	if a.Status == StatusDeleted {
		return fmt.Errorf("delete %s: %w", a.ID, ErrAccountDeleted)
	}
	c, hash, err := s.store.Credentials(ctx, a.Username)
	if err != nil && !errors.Is(err, ErrAccountNotFound) {
		return err
	}
	if err != nil || c.ID != a.ID {
		// The username changed between the two reads: ask again.
		return fmt.Errorf("delete %s: the account changed; try again: %w", a.ID, ErrUnavailable)
	}
	if hash == "" {
		return nil // a development account: no password to ask for
	}
	ve := &ValidationError{}
	switch {
	case req.Password == "":
		ve.add("password", "is required to delete an account that has one")
	case len(req.Password) > maxSignInPasswordBytes:
		ve.add("password", "must be at most 256 characters")
	}
	if err := ve.orNil(); err != nil {
		return err
	}
	now := s.now()
	if req.From != "" {
		if err := take(ctx, s.addrs, req.From, now); err != nil {
			return fmt.Errorf("delete from %s: %w", req.From, err)
		}
	}
	if err := take(ctx, s.users, a.Username, now); err != nil {
		return fmt.Errorf("delete %s: %w", a.ID, err)
	}
	ok, err := checkPassword(req.Password, hash)
	if err != nil {
		return fmt.Errorf("delete %s: stored password hash: %w", a.ID, err)
	}
	if !ok {
		s.log.InfoContext(ctx, "account deletion refused: wrong password", "user", a.ID, "from", req.From)
		return fmt.Errorf("delete %s: %w", a.ID, ErrWrongPassword)
	}
	if err := s.users.Give(ctx, a.Username, now); err != nil {
		s.log.WarnContext(ctx, "rate limit: give back", "err", err)
	}
	return nil
}

// markDeleted marks the account deleted and revokes its sessions in the
// store, then tells this process's revocation cache at once, which closes
// the member's connections (OnAccountDeleted, OnSignOut).
func (s *Service) markDeleted(ctx context.Context, id rooms.UserID) (Deletion, error) {
	now := s.clock()
	del, sessions, err := s.store.MarkDeleted(ctx, id, now)
	if err != nil {
		return Deletion{}, err
	}
	s.revoked.addGone(id, del.At)
	for _, sid := range sessions {
		s.revoked.add(sid, now)
	}
	s.log.InfoContext(ctx, "account deleted", "user", id, "sessions", len(sessions))
	return del, nil
}
