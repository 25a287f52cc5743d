package members

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parley-audio/parley/rooms"
)

// revokedLister is what the revocation cache reads.
type revokedLister interface {
	RevokedSince(ctx context.Context, since time.Time) ([]Revocation, error)
	DeletedSince(ctx context.Context, since time.Time) ([]Deletion, error)
}

// revocations is this process's view of the revoked sessions, so that
// checking an access token costs a map lookup instead of a query.
//
// A session revoked in this process is in it at once (add). One revoked
// by another process sharing the database arrives with the next sync,
// every Config.RevocationSync: each sync reads what was revoked since the
// previous one began, less an overlap (syncOverlap) that covers a
// transaction committing after its revoked_at, and clocks of processes
// that disagree by less than that.
//
// A revocation is forgotten once every access token issued before it has
// expired (AccessTTL, plus the overlap): no token of that session can
// pass the signature check any more, and no new one is issued for it.
//
// Deleted accounts are kept the same way, by member rather than by
// session: a development sign-in's token belongs to no session, so only
// its member tells it is gone. They are forgotten once every token of
// theirs, of either kind, has expired (keepGone).
type revocations struct {
	src      revokedLister
	keep     time.Duration
	keepGone time.Duration
	staleAt  time.Duration
	// hook is told of the sessions newly known to be revoked, goneHook
	// of the members newly known to be deleted.
	hook     atomic.Pointer[func([]SessionID)]
	goneHook atomic.Pointer[func([]rooms.UserID)]

	mu   sync.RWMutex // guards the fields below
	at   map[SessionID]time.Time
	gone map[rooms.UserID]time.Time
	// since is where the next sync reads from; syncedAt is when the last
	// successful one began (zero: never, and every check fails).
	since, syncedAt time.Time
}

// syncOverlap is how far back of the previous sync each sync reads again.
const syncOverlap = time.Minute

func newRevocations(src revokedLister, cfg Config) *revocations {
	return &revocations{
		src: src, keep: cfg.AccessTTL + syncOverlap, keepGone: max(cfg.AccessTTL, cfg.DevTokenTTL) + syncOverlap,
		staleAt: cfg.RevocationStale,
		at:      map[SessionID]time.Time{}, gone: map[rooms.UserID]time.Time{},
	}
}

// addGone records an account deleted here.
func (r *revocations) addGone(id rooms.UserID, at time.Time) {
	r.mu.Lock()
	_, known := r.gone[id]
	if !known {
		r.gone[id] = at
	}
	r.mu.Unlock()
	if !known {
		r.notifyGone([]rooms.UserID{id})
	}
}

// notifyGone tells the goneHook, outside the lock.
func (r *revocations) notifyGone(ids []rooms.UserID) {
	if fn := r.goneHook.Load(); fn != nil && len(ids) > 0 {
		(*fn)(ids)
	}
}

// add records a revocation made here.
func (r *revocations) add(id SessionID, at time.Time) {
	r.mu.Lock()
	_, known := r.at[id]
	if !known {
		r.at[id] = at
	}
	r.mu.Unlock()
	if !known {
		r.notify([]SessionID{id})
	}
}

// notify tells the hook, outside the lock.
func (r *revocations) notify(ids []SessionID) {
	if fn := r.hook.Load(); fn != nil && len(ids) > 0 {
		(*fn)(ids)
	}
}

// sync reads the revocations made since the last sync and forgets the
// ones too old to matter. The query runs without the lock.
func (r *revocations) sync(ctx context.Context, now time.Time) error {
	r.mu.RLock()
	since := r.since
	r.mu.RUnlock()
	first := since.IsZero()
	if first {
		since = now.Add(-r.keep)
	}
	revs, err := r.src.RevokedSince(ctx, since)
	if err != nil {
		return fmt.Errorf("sync session revocations: %w", err)
	}
	// Deletions are read from further back when they are kept longer:
	// the first sync must learn every deletion whose tokens still live.
	goneSince := since
	if first {
		goneSince = now.Add(-r.keepGone)
	}
	dels, err := r.src.DeletedSince(ctx, goneSince)
	if err != nil {
		return fmt.Errorf("sync account deletions: %w", err)
	}
	var added []SessionID
	var gone []rooms.UserID
	// Deferred in this order so that the members' connections close as
	// deleted before their sessions' close as signed out; both run after
	// the unlock below.
	defer func() { r.notify(added) }()
	defer func() { r.notifyGone(gone) }()
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, v := range revs {
		if _, ok := r.at[v.ID]; !ok {
			r.at[v.ID] = v.At
			added = append(added, v.ID)
		}
	}
	for _, d := range dels {
		if _, ok := r.gone[d.ID]; !ok {
			r.gone[d.ID] = d.At
			gone = append(gone, d.ID)
		}
	}
	for id, at := range r.at {
		if now.Sub(at) > r.keep {
			delete(r.at, id)
		}
	}
	for id, at := range r.gone {
		if now.Sub(at) > r.keepGone {
			delete(r.gone, id)
		}
	}
	if next := now.Add(-syncOverlap); next.After(r.since) {
		r.since = next
	}
	if now.After(r.syncedAt) {
		r.syncedAt = now
	}
	return nil
}

// check returns ErrSessionRevoked for a revoked session, and
// ErrUnavailable when the last sync is too old to vouch for the rest.
func (r *revocations) check(id SessionID, now time.Time) error {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if _, ok := r.at[id]; ok {
		return fmt.Errorf("session %s: %w", id, ErrSessionRevoked)
	}
	if r.syncedAt.IsZero() || now.Sub(r.syncedAt) > r.staleAt {
		return fmt.Errorf("session revocations last read at %v: %w", r.syncedAt, ErrUnavailable)
	}
	return nil
}

// checkGone returns ErrAccountDeleted for a deleted account, and
// ErrUnavailable when the last sync is too old to vouch for the rest.
func (r *revocations) checkGone(id rooms.UserID, now time.Time) error {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if _, ok := r.gone[id]; ok {
		return fmt.Errorf("member %s: %w", id, ErrAccountDeleted)
	}
	if r.syncedAt.IsZero() || now.Sub(r.syncedAt) > r.staleAt {
		return fmt.Errorf("account deletions last read at %v: %w", r.syncedAt, ErrUnavailable)
	}
	return nil
}

// size is how many revocations are kept (tests).
func (r *revocations) size() int {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return len(r.at)
}

// CheckSession says whether a session's access tokens may still be used:
// nil, ErrSessionRevoked once it is signed out (at once in this process,
// within Config.RevocationSync in another sharing the database), or
// ErrUnavailable when revocations could not be read for longer than
// Config.RevocationStale. It reads memory only.
func (s *Service) CheckSession(id SessionID) error {
	return s.revoked.check(id, s.now())
}

// CheckMember says whether a member's tokens, of any kind, may still be
// used: nil, ErrAccountDeleted once their account is deleted (at once in
// this process, within Config.RevocationSync in another sharing the
// database), or ErrUnavailable when deletions could not be read for
// longer than Config.RevocationStale. It reads memory only. A development
// sign-in's token belongs to no session, so this is the check that
// refuses it after its account is deleted.
func (s *Service) CheckMember(id rooms.UserID) error {
	return s.revoked.checkGone(id, s.now())
}

// OnAccountDeleted sets the function told of every account deleted: here
// at once, and by another process sharing the database with the next
// sync (each account once). It runs on the goroutine that learned of it
// and must not block; signaling closes the member's connections with it.
func (s *Service) OnAccountDeleted(fn func(ids []rooms.UserID)) {
	s.revoked.goneHook.Store(&fn)
}

// OnSignOut sets the function told of every session signed out: here at
// once, and by another process sharing the database with the next sync
// (each session once). It runs on the goroutine that learned of it and
// must not block; signaling closes the session's connections with it.
func (s *Service) OnSignOut(fn func(ids []SessionID)) {
	s.revoked.hook.Store(&fn)
}

// SyncRevocations reads the sessions revoked by other processes. Run
// calls it on every tick; call it once before serving, so that session
// tokens are accepted from the start.
func (s *Service) SyncRevocations(ctx context.Context) error {
	return s.revoked.sync(ctx, s.now())
}

// Run keeps the revocation cache in step until ctx ends, syncing on every
// tick (cmd gives it a ticker of Config.RevocationSync). A failed sync is
// logged and tried again on the next tick; past Config.RevocationStale
// CheckSession refuses session tokens until one succeeds.
func (s *Service) Run(ctx context.Context, tick <-chan time.Time) {
	failing := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick:
		}
		err := s.SyncRevocations(ctx)
		switch {
		case err != nil && ctx.Err() != nil:
			return
		case err != nil && !failing:
			failing = true
			s.log.WarnContext(ctx, "cannot read session revocations", "err", err)
		case err == nil && failing:
			failing = false
			s.log.InfoContext(ctx, "reading session revocations again")
		}
	}
}
