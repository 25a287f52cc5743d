package members

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/parley-audio/parley/internal/ratelimit"
	"github.com/parley-audio/parley/internal/testenv"
	"github.com/parley-audio/parley/rooms"
)

// newClock is a settable clock for the service, at epoch.
func newClock() *testenv.Clock { return testenv.NewClock(epoch) }

// testConfig is DefaultConfig with cheap password hashing.
func testConfig() Config {
	c := DefaultConfig()
	c.Password = PasswordParams{Memory: 64, Time: 1, Threads: 1}
	return c
}

// svcFx is a Service over a real SQLite store, on a settable clock.
type svcFx struct {
	t     *testing.T
	svc   *Service
	st    *SQLStore
	clock *testenv.Clock
}

func newSvc(t *testing.T, edit func(*Config)) *svcFx {
	t.Helper()
	cfg := testConfig()
	if edit != nil {
		edit(&cfg)
	}
	st := openTestSQLite(t)
	c := newClock()
	svc, err := NewService(ServiceParams{Store: st, Config: cfg, Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.SyncRevocations(t.Context()); err != nil {
		t.Fatal(err)
	}
	return &svcFx{t: t, svc: svc, st: st, clock: c}
}

const goodPassword = "correct horse battery"

func (f *svcFx) signUp(username, code string) (SignUpResult, error) {
	return f.svc.SignUp(f.t.Context(), SignUpRequest{
		Username: username, Password: goodPassword, DisplayName: "The " + username, InviteCode: code,
	})
}

func (f *svcFx) mustSignUp(username, code string) SignUpResult {
	f.t.Helper()
	r, err := f.signUp(username, code)
	if err != nil {
		f.t.Fatalf("SignUp(%s): %v", username, err)
	}
	return r
}

// admin signs up the instance's first account.
func (f *svcFx) admin() Account {
	f.t.Helper()
	r := f.mustSignUp("admin", "")
	if !r.Account.Admin || r.Grant == nil {
		f.t.Fatalf("first account = %+v, grant %v; want an admin signed in", r.Account, r.Grant)
	}
	return r.Account
}

func (f *svcFx) invite(creator rooms.UserID) NewInvite {
	f.t.Helper()
	inv, err := f.svc.CreateInvite(f.t.Context(), creator)
	if err != nil {
		f.t.Fatalf("CreateInvite: %v", err)
	}
	return inv
}

func TestNewServiceRefusesBadConfig(t *testing.T) {
	st := openTestSQLite(t)
	for name, edit := range map[string]func(*Config){
		"negative quota":   func(c *Config) { c.InviteQuota = -1 },
		"zero invite TTL":  func(c *Config) { c.InviteTTL = 0 },
		"zero access TTL":  func(c *Config) { c.AccessTTL = 0 },
		"zero dev TTL":     func(c *Config) { c.DevTokenTTL = 0 },
		"zero refresh TTL": func(c *Config) { c.RefreshTTL = 0 },
		"zero sync":        func(c *Config) { c.RevocationSync = 0 },
		"no user rate":     func(c *Config) { c.SignInPerUser = ratelimit.Rate{} },
		"no password cost": func(c *Config) { c.Password = PasswordParams{} },
	} {
		t.Run(name, func(t *testing.T) {
			cfg := DefaultConfig()
			edit(&cfg)
			if _, err := NewService(ServiceParams{Store: st, Config: cfg}); err == nil {
				t.Error("accepted")
			}
		})
	}
	if _, err := NewService(ServiceParams{Config: DefaultConfig()}); err == nil {
		t.Error("accepted no store")
	}
}

func TestSignUpFirstIsAdminThenWaitlist(t *testing.T) {
	f := newSvc(t, nil)
	f.admin()
	r := f.mustSignUp("bob", "")
	if r.Account.Status != StatusWaitlisted || r.Account.Admin || r.Grant != nil {
		t.Fatalf("sign-up without a code = %+v, grant %v; want waitlisted, no session", r.Account, r.Grant)
	}
	// The username is reserved while they wait, in any case.
	if _, err := f.signUp("BOB", ""); !errors.Is(err, ErrUsernameTaken) {
		t.Errorf("a waitlisted username taken again: err = %v, want ErrUsernameTaken", err)
	}
	if _, err := f.svc.SignIn(t.Context(), "bob", goodPassword, "127.0.0.1"); !errors.Is(err, ErrWaitlisted) {
		t.Errorf("waitlisted sign-in: err = %v, want ErrWaitlisted", err)
	}
}

func TestSignUpNamesEveryWrongField(t *testing.T) {
	f := newSvc(t, nil)
	_, err := f.svc.SignUp(t.Context(), SignUpRequest{Username: "a!", Password: "short", DisplayName: " "})
	var ve *ValidationError
	if !errors.As(err, &ve) || !errors.Is(err, ErrInvalid) {
		t.Fatalf("err = %v, want a ValidationError", err)
	}
	got := map[string]bool{}
	for _, fe := range ve.Fields {
		got[fe.Field] = true
	}
	for _, want := range []string{"username", "password", "display_name"} {
		if !got[want] {
			t.Errorf("no error for %s in %v", want, ve.Fields)
		}
	}
	// Validation comes before the code: a bad field and a forged code is
	// a validation error, and nothing was stored.
	_, err = f.svc.SignUp(t.Context(), SignUpRequest{Username: "ok_name", Password: "short", DisplayName: "A", InviteCode: "nope"})
	if !errors.As(err, &ve) {
		t.Errorf("err = %v, want a ValidationError", err)
	}
	if _, _, err := f.st.Credentials(t.Context(), "ok_name"); !errors.Is(err, ErrAccountNotFound) {
		t.Errorf("a refused sign-up stored an account: %v", err)
	}
}

func TestInviteCodesWorkOnceAndEachRefusalIsItsOwn(t *testing.T) {
	f := newSvc(t, func(c *Config) { c.InviteTTL = time.Hour })
	admin := f.admin()
	inv := f.invite(admin.ID)
	// People paste codes with spaces and type them in capitals.
	r := f.mustSignUp("guest", "  "+strings.ToUpper(string(inv.Code))+" ")
	if r.Account.Status != StatusActive || r.Account.InvitedBy != admin.ID || r.Grant == nil {
		t.Fatalf("invited sign-up = %+v, grant %v; want active, invited by the admin, signed in", r.Account, r.Grant)
	}
	if _, err := f.signUp("second", string(inv.Code)); !errors.Is(err, ErrInviteUsed) {
		t.Errorf("second use: err = %v, want ErrInviteUsed", err)
	}

	revoked := f.invite(admin.ID)
	if _, err := f.svc.RevokeInvite(t.Context(), admin.ID, revoked.Invite.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.signUp("third", string(revoked.Code)); !errors.Is(err, ErrInviteRevoked) {
		t.Errorf("revoked code: err = %v, want ErrInviteRevoked", err)
	}
	if _, err := f.signUp("fourth", string(newInviteCode())); !errors.Is(err, ErrInviteInvalid) {
		t.Errorf("forged code: err = %v, want ErrInviteInvalid", err)
	}
	if _, err := f.signUp("fifth", "pinv_tooshort"); !errors.Is(err, ErrInviteInvalid) {
		t.Errorf("malformed code: err = %v, want ErrInviteInvalid", err)
	}
	late := f.invite(admin.ID)
	f.clock.Advance(time.Hour)
	if _, err := f.signUp("sixth", string(late.Code)); !errors.Is(err, ErrInviteExpired) {
		t.Errorf("expired code: err = %v, want ErrInviteExpired", err)
	}
	for _, u := range []string{"second", "third", "fourth", "fifth", "sixth"} {
		if _, _, err := f.st.Credentials(t.Context(), u); !errors.Is(err, ErrAccountNotFound) {
			t.Errorf("refused sign-up of %s left an account: %v", u, err)
		}
	}
}

func TestInviteQuotaIsEnforcedAndRevokingGivesItBack(t *testing.T) {
	f := newSvc(t, func(c *Config) { c.InviteQuota = 2 })
	admin := f.admin()
	first := f.invite(admin.ID)
	f.invite(admin.ID)
	if _, err := f.svc.CreateInvite(t.Context(), admin.ID); !errors.Is(err, ErrQuotaExhausted) {
		t.Fatalf("third invite with a quota of 2: err = %v, want ErrQuotaExhausted", err)
	}
	page, err := f.svc.Invites(t.Context(), admin.ID, 0, "")
	if err != nil || page.Quota != 2 || page.QuotaUsed != 2 || len(page.Items) != 2 {
		t.Fatalf("Invites = %+v, %v; want 2 of 2 used", page, err)
	}
	if _, err := f.svc.RevokeInvite(t.Context(), admin.ID, first.Invite.ID); err != nil {
		t.Fatal(err)
	}
	f.invite(admin.ID)
	// A used invite keeps its place for good.
	f.mustSignUp("guest", string(f.mustInviteAfterRevoking(admin.ID).Code))
	page, _ = f.svc.Invites(t.Context(), admin.ID, 0, "")
	if page.QuotaUsed != 2 {
		t.Errorf("quota used = %d, want 2", page.QuotaUsed)
	}
}

// mustInviteAfterRevoking revokes the newest live invite of creator and
// makes a new one in its place.
func (f *svcFx) mustInviteAfterRevoking(creator rooms.UserID) NewInvite {
	f.t.Helper()
	page, err := f.svc.Invites(f.t.Context(), creator, 0, "")
	if err != nil {
		f.t.Fatal(err)
	}
	for _, inv := range page.Items {
		if inv.State(f.clock.Now()) == InviteActive {
			if _, err := f.svc.RevokeInvite(f.t.Context(), creator, inv.ID); err != nil {
				f.t.Fatal(err)
			}
			break
		}
	}
	return f.invite(creator)
}

func TestInvitesPageByPage(t *testing.T) {
	f := newSvc(t, func(c *Config) { c.InviteQuota = 10 })
	admin := f.admin()
	var made []InviteID
	for range 5 {
		made = append(made, f.invite(admin.ID).Invite.ID)
		f.clock.Advance(time.Second)
	}
	p1, err := f.svc.Invites(t.Context(), admin.ID, 3, "")
	if err != nil || len(p1.Items) != 3 || p1.NextCursor == "" {
		t.Fatalf("first page = %+v, %v", p1, err)
	}
	p2, err := f.svc.Invites(t.Context(), admin.ID, 3, p1.NextCursor)
	if err != nil || len(p2.Items) != 2 || p2.NextCursor != "" {
		t.Fatalf("second page = %+v, %v", p2, err)
	}
	got := append(p1.Items, p2.Items...)
	for i, inv := range got {
		if inv.ID != made[4-i] {
			t.Errorf("invite %d = %s, want %s (newest first)", i, inv.ID, made[4-i])
		}
	}
	for _, tc := range []struct {
		limit  int
		cursor string
		fields []string
	}{
		{-1, "", []string{"limit"}},
		{101, "", []string{"limit"}},
		{0, "forged", []string{"cursor"}},
		{0, encodeCursor(Cursor{At: epoch, ID: "usr_x"}), []string{"cursor"}},
		{500, "forged", []string{"limit", "cursor"}},
	} {
		_, err := f.svc.Invites(t.Context(), admin.ID, tc.limit, tc.cursor)
		var ve *ValidationError
		if !errors.As(err, &ve) || len(ve.Fields) != len(tc.fields) {
			t.Errorf("Invites(%d, %q): err = %v, want fields %v", tc.limit, tc.cursor, err, tc.fields)
			continue
		}
		for i, fe := range ve.Fields {
			if fe.Field != tc.fields[i] {
				t.Errorf("Invites(%d, %q): field %d = %s, want %s", tc.limit, tc.cursor, i, fe.Field, tc.fields[i])
			}
		}
	}
}

func TestWaitlistApprovalIsForAdmins(t *testing.T) {
	f := newSvc(t, nil)
	admin := f.admin()
	member := f.mustSignUp("member", string(f.invite(admin.ID).Code)).Account
	waiting := []Account{f.mustSignUp("wait1", "").Account}
	f.clock.Advance(time.Second)
	waiting = append(waiting, f.mustSignUp("wait2", "").Account)

	if _, err := f.svc.Waitlist(t.Context(), member.ID, 0, ""); !errors.Is(err, ErrForbidden) {
		t.Errorf("a member reads the waitlist: err = %v, want ErrForbidden", err)
	}
	if _, err := f.svc.Approve(t.Context(), member.ID, waiting[0].ID); !errors.Is(err, ErrForbidden) {
		t.Errorf("a member approves: err = %v, want ErrForbidden", err)
	}
	if _, err := f.svc.Waitlist(t.Context(), rooms.NewUserID(), 0, ""); !errors.Is(err, ErrForbidden) {
		t.Errorf("nobody reads the waitlist: err = %v, want ErrForbidden", err)
	}
	p, err := f.svc.Waitlist(t.Context(), admin.ID, 1, "")
	if err != nil || len(p.Items) != 1 || p.Items[0].ID != waiting[0].ID || p.NextCursor == "" {
		t.Fatalf("first page = %+v, %v", p, err)
	}
	p, err = f.svc.Waitlist(t.Context(), admin.ID, 1, p.NextCursor)
	if err != nil || len(p.Items) != 1 || p.Items[0].ID != waiting[1].ID || p.NextCursor != "" {
		t.Fatalf("second page = %+v, %v", p, err)
	}
	a, err := f.svc.Approve(t.Context(), admin.ID, waiting[0].ID)
	if err != nil || a.Status != StatusActive {
		t.Fatalf("Approve = %+v, %v", a, err)
	}
	if _, err := f.svc.Approve(t.Context(), admin.ID, waiting[0].ID); !errors.Is(err, ErrNotWaitlisted) {
		t.Errorf("approve twice: err = %v, want ErrNotWaitlisted", err)
	}
	if _, err := f.svc.Approve(t.Context(), admin.ID, rooms.NewUserID()); !errors.Is(err, ErrAccountNotFound) {
		t.Errorf("approve no one: err = %v, want ErrAccountNotFound", err)
	}
	if _, err := f.svc.SignIn(t.Context(), "wait1", goodPassword, "127.0.0.1"); err != nil {
		t.Errorf("the approved account cannot sign in: %v", err)
	}
	// The operator's way, by username.
	if a, err := f.svc.OperatorApprove(t.Context(), "WAIT2"); err != nil || a.ID != waiting[1].ID {
		t.Errorf("OperatorApprove = %+v, %v", a, err)
	}
	if p, err := f.svc.OperatorWaitlist(t.Context(), 0, ""); err != nil || len(p.Items) != 0 {
		t.Errorf("waitlist after approving both = %+v, %v", p, err)
	}
}

func TestLetInSpendsAnInvite(t *testing.T) {
	f := newSvc(t, func(c *Config) { c.InviteQuota = 1 })
	admin := f.admin()
	w := f.mustSignUp("waiting", "").Account
	f.mustSignUp("waiting2", "")
	a, err := f.svc.LetIn(t.Context(), admin.ID, " Waiting ")
	if err != nil || a.ID != w.ID || a.Status != StatusActive || a.InvitedBy != admin.ID {
		t.Fatalf("LetIn = %+v, %v", a, err)
	}
	if _, err := f.svc.LetIn(t.Context(), admin.ID, "waiting2"); !errors.Is(err, ErrQuotaExhausted) {
		t.Errorf("past the quota: err = %v, want ErrQuotaExhausted", err)
	}
	var ve *ValidationError
	if _, err := f.svc.LetIn(t.Context(), admin.ID, "no such name!"); !errors.As(err, &ve) || ve.Fields[0].Field != "username" {
		t.Errorf("a username that cannot exist: err = %v, want a ValidationError on username", err)
	}
	if _, err := f.svc.SignIn(t.Context(), "waiting", goodPassword, "127.0.0.1"); err != nil {
		t.Errorf("the one let in cannot sign in: %v", err)
	}
}

func TestCreateAdminMakesAnActiveAdmin(t *testing.T) {
	f := newSvc(t, nil)
	f.admin()
	a, err := f.svc.CreateAdmin(t.Context(), SignUpRequest{Username: "Ops", Password: goodPassword, DisplayName: "Ops", InviteCode: "ignored"})
	if err != nil || !a.Admin || a.Status != StatusActive || a.Username != "ops" {
		t.Fatalf("CreateAdmin = %+v, %v", a, err)
	}
	if _, err := f.svc.CreateAdmin(t.Context(), SignUpRequest{Username: "ops", Password: goodPassword, DisplayName: "Ops"}); !errors.Is(err, ErrUsernameTaken) {
		t.Errorf("again: err = %v, want ErrUsernameTaken", err)
	}
}

func TestCancelledContextStoresNothing(t *testing.T) {
	f := newSvc(t, nil)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := f.svc.SignUp(ctx, SignUpRequest{Username: "late", Password: goodPassword, DisplayName: "Late"}); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}
