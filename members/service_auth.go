package members

import (
	"context"
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/parley-audio/parley/rooms"
)

// Grant is a signed-in session: what sign-in, sign-up and refresh give.
// The API turns it into an access token (carrying Session.ID) plus the
// refresh token.
type Grant struct {
	Account Account
	Session Session
	// RefreshToken is the secret, shown to its holder only; the store
	// keeps its hash. It works once, until Session.ExpiresAt.
	RefreshToken RefreshToken
}

// openSession starts a session for an active account.
func (s *Service) openSession(ctx context.Context, a Account) (Grant, error) {
	now := s.clock()
	sess := Session{ID: NewSessionID(), AccountID: a.ID, CreatedAt: now, ExpiresAt: now.Add(s.cfg.RefreshTTL)}
	tok := newRefreshToken()
	if err := s.store.CreateSession(ctx, sess, hashSecret(tok)); err != nil {
		return Grant{}, fmt.Errorf("open session for %s: %w", a.ID, err)
	}
	return Grant{Account: a, Session: sess, RefreshToken: tok}, nil
}

// dummyHash is a hash of nothing anyone can type, with the configured
// costs, to check passwords against when there is no account to check.
func (s *Service) dummyHash() string {
	s.dummyOnce.Do(func() { s.dummy = hashPassword("\x00no account\x00", s.cfg.Password) })
	return s.dummy
}

// maxSignInPasswordBytes bounds what sign-in hashes: the longest password
// sign-up accepts, in the widest UTF-8.
const maxSignInPasswordBytes = MaxPasswordLen * utf8.UTFMax

// SignIn checks a username and password and opens a session.
//
// Attempts are limited twice: per client address (from), every attempt;
// and per username, every attempt that fails (a correct password gives
// its attempt back), so that guessing one account's password is slow from
// any number of addresses while its owner still gets in. A refused
// attempt is a *RateLimitError and checks nothing.
//
// A wrong password, an unknown username, an account without a password
// (the development sign-in's) and a deleted account are all
// ErrBadCredentials, and take as long: an unknown username is checked
// against a dummy hash of the same cost. Only a right password of a
// waitlisted account learns ErrWaitlisted.
func (s *Service) SignIn(ctx context.Context, username, password, from string) (Grant, error) {
	ve := &ValidationError{}
	username = NormalizeUsername(username)
	switch {
	case username == "":
		ve.add("username", "is required")
	case len(username) > MaxUsernameLen:
		// No account has one; refused before it becomes a rate-limit key.
		ve.add("username", "must be at most 30 characters")
	}
	switch {
	case password == "":
		ve.add("password", "is required")
	case len(password) > maxSignInPasswordBytes:
		ve.add("password", "must be at most 256 characters")
	}
	if err := ve.orNil(); err != nil {
		return Grant{}, err
	}
	now := s.now()
	if err := take(ctx, s.addrs, from, now); err != nil {
		return Grant{}, fmt.Errorf("sign in from %s: %w", from, err)
	}
	userKey := username
	if err := take(ctx, s.users, userKey, now); err != nil {
		return Grant{}, fmt.Errorf("sign in as %q: %w", username, err)
	}
	a, hash, err := s.store.Credentials(ctx, username)
	switch {
	case errors.Is(err, ErrAccountNotFound):
		hash = ""
	case err != nil:
		return Grant{}, err
	}
	ok := false
	if hash == "" || a.Status == StatusDeleted {
		_, _ = checkPassword(password, s.dummyHash())
	} else if ok, err = checkPassword(password, hash); err != nil {
		// A stored hash this package cannot read is a fault to fix, not
		// a wrong password.
		return Grant{}, fmt.Errorf("sign in as %s: stored password hash: %w", a.ID, err)
	}
	if !ok || a.Status == StatusDeleted {
		s.log.InfoContext(ctx, "sign-in refused", "username", username, "from", from)
		return Grant{}, ErrBadCredentials
	}
	// The right password: give the username its attempt back.
	if err := s.users.Give(ctx, userKey, now); err != nil {
		s.log.WarnContext(ctx, "rate limit: give back", "err", err)
	}
	if a.Status == StatusWaitlisted {
		return Grant{}, ErrWaitlisted
	}
	g, err := s.openSession(ctx, a)
	if err != nil {
		return Grant{}, err
	}
	s.log.InfoContext(ctx, "signed in", "user", a.ID, "session", g.Session.ID)
	return g, nil
}

// Refresh exchanges a refresh token for a new one, and returns the
// session with its account, for a new access token. Each token works
// once: presenting one again is ErrRefreshReused, and its session is
// revoked (in this process at once), since one of the two presenters
// stole it. An unknown token, or one of an expired or revoked session or
// of an account that is no longer active, is ErrRefreshInvalid.
func (s *Service) Refresh(ctx context.Context, token string) (Grant, error) {
	old, err := ParseRefreshToken(token)
	if err != nil {
		return Grant{}, err
	}
	now := s.clock()
	tok := newRefreshToken()
	sess, err := s.store.RotateRefresh(ctx, hashSecret(old), hashSecret(tok), now, now.Add(s.cfg.RefreshTTL))
	if errors.Is(err, ErrRefreshReused) {
		s.revoked.add(sess.ID, now)
		s.log.WarnContext(ctx, "refresh token reused; session revoked", "user", sess.AccountID, "session", sess.ID)
		return Grant{}, err
	}
	if err != nil {
		return Grant{}, err
	}
	a, err := s.store.Account(ctx, sess.AccountID)
	if err == nil && a.Status != StatusActive {
		err = fmt.Errorf("account %s is %s: %w", a.ID, a.Status, ErrRefreshInvalid)
	}
	if errors.Is(err, ErrAccountNotFound) {
		err = fmt.Errorf("account %s: %w", sess.AccountID, ErrRefreshInvalid)
	}
	if err != nil {
		if errors.Is(err, ErrRefreshInvalid) {
			_ = s.SignOut(ctx, sess.AccountID, sess.ID)
		}
		return Grant{}, err
	}
	return Grant{Account: a, Session: sess, RefreshToken: tok}, nil
}

// SignOut revokes one session of the account: its refresh token stops
// working, and its access tokens are refused (see CheckSession).
// Signing out a signed-out session is not an error; another account's
// or a missing one is ErrSessionNotFound.
func (s *Service) SignOut(ctx context.Context, account rooms.UserID, id SessionID) error {
	now := s.clock()
	if err := s.store.RevokeSession(ctx, account, id, now); err != nil {
		return err
	}
	s.revoked.add(id, now)
	s.log.InfoContext(ctx, "signed out", "user", account, "session", id)
	return nil
}

// SignOutEverywhere revokes every session of the account, as SignOut does
// one, and returns how many were live. (Deleting an account revokes its
// sessions in the same step as it marks it deleted: see deletion.go.)
func (s *Service) SignOutEverywhere(ctx context.Context, account rooms.UserID) (int, error) {
	now := s.clock()
	ids, err := s.store.RevokeSessions(ctx, account, now)
	if err != nil {
		return 0, err
	}
	for _, id := range ids {
		s.revoked.add(id, now)
	}
	s.log.InfoContext(ctx, "signed out everywhere", "user", account, "sessions", len(ids))
	return len(ids), nil
}
