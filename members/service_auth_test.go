package members

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/parley-audio/parley/internal/ratelimit"
	"github.com/parley-audio/parley/rooms"
)

func TestSignInRefusesWrongPasswordAndUnknownUserAlike(t *testing.T) {
	f := newSvc(t, nil)
	admin := f.admin()
	g, err := f.svc.SignIn(t.Context(), " ADMIN ", goodPassword, "10.0.0.1")
	if err != nil || g.Account.ID != admin.ID || g.RefreshToken == "" || g.Session.AccountID != admin.ID {
		t.Fatalf("SignIn = %+v, %v", g, err)
	}
	if !g.Session.ExpiresAt.Equal(f.clock.Now().Add(testConfig().RefreshTTL)) {
		t.Errorf("session expires %v, want now + the refresh TTL", g.Session.ExpiresAt)
	}
	wrong, errWrong := f.svc.SignIn(t.Context(), "admin", "not the password", "10.0.0.1")
	if f.svc.dummy != "" {
		t.Error("a known username's wrong password was checked against the dummy hash")
	}
	_, errUnknown := f.svc.SignIn(t.Context(), "nobody", goodPassword, "10.0.0.1")
	if !errors.Is(errWrong, ErrBadCredentials) || !errors.Is(errUnknown, ErrBadCredentials) || errWrong.Error() != errUnknown.Error() {
		t.Errorf("wrong password: %v; unknown user: %v; want the same ErrBadCredentials", errWrong, errUnknown)
	}
	if wrong.RefreshToken != "" {
		t.Error("a refused sign-in returned a token")
	}
	// The unknown username cost a password check too.
	if f.svc.dummy == "" {
		t.Error("an unknown username was refused without checking a hash")
	}
	// A development member has no password.
	dev := rooms.Member{ID: rooms.NewUserID(), DisplayName: "Dev", CreatedAt: epoch}
	if err := f.st.CreateMember(t.Context(), dev); err != nil {
		t.Fatal(err)
	}
	devAcct, _ := f.st.Account(t.Context(), dev.ID)
	if _, err := f.svc.SignIn(t.Context(), devAcct.Username, "", "10.0.0.1"); err == nil {
		t.Error("a development member signed in with no password")
	}
	if _, err := f.svc.SignIn(t.Context(), devAcct.Username, goodPassword, "10.0.0.1"); !errors.Is(err, ErrBadCredentials) {
		t.Errorf("a development member: err = %v, want ErrBadCredentials", err)
	}
}

func TestSignInNeedsBothFields(t *testing.T) {
	f := newSvc(t, nil)
	_, err := f.svc.SignIn(t.Context(), " ", "", "10.0.0.1")
	var ve *ValidationError
	if !errors.As(err, &ve) || len(ve.Fields) != 2 {
		t.Fatalf("err = %v, want a ValidationError on username and password", err)
	}
	if _, err := f.svc.SignIn(t.Context(), string(make([]byte, MaxUsernameLen+1)), goodPassword, "10.0.0.1"); !errors.As(err, &ve) || ve.Fields[0].Field != "username" {
		t.Errorf("an overlong username: err = %v, want a ValidationError on username", err)
	}
	long := string(make([]byte, maxSignInPasswordBytes+1))
	if _, err := f.svc.SignIn(t.Context(), "ada", long, "10.0.0.1"); !errors.As(err, &ve) || ve.Fields[0].Field != "password" {
		t.Errorf("an overlong password: err = %v, want a ValidationError on password", err)
	}
}

func TestRepeatedWrongPasswordsAreRateLimited(t *testing.T) {
	f := newSvc(t, func(c *Config) {
		c.SignInPerUser = ratelimit.Rate{N: 3, Per: 3 * time.Minute}
		c.SignInPerAddress = ratelimit.Rate{N: 100, Per: time.Minute}
	})
	f.admin()
	// Each from its own address: only the username's limit is in play.
	addr := 0
	next := func() string { addr++; return "10.0.0." + string(rune('0'+addr%10)) + string(rune('0'+addr/10)) }
	for i := range 3 {
		if _, err := f.svc.SignIn(t.Context(), "admin", "wrong password", next()); !errors.Is(err, ErrBadCredentials) {
			t.Fatalf("attempt %d: err = %v, want ErrBadCredentials", i+1, err)
		}
	}
	_, err := f.svc.SignIn(t.Context(), "admin", goodPassword, next())
	var rl *RateLimitError
	if !errors.As(err, &rl) || !errors.Is(err, ErrRateLimited) {
		t.Fatalf("fourth attempt, right password: err = %v, want rate limited", err)
	}
	if rl.RetryAfter <= 0 || rl.RetryAfter > time.Minute {
		t.Errorf("retry after %v, want within the minute one attempt takes to come back", rl.RetryAfter)
	}
	// Unknown usernames are limited the same way, so the limit tells
	// nothing about who has an account.
	for range 3 {
		_, _ = f.svc.SignIn(t.Context(), "ghost", "wrong password", next())
	}
	if _, err := f.svc.SignIn(t.Context(), "ghost", "wrong password", next()); !errors.Is(err, ErrRateLimited) {
		t.Errorf("an unknown username's fourth attempt: err = %v, want rate limited", err)
	}
	f.clock.Advance(rl.RetryAfter)
	if _, err := f.svc.SignIn(t.Context(), "admin", goodPassword, next()); err != nil {
		t.Fatalf("after the wait: %v", err)
	}
	// A right password gives its attempt back: the owner signs in again
	// at once, as often as they like.
	for i := range 5 {
		if _, err := f.svc.SignIn(t.Context(), "admin", goodPassword, next()); err != nil {
			t.Fatalf("right password %d: %v", i, err)
		}
	}
}

func TestSignInIsRateLimitedPerAddress(t *testing.T) {
	f := newSvc(t, func(c *Config) { c.SignInPerAddress = ratelimit.Rate{N: 2, Per: time.Minute} })
	f.admin()
	for _, u := range []string{"a_user", "b_user"} {
		if _, err := f.svc.SignIn(t.Context(), u, "wrong password", "192.0.2.1"); !errors.Is(err, ErrBadCredentials) {
			t.Fatalf("err = %v", err)
		}
	}
	if _, err := f.svc.SignIn(t.Context(), "admin", goodPassword, "192.0.2.1"); !errors.Is(err, ErrRateLimited) {
		t.Errorf("third attempt from one address: err = %v, want rate limited", err)
	}
	if _, err := f.svc.SignIn(t.Context(), "admin", goodPassword, "192.0.2.2"); err != nil {
		t.Errorf("another address: %v", err)
	}
}

// A limiter that cannot decide refuses the attempt: ErrUnavailable, not a
// wrong password and not a way around the limit; a cancelled request is
// only cancelled.
func TestSignInWithTheLimiterUnreachableIsUnavailable(t *testing.T) {
	client := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", DialTimeout: 200 * time.Millisecond, MaxRetries: -1})
	defer client.Close()
	cfg := testConfig()
	svc, err := NewService(ServiceParams{
		Store: openTestSQLite(t), Config: cfg, Now: newClock().Now,
		AddressLimiter: ratelimit.NewRedis(client, "parleytest:signin", cfg.SignInPerAddress),
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.SignIn(t.Context(), "ada", goodPassword, "10.0.0.1"); !errors.Is(err, ErrUnavailable) {
		t.Errorf("err = %v, want ErrUnavailable", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := svc.SignIn(ctx, "ada", goodPassword, "10.0.0.1"); !errors.Is(err, context.Canceled) || errors.Is(err, ErrUnavailable) {
		t.Errorf("cancelled: err = %v, want context.Canceled alone", err)
	}
}

func TestRefreshTokensRotateAndAnOldOneRevokesTheSession(t *testing.T) {
	f := newSvc(t, nil)
	f.admin()
	g, err := f.svc.SignIn(t.Context(), "admin", goodPassword, "10.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(time.Minute)
	g2, err := f.svc.Refresh(t.Context(), string(g.RefreshToken))
	if err != nil || g2.Session.ID != g.Session.ID || g2.RefreshToken == g.RefreshToken || g2.Account.ID != g.Account.ID {
		t.Fatalf("Refresh = %+v, %v", g2, err)
	}
	if !g2.Session.ExpiresAt.After(g.Session.ExpiresAt) {
		t.Errorf("the session's expiry did not move on: %v then %v", g.Session.ExpiresAt, g2.Session.ExpiresAt)
	}
	if err := f.svc.SyncRevocations(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.CheckSession(g.Session.ID); err != nil {
		t.Fatalf("the session is refused after a refresh: %v", err)
	}
	// The old token again: refused, and the session is over at once.
	if _, err := f.svc.Refresh(t.Context(), string(g.RefreshToken)); !errors.Is(err, ErrRefreshReused) {
		t.Fatalf("old token: err = %v, want ErrRefreshReused", err)
	}
	if err := f.svc.CheckSession(g.Session.ID); !errors.Is(err, ErrSessionRevoked) {
		t.Errorf("after a reuse, CheckSession = %v, want ErrSessionRevoked", err)
	}
	if _, err := f.svc.Refresh(t.Context(), string(g2.RefreshToken)); !errors.Is(err, ErrRefreshInvalid) {
		t.Errorf("the newer token after a reuse: err = %v, want ErrRefreshInvalid", err)
	}
	for _, bad := range []string{"", "prt_short", string(newRefreshToken())} {
		if _, err := f.svc.Refresh(t.Context(), bad); !errors.Is(err, ErrRefreshInvalid) {
			t.Errorf("Refresh(%q): err = %v, want ErrRefreshInvalid", bad, err)
		}
	}
}

func TestRefreshTokensExpire(t *testing.T) {
	f := newSvc(t, func(c *Config) { c.RefreshTTL = time.Hour })
	f.admin()
	g, err := f.svc.SignIn(t.Context(), "admin", goodPassword, "10.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(time.Hour)
	if _, err := f.svc.Refresh(t.Context(), string(g.RefreshToken)); !errors.Is(err, ErrRefreshInvalid) {
		t.Errorf("expired: err = %v, want ErrRefreshInvalid", err)
	}
}

func TestSignOutRevokesAtOnceHere(t *testing.T) {
	f := newSvc(t, nil)
	admin := f.admin()
	one, _ := f.svc.SignIn(t.Context(), "admin", goodPassword, "10.0.0.1")
	two, _ := f.svc.SignIn(t.Context(), "admin", goodPassword, "10.0.0.1")
	three, _ := f.svc.SignIn(t.Context(), "admin", goodPassword, "10.0.0.1")
	if err := f.svc.SignOut(t.Context(), admin.ID, one.Session.ID); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.CheckSession(one.Session.ID); !errors.Is(err, ErrSessionRevoked) {
		t.Errorf("signed-out session: %v, want ErrSessionRevoked", err)
	}
	if err := f.svc.CheckSession(two.Session.ID); err != nil {
		t.Errorf("another session: %v", err)
	}
	if _, err := f.svc.Refresh(t.Context(), string(one.RefreshToken)); !errors.Is(err, ErrRefreshInvalid) {
		t.Errorf("refresh after sign-out: err = %v, want ErrRefreshInvalid", err)
	}
	if err := f.svc.SignOut(t.Context(), admin.ID, one.Session.ID); err != nil {
		t.Errorf("signing out twice: %v", err)
	}
	if err := f.svc.SignOut(t.Context(), rooms.NewUserID(), two.Session.ID); !errors.Is(err, ErrSessionNotFound) {
		t.Errorf("another's session: err = %v, want ErrSessionNotFound", err)
	}
	n, err := f.svc.SignOutEverywhere(t.Context(), admin.ID)
	// Three: the sign-up's session, two and three.
	if err != nil || n != 3 {
		t.Fatalf("SignOutEverywhere = %d, %v; want the 3 live sessions", n, err)
	}
	for _, g := range []Grant{two, three} {
		if err := f.svc.CheckSession(g.Session.ID); !errors.Is(err, ErrSessionRevoked) {
			t.Errorf("after sign-out everywhere: %v, want ErrSessionRevoked", err)
		}
	}
}

// Two processes share one database: a sign-out in one reaches the other
// with its next sync.
func TestRevocationsReachOtherProcessesWithTheNextSync(t *testing.T) {
	f := newSvc(t, nil)
	admin := f.admin()
	other, err := NewService(ServiceParams{Store: f.st, Config: testConfig(), Now: f.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	if err := other.CheckSession(NewSessionID()); !errors.Is(err, ErrUnavailable) {
		t.Errorf("before its first sync: %v, want ErrUnavailable", err)
	}
	if err := other.SyncRevocations(t.Context()); err != nil {
		t.Fatal(err)
	}
	g, _ := f.svc.SignIn(t.Context(), "admin", goodPassword, "10.0.0.1")
	if err := f.svc.SignOut(t.Context(), admin.ID, g.Session.ID); err != nil {
		t.Fatal(err)
	}
	if err := other.CheckSession(g.Session.ID); err != nil {
		t.Errorf("before the other process syncs: %v (it cannot know yet)", err)
	}
	f.clock.Advance(2 * time.Second)
	if err := other.SyncRevocations(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := other.CheckSession(g.Session.ID); !errors.Is(err, ErrSessionRevoked) {
		t.Errorf("after its sync: %v, want ErrSessionRevoked", err)
	}
	// Stale: past RevocationStale without a sync, it refuses rather than
	// guess.
	f.clock.Advance(testConfig().RevocationStale + time.Second)
	if err := other.CheckSession(NewSessionID()); !errors.Is(err, ErrUnavailable) {
		t.Errorf("stale: %v, want ErrUnavailable", err)
	}
	if err := other.SyncRevocations(t.Context()); err != nil {
		t.Fatal(err)
	}
	// Once every token of the session has expired, it is forgotten.
	f.clock.Advance(testConfig().AccessTTL + syncOverlap + time.Second)
	if err := other.SyncRevocations(t.Context()); err != nil {
		t.Fatal(err)
	}
	if n := other.revoked.size(); n != 0 {
		t.Errorf("%d revocations kept after every token of theirs expired", n)
	}
}

func TestRunSyncsOnEveryTickAndStops(t *testing.T) {
	f := newSvc(t, nil)
	admin := f.admin()
	other, err := NewService(ServiceParams{Store: f.st, Config: testConfig(), Now: f.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	tick := make(chan time.Time)
	done := make(chan struct{})
	ctx, cancel := context.WithCancel(t.Context())
	go func() { defer close(done); other.Run(ctx, tick) }()
	tick <- epoch // the first sync
	g, _ := f.svc.SignIn(t.Context(), "admin", goodPassword, "10.0.0.1")
	if err := f.svc.SignOut(t.Context(), admin.ID, g.Session.ID); err != nil {
		t.Fatal(err)
	}
	tick <- epoch
	tick <- epoch // Run has finished the previous sync once it takes this one
	if err := other.CheckSession(g.Session.ID); !errors.Is(err, ErrSessionRevoked) {
		t.Errorf("after Run synced: %v, want ErrSessionRevoked", err)
	}
	cancel()
	<-done
}

func TestSignUpsCountAgainstTheAddress(t *testing.T) {
	f := newSvc(t, func(c *Config) { c.SignInPerAddress = ratelimit.Rate{N: 2, Per: time.Minute} })
	for _, u := range []string{"first", "second"} {
		if _, err := f.svc.SignUp(t.Context(), SignUpRequest{Username: u, Password: goodPassword, DisplayName: u, From: "198.51.100.7"}); err != nil {
			t.Fatal(err)
		}
	}
	_, err := f.svc.SignUp(t.Context(), SignUpRequest{Username: "third", Password: goodPassword, DisplayName: "Third", From: "198.51.100.7"})
	if !errors.Is(err, ErrRateLimited) {
		t.Fatalf("a third sign-up from one address: err = %v, want rate limited", err)
	}
	if _, _, err := f.st.Credentials(t.Context(), "third"); !errors.Is(err, ErrAccountNotFound) {
		t.Errorf("the refused sign-up stored an account: %v", err)
	}
	if _, err := f.svc.SignIn(t.Context(), "first", goodPassword, "198.51.100.7"); !errors.Is(err, ErrRateLimited) {
		t.Errorf("sign-in from the same address: err = %v, want rate limited (one budget)", err)
	}
	if _, err := f.svc.SignUp(t.Context(), SignUpRequest{Username: "third", Password: goodPassword, DisplayName: "Third", From: "198.51.100.8"}); err != nil {
		t.Errorf("another address: %v", err)
	}
}

// OnSignOut hears of every session signed out, once: here at once, and
// another process's with the next sync.
func TestOnSignOutHearsEachRevocationOnce(t *testing.T) {
	f := newSvc(t, nil)
	admin := f.admin()
	var mu sync.Mutex
	var heard []SessionID
	listen := func(svc *Service) {
		svc.OnSignOut(func(ids []SessionID) {
			mu.Lock()
			defer mu.Unlock()
			heard = append(heard, ids...)
		})
	}
	take := func() []SessionID {
		mu.Lock()
		defer mu.Unlock()
		out := heard
		heard = nil
		return out
	}
	listen(f.svc)
	one, _ := f.svc.SignIn(t.Context(), "admin", goodPassword, "10.0.0.1")
	two, _ := f.svc.SignIn(t.Context(), "admin", goodPassword, "10.0.0.1")
	if err := f.svc.SignOut(t.Context(), admin.ID, one.Session.ID); err != nil {
		t.Fatal(err)
	}
	_ = f.svc.SignOut(t.Context(), admin.ID, one.Session.ID)
	if got := take(); len(got) != 1 || got[0] != one.Session.ID {
		t.Errorf("after a sign-out, twice: heard %v, want %s once", got, one.Session.ID)
	}
	// A reused refresh token.
	if _, err := f.svc.Refresh(t.Context(), string(two.RefreshToken)); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Refresh(t.Context(), string(two.RefreshToken)); !errors.Is(err, ErrRefreshReused) {
		t.Fatal(err)
	}
	if got := take(); len(got) != 1 || got[0] != two.Session.ID {
		t.Errorf("after a reuse: heard %v, want %s", got, two.Session.ID)
	}
	// Another process learns of all of them with its sync, once.
	other, err := NewService(ServiceParams{Store: f.st, Config: testConfig(), Now: f.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	listen(other)
	for range 2 {
		if err := other.SyncRevocations(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	if got := take(); len(got) != 2 {
		t.Errorf("the other process heard %v, want the two sessions once each", got)
	}
	// Sign out everywhere: the sign-up's session.
	if n, err := f.svc.SignOutEverywhere(t.Context(), admin.ID); err != nil || n != 1 {
		t.Fatalf("SignOutEverywhere = %d, %v", n, err)
	}
	if got := take(); len(got) != 1 {
		t.Errorf("after sign-out everywhere: heard %v, want the one left", got)
	}
}
