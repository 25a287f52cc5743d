package members

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// revokedLister is what the revocation cache reads.
type revokedLister interface {
	RevokedSince(ctx context.Context, since time.Time) ([]Revocation, error)
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
type revocations struct {
	src     revokedLister
	keep    time.Duration
	staleAt time.Duration
	// hook is told of the sessions newly known to be revoked.
	hook atomic.Pointer[func([]SessionID)]

	mu sync.RWMutex // guards the fields below
	at map[SessionID]time.Time
	// since is where the next sync reads from; syncedAt is when the last
	// successful one began (zero: never, and every check fails).
	since, syncedAt time.Time
}

// syncOverlap is how far back of the previous sync each sync reads again.
const syncOverlap = time.Minute

func newRevocations(src revokedLister, cfg Config) *revocations {
	return &revocations{
		src: src, keep: cfg.AccessTTL + syncOverlap, staleAt: cfg.RevocationStale,
		at: map[SessionID]time.Time{},
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
	if since.IsZero() {
		since = now.Add(-r.keep)
	}
	revs, err := r.src.RevokedSince(ctx, since)
	if err != nil {
		return fmt.Errorf("sync session revocations: %w", err)
	}
	var added []SessionID
	defer func() { r.notify(added) }() // runs after the unlock below
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, v := range revs {
		if _, ok := r.at[v.ID]; !ok {
			r.at[v.ID] = v.At
			added = append(added, v.ID)
		}
	}
	for id, at := range r.at {
		if now.Sub(at) > r.keep {
			delete(r.at, id)
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
