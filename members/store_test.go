package members

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/parley-audio/parley/internal/testenv"
	"github.com/parley-audio/parley/rooms"
)

// epoch is an arbitrary round instant the suite's times are built from.
var epoch = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func openTestSQLite(t *testing.T) *SQLStore {
	t.Helper()
	st, err := OpenSQLite(t.Context(), filepath.Join(t.TempDir(), "members.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := st.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return st
}

func openTestPostgres(t *testing.T) *SQLStore {
	t.Helper()
	st, err := NewSQLStore(t.Context(), testenv.PostgresDB(t))
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func TestSQLiteStoreContract(t *testing.T)   { testStore(t, openTestSQLite) }
func TestPostgresStoreContract(t *testing.T) { testStore(t, openTestPostgres) }

// fx is one store under test with helpers that fail the test on error.
type fx struct {
	t  *testing.T
	st *SQLStore
}

func (f fx) account(name string, mode JoinMode, inviteHash string, at time.Time) (Account, error) {
	a := Account{ID: rooms.NewUserID(), Username: name, DisplayName: "The " + name, CreatedAt: at}
	return f.st.CreateAccount(f.t.Context(), NewAccount{Account: a, PasswordHash: "hash-of-" + name, Mode: mode, InviteHash: inviteHash})
}

func (f fx) mustAccount(name string, mode JoinMode, inviteHash string) Account {
	f.t.Helper()
	a, err := f.account(name, mode, inviteHash, epoch)
	if err != nil {
		f.t.Fatalf("CreateAccount(%s): %v", name, err)
	}
	return a
}

// invite stores an invite of creator's valid for a day from at, and
// returns it with its code's hash.
func (f fx) invite(creator rooms.UserID, at time.Time, quota int) (Invite, string, error) {
	inv := Invite{ID: NewInviteID(), CreatedBy: creator, CreatedAt: at, ExpiresAt: at.Add(24 * time.Hour)}
	hash := hashSecret(newInviteCode())
	return inv, hash, f.st.CreateInvite(f.t.Context(), inv, hash, quota)
}

func (f fx) mustInvite(creator rooms.UserID) (Invite, string) {
	f.t.Helper()
	inv, hash, err := f.invite(creator, epoch, 5)
	if err != nil {
		f.t.Fatalf("CreateInvite: %v", err)
	}
	return inv, hash
}

func testStore(t *testing.T, open func(t *testing.T) *SQLStore) {
	t.Run("the first account becomes an active admin whatever its mode, the next waits", func(t *testing.T) {
		f := fx{t, open(t)}
		first := f.mustAccount("first", JoinWaitlist, "")
		if first.Status != StatusActive || !first.Admin {
			t.Errorf("first account = %s admin=%v, want active admin", first.Status, first.Admin)
		}
		second := f.mustAccount("second", JoinWaitlist, "")
		if second.Status != StatusWaitlisted || second.Admin {
			t.Errorf("second account = %s admin=%v, want waitlisted, not admin", second.Status, second.Admin)
		}
		got, err := f.st.Account(t.Context(), first.ID)
		if err != nil || got.Username != "first" || !got.Admin || !got.CreatedAt.Equal(epoch) {
			t.Errorf("Account = %+v, %v", got, err)
		}
	})

	t.Run("of many first sign-ups at once exactly one becomes admin", func(t *testing.T) {
		f := fx{t, open(t)}
		var wg sync.WaitGroup
		admins := make(chan Account, 8)
		for i := range 8 {
			wg.Go(func() {
				a, err := f.account(fmt.Sprint("racer", i), JoinWaitlist, "", epoch)
				if err != nil {
					t.Errorf("racer %d: %v", i, err)
				}
				if a.Admin {
					admins <- a
				}
			})
		}
		wg.Wait()
		close(admins)
		if n := len(admins); n != 1 {
			t.Errorf("%d admins, want 1", n)
		}
	})

	t.Run("a taken username is refused and nothing changes", func(t *testing.T) {
		f := fx{t, open(t)}
		f.mustAccount("ada", JoinDirect, "")
		admin, _ := f.st.Account(t.Context(), f.mustAccount("bob", JoinDirect, "").ID)
		inv, hash := f.mustInvite(admin.ID)
		if _, err := f.account("ada", JoinInvite, hash, epoch); !errors.Is(err, ErrUsernameTaken) {
			t.Fatalf("err = %v, want ErrUsernameTaken", err)
		}
		got := f.invites(admin.ID)
		if len(got) != 1 || got[0].ID != inv.ID || got[0].UsedBy != "" {
			t.Errorf("the refused sign-up touched the invite: %+v", got)
		}
	})

	t.Run("an invite code lets one person in, once", func(t *testing.T) {
		f := fx{t, open(t)}
		admin := f.mustAccount("admin", JoinDirect, "")
		inv, hash := f.mustInvite(admin.ID)
		a, err := f.account("guest", JoinInvite, hash, epoch.Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if a.Status != StatusActive || a.Admin || a.InvitedBy != admin.ID {
			t.Errorf("invited account = %+v; want active, not admin, invited by the admin", a)
		}
		got := f.invites(admin.ID)
		if len(got) != 1 || got[0].ID != inv.ID || got[0].UsedBy != a.ID || !got[0].UsedAt.Equal(epoch.Add(time.Hour)) {
			t.Errorf("invite after use = %+v", got)
		}
		if _, err := f.account("second", JoinInvite, hash, epoch.Add(time.Hour)); !errors.Is(err, ErrInviteUsed) {
			t.Errorf("second use: err = %v, want ErrInviteUsed", err)
		}
		if _, _, err := f.st.Credentials(t.Context(), "second"); !errors.Is(err, ErrAccountNotFound) {
			t.Errorf("the refused sign-up left an account: %v", err)
		}
	})

	t.Run("of many sign-ups with one code at once exactly one gets in", func(t *testing.T) {
		f := fx{t, open(t)}
		admin := f.mustAccount("admin", JoinDirect, "")
		_, hash := f.mustInvite(admin.ID)
		var wg sync.WaitGroup
		in := make(chan Account, 8)
		for i := range 8 {
			wg.Go(func() {
				a, err := f.account(fmt.Sprint("racer", i), JoinInvite, hash, epoch)
				switch {
				case err == nil:
					in <- a
				case !errors.Is(err, ErrInviteUsed):
					t.Errorf("racer %d: %v, want ErrInviteUsed", i, err)
				}
			})
		}
		wg.Wait()
		close(in)
		if n := len(in); n != 1 {
			t.Fatalf("%d accounts got in with one code, want 1", n)
		}
		if got := f.invites(admin.ID); len(got) != 1 || got[0].UsedBy != (<-in).ID {
			t.Errorf("the invite after the race: %+v", got)
		}
	})

	t.Run("expired, revoked and unknown codes are refused each with its error", func(t *testing.T) {
		f := fx{t, open(t)}
		admin := f.mustAccount("admin", JoinDirect, "")
		_, expired := f.mustInvite(admin.ID)
		revoked, revokedHash := f.mustInvite(admin.ID)
		if _, err := f.st.RevokeInvite(t.Context(), admin.ID, revoked.ID, epoch); err != nil {
			t.Fatal(err)
		}
		cases := []struct {
			name string
			hash string
			at   time.Time
			want error
		}{
			{"expired", expired, epoch.Add(24 * time.Hour), ErrInviteExpired},
			{"revoked", revokedHash, epoch.Add(time.Minute), ErrInviteRevoked},
			{"unknown", hashSecret(newInviteCode()), epoch, ErrInviteInvalid},
		}
		for _, c := range cases {
			if _, err := f.account("p"+c.name, JoinInvite, c.hash, c.at); !errors.Is(err, c.want) {
				t.Errorf("%s code: err = %v, want %v", c.name, err, c.want)
			}
		}
	})

	t.Run("the quota counts used and live invites, and expired or revoked ones give their place back", func(t *testing.T) {
		f := fx{t, open(t)}
		admin := f.mustAccount("admin", JoinDirect, "")
		_, hash := f.mustInvite(admin.ID)
		f.mustAccount("used", JoinInvite, hash)
		revoked, _ := f.mustInvite(admin.ID)
		if _, err := f.st.RevokeInvite(t.Context(), admin.ID, revoked.ID, epoch); err != nil {
			t.Fatal(err)
		}
		if _, _, err := f.invite(admin.ID, epoch.Add(-48*time.Hour), 5); err != nil { // long expired
			t.Fatal(err)
		}
		f.mustInvite(admin.ID) // live
		if n, err := f.st.QuotaUsed(t.Context(), admin.ID, epoch); err != nil || n != 2 {
			t.Errorf("QuotaUsed = %d, %v; want 2 (one used, one live)", n, err)
		}
		if _, _, err := f.invite(admin.ID, epoch, 3); err != nil {
			t.Errorf("third invite within a quota of 3: %v", err)
		}
		if _, _, err := f.invite(admin.ID, epoch, 3); !errors.Is(err, ErrQuotaExhausted) {
			t.Errorf("fourth invite past a quota of 3: err = %v, want ErrQuotaExhausted", err)
		}
	})

	t.Run("concurrent invites never pass the quota", func(t *testing.T) {
		f := fx{t, open(t)}
		admin := f.mustAccount("admin", JoinDirect, "")
		var wg sync.WaitGroup
		var mu sync.Mutex
		ok := 0
		for range 10 {
			wg.Go(func() {
				_, _, err := f.invite(admin.ID, epoch, 3)
				switch {
				case err == nil:
					mu.Lock()
					ok++
					mu.Unlock()
				case !errors.Is(err, ErrQuotaExhausted):
					t.Errorf("CreateInvite: %v", err)
				}
			})
		}
		wg.Wait()
		if ok != 3 {
			t.Errorf("%d invites made with a quota of 3", ok)
		}
	})

	t.Run("only an active account gives invites", func(t *testing.T) {
		f := fx{t, open(t)}
		f.mustAccount("admin", JoinDirect, "")
		waiting := f.mustAccount("waiting", JoinWaitlist, "")
		if _, _, err := f.invite(waiting.ID, epoch, 5); !errors.Is(err, ErrForbidden) {
			t.Errorf("invite by a waitlisted account: err = %v, want ErrForbidden", err)
		}
	})

	t.Run("invites list newest first, page by page", func(t *testing.T) {
		f := fx{t, open(t)}
		admin := f.mustAccount("admin", JoinDirect, "")
		var made []Invite
		for i := range 5 {
			inv, _, err := f.invite(admin.ID, epoch.Add(time.Duration(i)*time.Second), 10)
			if err != nil {
				t.Fatal(err)
			}
			made = append(made, inv)
		}
		page1, err := f.st.Invites(t.Context(), admin.ID, Cursor{}, 3)
		if err != nil {
			t.Fatal(err)
		}
		last := page1[len(page1)-1]
		page2, err := f.st.Invites(t.Context(), admin.ID, Cursor{At: last.CreatedAt, ID: string(last.ID)}, 3)
		if err != nil {
			t.Fatal(err)
		}
		got := append(page1, page2...)
		if len(got) != 5 {
			t.Fatalf("%d invites over two pages, want 5", len(got))
		}
		for i, inv := range got {
			if inv.ID != made[4-i].ID {
				t.Errorf("invite %d = %s, want %s", i, inv.ID, made[4-i].ID)
			}
		}
	})

	t.Run("revoking: again is harmless, a used invite or another's is refused", func(t *testing.T) {
		f := fx{t, open(t)}
		admin := f.mustAccount("admin", JoinDirect, "")
		other := f.mustAccount("other", JoinDirect, "")
		inv, _ := f.mustInvite(admin.ID)
		first, err := f.st.RevokeInvite(t.Context(), admin.ID, inv.ID, epoch)
		if err != nil || first.State(epoch) != InviteRevoked {
			t.Fatalf("RevokeInvite = %+v, %v", first, err)
		}
		again, err := f.st.RevokeInvite(t.Context(), admin.ID, inv.ID, epoch.Add(time.Hour))
		if err != nil || !again.RevokedAt.Equal(epoch) {
			t.Errorf("second revoke = %+v, %v; want unchanged", again, err)
		}
		if _, err := f.st.RevokeInvite(t.Context(), other.ID, inv.ID, epoch); !errors.Is(err, ErrInviteNotFound) {
			t.Errorf("revoke by another: err = %v, want ErrInviteNotFound", err)
		}
		used, hash := f.mustInvite(admin.ID)
		f.mustAccount("guest", JoinInvite, hash)
		if _, err := f.st.RevokeInvite(t.Context(), admin.ID, used.ID, epoch); !errors.Is(err, ErrInviteUsed) {
			t.Errorf("revoke of a used invite: err = %v, want ErrInviteUsed", err)
		}
	})

	t.Run("the waitlist lists oldest first and approval lets one in", func(t *testing.T) {
		f := fx{t, open(t)}
		f.mustAccount("admin", JoinDirect, "")
		var waiting []Account
		for i := range 3 {
			a, err := f.account(fmt.Sprint("w", i), JoinWaitlist, "", epoch.Add(time.Duration(i)*time.Minute))
			if err != nil {
				t.Fatal(err)
			}
			waiting = append(waiting, a)
		}
		page, err := f.st.Waitlist(t.Context(), Cursor{}, 2)
		if err != nil || len(page) != 2 || page[0].ID != waiting[0].ID || page[1].ID != waiting[1].ID {
			t.Fatalf("first page = %v, %v", page, err)
		}
		rest, err := f.st.Waitlist(t.Context(), Cursor{At: page[1].CreatedAt, ID: string(page[1].ID)}, 2)
		if err != nil || len(rest) != 1 || rest[0].ID != waiting[2].ID {
			t.Fatalf("second page = %v, %v", rest, err)
		}
		a, err := f.st.Approve(t.Context(), waiting[1].ID)
		if err != nil || a.Status != StatusActive {
			t.Fatalf("Approve = %+v, %v", a, err)
		}
		if _, err := f.st.Approve(t.Context(), waiting[1].ID); !errors.Is(err, ErrNotWaitlisted) {
			t.Errorf("second Approve: err = %v, want ErrNotWaitlisted", err)
		}
		if _, err := f.st.Approve(t.Context(), rooms.NewUserID()); !errors.Is(err, ErrAccountNotFound) {
			t.Errorf("Approve of no one: err = %v, want ErrAccountNotFound", err)
		}
		left, _ := f.st.Waitlist(t.Context(), Cursor{}, 10)
		if len(left) != 2 {
			t.Errorf("%d left on the waitlist, want 2", len(left))
		}
	})

	t.Run("letting someone in from the waitlist spends an invite", func(t *testing.T) {
		f := fx{t, open(t)}
		admin := f.mustAccount("admin", JoinDirect, "")
		w := f.mustAccount("waiting", JoinWaitlist, "")
		a, err := f.st.LetIn(t.Context(), admin.ID, "waiting", NewInviteID(), 1, epoch)
		if err != nil || a.ID != w.ID || a.Status != StatusActive || a.InvitedBy != admin.ID {
			t.Fatalf("LetIn = %+v, %v", a, err)
		}
		invs := f.invites(admin.ID)
		if len(invs) != 1 || !invs[0].Direct || invs[0].UsedBy != w.ID {
			t.Errorf("invites after LetIn = %+v; want one direct invite used by them", invs)
		}
		w2 := f.mustAccount("waiting2", JoinWaitlist, "")
		if _, err := f.st.LetIn(t.Context(), admin.ID, "waiting2", NewInviteID(), 1, epoch); !errors.Is(err, ErrQuotaExhausted) {
			t.Errorf("LetIn past the quota: err = %v, want ErrQuotaExhausted", err)
		}
		if got, _ := f.st.Account(t.Context(), w2.ID); got.Status != StatusWaitlisted {
			t.Errorf("the refused LetIn changed the account to %s", got.Status)
		}
		if _, err := f.st.LetIn(t.Context(), admin.ID, "nobody", NewInviteID(), 5, epoch); !errors.Is(err, ErrAccountNotFound) {
			t.Errorf("LetIn of no one: err = %v, want ErrAccountNotFound", err)
		}
		if _, err := f.st.LetIn(t.Context(), admin.ID, "waiting", NewInviteID(), 5, epoch); !errors.Is(err, ErrNotWaitlisted) {
			t.Errorf("LetIn of an active account: err = %v, want ErrNotWaitlisted", err)
		}
	})

	t.Run("credentials read back by username; an unknown one is ErrAccountNotFound", func(t *testing.T) {
		f := fx{t, open(t)}
		a := f.mustAccount("ada", JoinDirect, "")
		got, hash, err := f.st.Credentials(t.Context(), "ada")
		if err != nil || got.ID != a.ID || hash != "hash-of-ada" {
			t.Errorf("Credentials = %+v, %q, %v", got, hash, err)
		}
		if _, _, err := f.st.Credentials(t.Context(), "nobody"); !errors.Is(err, ErrAccountNotFound) {
			t.Errorf("err = %v, want ErrAccountNotFound", err)
		}
	})

	t.Run("a refresh token rotates once; presenting it again revokes the session", func(t *testing.T) {
		f := fx{t, open(t)}
		a := f.mustAccount("ada", JoinDirect, "")
		sess := Session{ID: NewSessionID(), AccountID: a.ID, CreatedAt: epoch, ExpiresAt: epoch.Add(time.Hour)}
		if err := f.st.CreateSession(t.Context(), sess, "r1"); err != nil {
			t.Fatal(err)
		}
		got, err := f.st.RotateRefresh(t.Context(), "r1", "r2", epoch.Add(time.Minute), epoch.Add(2*time.Hour))
		if err != nil || got.ID != sess.ID || !got.ExpiresAt.Equal(epoch.Add(2*time.Hour)) {
			t.Fatalf("RotateRefresh = %+v, %v", got, err)
		}
		reused, err := f.st.RotateRefresh(t.Context(), "r1", "r3", epoch.Add(2*time.Minute), epoch.Add(3*time.Hour))
		if !errors.Is(err, ErrRefreshReused) {
			t.Fatalf("reuse: err = %v, want ErrRefreshReused", err)
		}
		if reused.ID != sess.ID || !reused.RevokedAt.Equal(epoch.Add(2*time.Minute)) {
			t.Errorf("reuse returned session %+v, want %s revoked at the reuse", reused, sess.ID)
		}
		// The whole session is revoked: the newer token is refused too.
		if _, err := f.st.RotateRefresh(t.Context(), "r2", "r4", epoch.Add(3*time.Minute), epoch.Add(3*time.Hour)); !errors.Is(err, ErrRefreshInvalid) {
			t.Errorf("the newer token after a reuse: err = %v, want ErrRefreshInvalid", err)
		}
		revs, err := f.st.RevokedSince(t.Context(), epoch)
		if err != nil || len(revs) != 1 || revs[0].ID != sess.ID || !revs[0].At.Equal(epoch.Add(2*time.Minute)) {
			t.Errorf("RevokedSince = %+v, %v", revs, err)
		}
	})

	t.Run("unknown, expired and revoked refresh tokens are invalid", func(t *testing.T) {
		f := fx{t, open(t)}
		a := f.mustAccount("ada", JoinDirect, "")
		if _, err := f.st.RotateRefresh(t.Context(), "nope", "x", epoch, epoch); !errors.Is(err, ErrRefreshInvalid) {
			t.Errorf("unknown: err = %v, want ErrRefreshInvalid", err)
		}
		short := Session{ID: NewSessionID(), AccountID: a.ID, CreatedAt: epoch, ExpiresAt: epoch.Add(time.Minute)}
		if err := f.st.CreateSession(t.Context(), short, "short"); err != nil {
			t.Fatal(err)
		}
		if _, err := f.st.RotateRefresh(t.Context(), "short", "x", epoch.Add(time.Minute), epoch.Add(time.Hour)); !errors.Is(err, ErrRefreshInvalid) {
			t.Errorf("expired: err = %v, want ErrRefreshInvalid", err)
		}
		gone := Session{ID: NewSessionID(), AccountID: a.ID, CreatedAt: epoch, ExpiresAt: epoch.Add(time.Hour)}
		if err := f.st.CreateSession(t.Context(), gone, "gone"); err != nil {
			t.Fatal(err)
		}
		if err := f.st.RevokeSession(t.Context(), a.ID, gone.ID, epoch); err != nil {
			t.Fatal(err)
		}
		if _, err := f.st.RotateRefresh(t.Context(), "gone", "x", epoch, epoch.Add(time.Hour)); !errors.Is(err, ErrRefreshInvalid) {
			t.Errorf("revoked: err = %v, want ErrRefreshInvalid", err)
		}
	})

	t.Run("sign out everywhere revokes every live session of the account only", func(t *testing.T) {
		f := fx{t, open(t)}
		a := f.mustAccount("ada", JoinDirect, "")
		b := f.mustAccount("bob", JoinDirect, "")
		var mine []SessionID
		for i := range 3 {
			s := Session{ID: NewSessionID(), AccountID: a.ID, CreatedAt: epoch, ExpiresAt: epoch.Add(time.Hour)}
			if err := f.st.CreateSession(t.Context(), s, fmt.Sprint("a", i)); err != nil {
				t.Fatal(err)
			}
			mine = append(mine, s.ID)
		}
		theirs := Session{ID: NewSessionID(), AccountID: b.ID, CreatedAt: epoch, ExpiresAt: epoch.Add(time.Hour)}
		if err := f.st.CreateSession(t.Context(), theirs, "b"); err != nil {
			t.Fatal(err)
		}
		if err := f.st.RevokeSession(t.Context(), a.ID, mine[0], epoch); err != nil {
			t.Fatal(err)
		}
		ids, err := f.st.RevokeSessions(t.Context(), a.ID, epoch.Add(time.Minute))
		if err != nil || len(ids) != 2 {
			t.Fatalf("RevokeSessions = %v, %v; want the two still live", ids, err)
		}
		if _, err := f.st.RotateRefresh(t.Context(), "b", "b2", epoch, epoch.Add(time.Hour)); err != nil {
			t.Errorf("another account's session was touched: %v", err)
		}
		if err := f.st.RevokeSession(t.Context(), b.ID, mine[1], epoch); !errors.Is(err, ErrSessionNotFound) {
			t.Errorf("revoking another's session: err = %v, want ErrSessionNotFound", err)
		}
	})

	t.Run("a development member is an active account that is never the admin", func(t *testing.T) {
		f := fx{t, open(t)}
		m := rooms.Member{ID: rooms.NewUserID(), DisplayName: "Dev Ada", CreatedAt: epoch.Add(1500 * time.Microsecond)}
		if err := f.st.CreateMember(t.Context(), m); err != nil {
			t.Fatal(err)
		}
		got, err := f.st.Member(t.Context(), m.ID)
		if err != nil || got.ID != m.ID || got.DisplayName != "Dev Ada" || !got.CreatedAt.Equal(epoch.Add(time.Millisecond)) {
			t.Errorf("Member = %+v, %v", got, err)
		}
		a, err := f.st.Account(t.Context(), m.ID)
		if err != nil || a.Admin || a.Status != StatusActive {
			t.Errorf("Account of a development member = %+v, %v; want active, not admin", a, err)
		}
		if first := f.mustAccount("realfirst", JoinWaitlist, ""); !first.Admin {
			t.Error("the first real account is not admin after a development member")
		}
		if _, err := f.st.Member(t.Context(), rooms.NewUserID()); !errors.Is(err, rooms.ErrMemberNotFound) {
			t.Errorf("unknown member: err = %v, want rooms.ErrMemberNotFound", err)
		}
		if err := f.st.CreateMember(t.Context(), m); err == nil {
			t.Error("a second member with the same ID was stored")
		}
	})

	t.Run("a cancelled context fails with its error and changes nothing", func(t *testing.T) {
		f := fx{t, open(t)}
		ctx, cancel := contextCancelled(t)
		defer cancel()
		_, err := f.st.CreateAccount(ctx, NewAccount{Account: Account{ID: rooms.NewUserID(), Username: "late", CreatedAt: epoch}, Mode: JoinDirect})
		if !errors.Is(err, errContextCancelled) {
			t.Errorf("err = %v, want context.Canceled", err)
		}
		if _, _, err := f.st.Credentials(t.Context(), "late"); !errors.Is(err, ErrAccountNotFound) {
			t.Errorf("the cancelled sign-up left an account: %v", err)
		}
	})
}

func (f fx) invites(creator rooms.UserID) []Invite {
	f.t.Helper()
	got, err := f.st.Invites(f.t.Context(), creator, Cursor{}, 100)
	if err != nil {
		f.t.Fatal(err)
	}
	return got
}

var errContextCancelled = context.Canceled

func contextCancelled(t *testing.T) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	return ctx, cancel
}
