package members

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/parley-audio/parley/internal/ratelimit"
	"github.com/parley-audio/parley/rooms"
)

// recorder collects what the deletion hooks are told.
type recorder struct {
	mu       sync.Mutex // guards the fields below
	gone     []rooms.UserID
	sessions []SessionID
}

func (r *recorder) watch(svc *Service) {
	svc.OnAccountDeleted(func(ids []rooms.UserID) {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.gone = append(r.gone, ids...)
	})
	svc.OnSignOut(func(ids []SessionID) {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.sessions = append(r.sessions, ids...)
	})
}

func (r *recorder) seen() ([]rooms.UserID, []SessionID) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.gone), slices.Clone(r.sessions)
}

func (f *svcFx) deleter(erasers ...Eraser) *Deleter {
	f.t.Helper()
	d, err := NewDeleter(DeleterParams{Accounts: f.svc, Erasers: append(f.st.Erasers(), erasers...)})
	if err != nil {
		f.t.Fatal(err)
	}
	return d
}

func TestDeleteAccountNeedsThePasswordUnderTheSignInLimits(t *testing.T) {
	f := newSvc(t, func(c *Config) { c.SignInPerUser = ratelimit.Rate{N: 3, Per: time.Hour} })
	admin := f.admin()
	d := f.deleter()
	ctx := t.Context()

	var ve *ValidationError
	if _, err := d.DeleteAccount(ctx, DeleteRequest{User: admin.ID, From: "10.0.0.1"}); !errors.As(err, &ve) || ve.Fields[0].Field != "password" {
		t.Errorf("no password: %v, want a validation error on password", err)
	}
	if _, err := d.DeleteAccount(ctx, DeleteRequest{User: admin.ID, Password: "not it at all", From: "10.0.0.1"}); !errors.Is(err, ErrWrongPassword) {
		t.Errorf("wrong password: %v, want ErrWrongPassword", err)
	}
	// Wrong guesses spend the username's sign-in attempts, shared with
	// sign-in: two more, then refused without a check.
	for range 2 {
		if _, err := f.svc.SignIn(ctx, "admin", "still wrong!!", "10.0.0.2"); !errors.Is(err, ErrBadCredentials) {
			t.Fatalf("sign-in: %v", err)
		}
	}
	var rl *RateLimitError
	if _, err := d.DeleteAccount(ctx, DeleteRequest{User: admin.ID, Password: goodPassword, From: "10.0.0.1"}); !errors.As(err, &rl) || rl.RetryAfter <= 0 {
		t.Errorf("past the limit, even the right password: %v, want a *RateLimitError", err)
	}
	if a, err := f.st.Account(ctx, admin.ID); err != nil || a.Status != StatusActive {
		t.Fatalf("after refusals: %+v, %v; want the account untouched", a, err)
	}
	f.clock.Advance(time.Hour)
	res, err := d.DeleteAccount(ctx, DeleteRequest{User: admin.ID, Password: goodPassword, From: "10.0.0.1"})
	if err != nil || res.Pending {
		t.Fatalf("DeleteAccount = %+v, %v", res, err)
	}
	if _, err := d.DeleteAccount(ctx, DeleteRequest{User: admin.ID, Password: goodPassword}); !errors.Is(err, ErrAccountDeleted) {
		t.Errorf("deleting again: %v, want ErrAccountDeleted", err)
	}
	if _, err := d.DeleteAccount(ctx, DeleteRequest{User: rooms.NewUserID(), Password: goodPassword}); !errors.Is(err, ErrAccountNotFound) {
		t.Errorf("deleting none: %v, want ErrAccountNotFound", err)
	}
}

func TestDeletedAccountCannotSignInAndItsTokensAreRefused(t *testing.T) {
	f := newSvc(t, nil)
	var rec recorder
	rec.watch(f.svc)
	admin := f.admin()
	ctx := t.Context()
	inv := f.invite(admin.ID)
	bob := f.mustSignUp("bob", string(inv.Code))
	g, err := f.svc.SignIn(ctx, "bob", goodPassword, "10.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.deleter().DeleteAccount(ctx, DeleteRequest{User: bob.Account.ID, Password: goodPassword}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.SignIn(ctx, "bob", goodPassword, "10.0.0.1"); !errors.Is(err, ErrBadCredentials) {
		t.Errorf("sign-in after deletion: %v, want ErrBadCredentials", err)
	}
	if err := f.svc.CheckMember(bob.Account.ID); !errors.Is(err, ErrAccountDeleted) {
		t.Errorf("CheckMember: %v, want ErrAccountDeleted", err)
	}
	if err := f.svc.CheckMember(admin.ID); err != nil {
		t.Errorf("CheckMember of another: %v", err)
	}
	for _, sid := range []SessionID{bob.Grant.Session.ID, g.Session.ID} {
		if err := f.svc.CheckSession(sid); !errors.Is(err, ErrSessionRevoked) {
			t.Errorf("CheckSession(%s): %v, want ErrSessionRevoked", sid, err)
		}
	}
	if _, err := f.svc.Refresh(ctx, string(g.RefreshToken)); !errors.Is(err, ErrRefreshInvalid) {
		t.Errorf("refresh after deletion: %v, want ErrRefreshInvalid", err)
	}
	gone, sessions := rec.seen()
	if !slices.Equal(gone, []rooms.UserID{bob.Account.ID}) || len(sessions) != 2 {
		t.Errorf("hooks told %v and %v; want bob and his two sessions", gone, sessions)
	}
}

func TestADevelopmentAccountIsDeletedWithoutAPassword(t *testing.T) {
	f := newSvc(t, nil)
	f.admin()
	m := rooms.Member{ID: rooms.NewUserID(), DisplayName: "Dev", CreatedAt: epoch}
	if err := f.st.CreateMember(t.Context(), m); err != nil {
		t.Fatal(err)
	}
	res, err := f.deleter().DeleteAccount(t.Context(), DeleteRequest{User: m.ID, Password: "ignored, it has none"})
	if err != nil || res.Pending {
		t.Fatalf("DeleteAccount = %+v, %v", res, err)
	}
	if err := f.svc.CheckMember(m.ID); !errors.Is(err, ErrAccountDeleted) {
		t.Errorf("its tokens: %v, want ErrAccountDeleted", err)
	}
}

// Two processes share one database: a deletion in one reaches the other
// with its next sync, and is forgotten once every token could have expired.
func TestDeletionsReachOtherProcessesWithTheNextSync(t *testing.T) {
	f := newSvc(t, nil)
	admin := f.admin()
	other, err := NewService(ServiceParams{Store: f.st, Config: testConfig(), Now: f.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	var rec recorder
	rec.watch(other)
	if err := other.CheckMember(admin.ID); !errors.Is(err, ErrUnavailable) {
		t.Errorf("before its first sync: %v, want ErrUnavailable", err)
	}
	if err := other.SyncRevocations(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, err := f.deleter().DeleteAccount(t.Context(), DeleteRequest{User: admin.ID, Password: goodPassword}); err != nil {
		t.Fatal(err)
	}
	if err := other.CheckMember(admin.ID); err != nil {
		t.Errorf("before the other process syncs: %v (it cannot know yet)", err)
	}
	f.clock.Advance(2 * time.Second)
	if err := other.SyncRevocations(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := other.CheckMember(admin.ID); !errors.Is(err, ErrAccountDeleted) {
		t.Errorf("after its sync: %v, want ErrAccountDeleted", err)
	}
	if gone, sessions := rec.seen(); !slices.Equal(gone, []rooms.UserID{admin.ID}) || len(sessions) != 1 {
		t.Errorf("the other process's hooks told %v and %v", gone, sessions)
	}
	// A third process started later still learns of it: a development
	// token lives for hours.
	f.clock.Advance(time.Hour)
	late, err := NewService(ServiceParams{Store: f.st, Config: testConfig(), Now: f.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	if err := late.SyncRevocations(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := late.CheckMember(admin.ID); !errors.Is(err, ErrAccountDeleted) {
		t.Errorf("a process started an hour later: %v, want ErrAccountDeleted", err)
	}
	f.clock.Advance(testConfig().DevTokenTTL + syncOverlap)
	if err := other.SyncRevocations(t.Context()); err != nil {
		t.Fatal(err)
	}
	other.revoked.mu.RLock()
	n := len(other.revoked.gone)
	other.revoked.mu.RUnlock()
	if n != 0 {
		t.Errorf("%d deletions kept after every token of theirs expired", n)
	}
}

// failing is an eraser that fails while fail is set.
type failing struct {
	mu    sync.Mutex // guards the fields below
	fail  bool
	calls []rooms.UserID
}

func (e *failing) eraser() Eraser {
	return Eraser{Name: "test: flaky", Erase: func(_ context.Context, user rooms.UserID, _ time.Time) error {
		e.mu.Lock()
		defer e.mu.Unlock()
		e.calls = append(e.calls, user)
		if e.fail {
			return errors.New("the disk is on fire")
		}
		return nil
	}}
}

func (e *failing) set(fail bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.fail = fail
}

func (e *failing) count() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.calls)
}

func TestADeletionThatFailsHalfWayIsFinishedLater(t *testing.T) {
	f := newSvc(t, nil)
	admin := f.admin()
	bob := f.mustSignUp("bob", string(f.invite(admin.ID).Code))
	flaky := &failing{fail: true}
	d := f.deleter(flaky.eraser())
	ctx := t.Context()

	res, err := d.DeleteAccount(ctx, DeleteRequest{User: bob.Account.ID, Password: goodPassword})
	if err != nil || !res.Pending {
		t.Fatalf("DeleteAccount = %+v, %v; want deleted, erasure pending", res, err)
	}
	// Deleted all the same, and the other erasers ran.
	if err := f.svc.CheckMember(bob.Account.ID); !errors.Is(err, ErrAccountDeleted) {
		t.Errorf("CheckMember: %v", err)
	}
	if a, _ := f.st.Account(ctx, bob.Account.ID); a.Username != tombstoneUsername(bob.Account.ID) {
		t.Errorf("the members erasers did not run: %+v", a)
	}
	// Before the settle time nothing is finished.
	if n, err := d.FinishPending(ctx); err != nil || n != 0 {
		t.Errorf("FinishPending before the settle time = %d, %v", n, err)
	}
	f.clock.Advance(DefaultSettle)
	if n, err := d.FinishPending(ctx); err == nil || n != 0 {
		t.Errorf("FinishPending while the eraser fails = %d, %v; want an error", n, err)
	}
	if del, _, _ := f.st.Deletion(ctx, bob.Account.ID); !del.ErasedAt.IsZero() {
		t.Error("marked erased though an eraser failed")
	}
	flaky.set(false)
	calls := flaky.count()
	if n, err := d.FinishPending(ctx); err != nil || n != 1 || flaky.count() != calls+1 {
		t.Errorf("FinishPending = %d, %v; want bob finished", n, err)
	}
	if del, _, _ := f.st.Deletion(ctx, bob.Account.ID); del.ErasedAt.IsZero() {
		t.Error("not marked erased")
	}
	if n, err := d.FinishPending(ctx); err != nil || n != 0 {
		t.Errorf("FinishPending with nothing pending = %d, %v", n, err)
	}
}

func TestADeletionSettlesWithASecondErasure(t *testing.T) {
	f := newSvc(t, nil)
	admin := f.admin()
	count := &failing{}
	d := f.deleter(count.eraser())
	if _, err := d.DeleteAccount(t.Context(), DeleteRequest{User: admin.ID, Password: goodPassword}); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(DefaultSettle)
	tick := make(chan time.Time)
	done := make(chan struct{})
	ctx, cancel := context.WithCancel(t.Context())
	go func() { defer close(done); d.Run(ctx, tick) }()
	tick <- epoch
	tick <- epoch // Run has finished the previous round once it takes this one
	cancel()
	<-done
	if n := count.count(); n != 2 {
		t.Errorf("the erasers ran %d times; want twice: at once, and after the settle time", n)
	}
}

func TestErasersRunOnlyOnAccountsMarkedDeleted(t *testing.T) {
	f := newSvc(t, nil)
	admin := f.admin()
	count := &failing{}
	d := f.deleter(count.eraser())
	if err := d.erase(t.Context(), admin.ID); !errors.Is(err, ErrForbidden) {
		t.Errorf("erasing a live account: %v, want ErrForbidden", err)
	}
	if count.count() != 0 {
		t.Error("an eraser ran on a live account")
	}
	if a, _ := f.st.Account(t.Context(), admin.ID); a.Username != "admin" {
		t.Errorf("the live account was scrubbed: %+v", a)
	}
}

func TestNewDeleterRefusesBadErasers(t *testing.T) {
	f := newSvc(t, nil)
	noop := func(context.Context, rooms.UserID, time.Time) error { return nil }
	for name, es := range map[string][]Eraser{
		"no name":         {{Erase: noop}},
		"no func":         {{Name: "x"}},
		"erases, no func": {{Name: "x", Columns: []MemberColumn{{Table: "t", Column: "c", Fate: Erased}}}},
		"twice the name":  {{Name: "x", Erase: noop}, {Name: "x", Erase: noop}},
		"no fate":         {{Name: "x", Erase: noop, Columns: []MemberColumn{{Table: "t", Column: "c"}}}},
		"kept, no why":    {{Name: "x", Erase: noop, Columns: []MemberColumn{{Table: "t", Column: "c", Fate: Kept}}}},
	} {
		if _, err := NewDeleter(DeleterParams{Accounts: f.svc, Erasers: es}); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := NewDeleter(DeleterParams{}); err == nil {
		t.Error("accepted no service")
	}
	keeps := Eraser{Name: "keeps", Columns: []MemberColumn{{Table: "t", Column: "c", Fate: Kept, Why: "history"}}}
	if _, err := NewDeleter(DeleterParams{Accounts: f.svc, Erasers: []Eraser{keeps}}); err != nil {
		t.Errorf("an eraser that only declares what it keeps: %v", err)
	}
}
