package members

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/parley-audio/parley/rooms"
)

func TestSQLiteSocialStoreContract(t *testing.T)   { testSocialStore(t, openTestSQLite) }
func TestPostgresSocialStoreContract(t *testing.T) { testSocialStore(t, openTestPostgres) }

func ptr(s string) *string { return &s }

// active makes an active account with that username.
func (f fx) active(name string) Account {
	f.t.Helper()
	return f.mustAccount(name, JoinDirect, "")
}

func (f fx) follow(a, b Account, at time.Time) {
	f.t.Helper()
	if err := f.st.Follow(f.t.Context(), a.ID, b.ID, at); err != nil {
		f.t.Fatalf("%s follows %s: %v", a.Username, b.Username, err)
	}
}

func (f fx) block(a, b Account, at time.Time) {
	f.t.Helper()
	if err := f.st.Block(f.t.Context(), a.ID, b.ID, at); err != nil {
		f.t.Fatalf("%s blocks %s: %v", a.Username, b.Username, err)
	}
}

func (f fx) relation(a, b Account) Relation {
	f.t.Helper()
	r, err := f.st.Relation(f.t.Context(), a.ID, b.ID)
	if err != nil {
		f.t.Fatal(err)
	}
	return r
}

func (f fx) counts(a Account) (int, int) {
	f.t.Helper()
	in, out, err := f.st.FollowCounts(f.t.Context(), a.ID)
	if err != nil {
		f.t.Fatal(err)
	}
	return in, out
}

// names lists the usernames at the far end of edges, with their times.
func names(es []Edge) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = fmt.Sprintf("%s@%d", e.Member.Username, e.Since.Sub(epoch)/time.Second)
	}
	return out
}

func usernames(as []Account) []string {
	out := make([]string, len(as))
	for i, a := range as {
		out[i] = a.Username
	}
	return out
}

func sameStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// page walks a whole list a page of n at a time.
func walkEdges(t *testing.T, list func(after Cursor, limit int) ([]Edge, error), n int) []string {
	t.Helper()
	var all []Edge
	var after Cursor
	for range 100 {
		got, err := list(after, n)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, got...)
		if len(got) < n {
			return names(all)
		}
		last := got[len(got)-1]
		after = Cursor{At: last.Since, ID: string(last.Member.ID)}
	}
	t.Fatal("the list does not end")
	return nil
}

func testSocialStore(t *testing.T, open func(t *testing.T) *SQLStore) {
	t.Run("a profile update sets the fields given and keeps the rest", func(t *testing.T) {
		f := fx{t, open(t)}
		ada := f.active("ada")
		got, err := f.st.UpdateProfile(t.Context(), ada.ID, ProfileUpdate{
			Headline: ptr("Compiler engineer at Analytical"), Bio: ptr("Line one\nline two — ünï"),
			AvatarURL: ptr("https://example.com/ada.png"),
		})
		if err != nil {
			t.Fatal(err)
		}
		want := ada
		want.Headline, want.Bio, want.AvatarURL = "Compiler engineer at Analytical", "Line one\nline two — ünï", "https://example.com/ada.png"
		if got != want {
			t.Errorf("UpdateProfile = %+v\nwant %+v", got, want)
		}
		got, err = f.st.UpdateProfile(t.Context(), ada.ID, ProfileUpdate{DisplayName: ptr("Ada L."), Username: ptr("ada_l"), Bio: ptr("")})
		if err != nil {
			t.Fatal(err)
		}
		want.DisplayName, want.Username, want.Bio = "Ada L.", "ada_l", ""
		if got != want {
			t.Errorf("second UpdateProfile = %+v\nwant %+v", got, want)
		}
		if read, err := f.st.Account(t.Context(), ada.ID); err != nil || read != want {
			t.Errorf("Account = %+v, %v\nwant %+v", read, err, want)
		}
	})

	t.Run("a taken username is refused and nothing changes", func(t *testing.T) {
		f := fx{t, open(t)}
		f.active("ada")
		bob := f.active("bob")
		_, err := f.st.UpdateProfile(t.Context(), bob.ID, ProfileUpdate{Username: ptr("ada"), Headline: ptr("new")})
		if !errors.Is(err, ErrUsernameTaken) {
			t.Fatalf("err = %v, want ErrUsernameTaken", err)
		}
		if read, _ := f.st.Account(t.Context(), bob.ID); read != bob {
			t.Errorf("the refused update changed bob: %+v", read)
		}
	})

	t.Run("only active accounts can be updated", func(t *testing.T) {
		f := fx{t, open(t)}
		f.active("admin")
		wait := f.mustAccount("waiting", JoinWaitlist, "")
		for _, id := range []rooms.UserID{wait.ID, rooms.NewUserID()} {
			if _, err := f.st.UpdateProfile(t.Context(), id, ProfileUpdate{Bio: ptr("x")}); !errors.Is(err, ErrAccountNotFound) {
				t.Errorf("UpdateProfile(%s) err = %v, want ErrAccountNotFound", id, err)
			}
		}
		if _, err := f.st.UpdateProfile(t.Context(), wait.ID, ProfileUpdate{}); err == nil {
			t.Error("an empty update succeeded")
		}
	})

	t.Run("following counts once, keeps its first time, and unfollowing ends it", func(t *testing.T) {
		f := fx{t, open(t)}
		ada, bob, cy := f.active("ada"), f.active("bob"), f.active("cy")
		f.follow(ada, bob, epoch)
		f.follow(ada, bob, epoch.Add(time.Hour))
		f.follow(cy, bob, epoch.Add(time.Minute))
		f.follow(bob, ada, epoch.Add(2*time.Minute))
		if in, out := f.counts(bob); in != 2 || out != 1 {
			t.Errorf("bob: %d followers, %d following; want 2, 1", in, out)
		}
		if r := f.relation(ada, bob); r != (Relation{Following: true, FollowedBy: true}) {
			t.Errorf("ada to bob: %+v", r)
		}
		if r := f.relation(cy, ada); r != (Relation{}) {
			t.Errorf("cy to ada: %+v", r)
		}
		got, err := f.st.Followers(t.Context(), bob.ID, Cursor{}, 10)
		if err != nil {
			t.Fatal(err)
		}
		if want := []string{"cy@60", "ada@0"}; !sameStrings(names(got), want) {
			t.Errorf("bob's followers = %v, want %v", names(got), want)
		}
		if got[1].Member != ada {
			t.Errorf("a follower's account = %+v, want %+v", got[1].Member, ada)
		}
		for range 2 {
			if err := f.st.Unfollow(t.Context(), ada.ID, bob.ID); err != nil {
				t.Fatal(err)
			}
		}
		if in, _ := f.counts(bob); in != 1 {
			t.Errorf("bob has %d followers after ada unfollowed, want 1", in)
		}
		if r := f.relation(ada, bob); r.Following || !r.FollowedBy {
			t.Errorf("ada to bob after unfollowing: %+v", r)
		}
	})

	t.Run("following oneself, a missing or a waitlisted member is refused", func(t *testing.T) {
		f := fx{t, open(t)}
		ada := f.active("ada")
		wait := f.mustAccount("waiting", JoinWaitlist, "")
		if err := f.st.Follow(t.Context(), ada.ID, ada.ID, epoch); !errors.Is(err, ErrInvalid) {
			t.Errorf("follow self: %v, want ErrInvalid", err)
		}
		for _, id := range []rooms.UserID{wait.ID, rooms.NewUserID()} {
			if err := f.st.Follow(t.Context(), ada.ID, id, epoch); !errors.Is(err, ErrAccountNotFound) {
				t.Errorf("follow %s: %v, want ErrAccountNotFound", id, err)
			}
			if err := f.st.Follow(t.Context(), id, ada.ID, epoch); !errors.Is(err, ErrAccountNotFound) {
				t.Errorf("%s follows: %v, want ErrAccountNotFound", id, err)
			}
		}
		if in, out := f.counts(ada); in != 0 || out != 0 {
			t.Errorf("counts %d, %d after refusals", in, out)
		}
	})

	t.Run("lists are newest first and page through ties without loss or repeat", func(t *testing.T) {
		f := fx{t, open(t)}
		star := f.active("star")
		var fans []Account
		for i := range 7 {
			fans = append(fans, f.active(fmt.Sprintf("fan%d", i)))
		}
		// Three follows share a time, so the member ID breaks the tie.
		times := []time.Duration{0, time.Second, time.Second, time.Second, 2 * time.Second, 3 * time.Second, 4 * time.Second}
		for i, fan := range fans {
			f.follow(fan, star, epoch.Add(times[i]))
			f.follow(star, fan, epoch.Add(times[i]))
			f.block(star, f.active(fmt.Sprintf("troll%d", i)), epoch.Add(times[i]))
		}
		for _, l := range []struct {
			name string
			list func(Cursor, int) ([]Edge, error)
		}{
			{"followers", func(c Cursor, n int) ([]Edge, error) { return f.st.Followers(t.Context(), star.ID, c, n) }},
			{"following", func(c Cursor, n int) ([]Edge, error) { return f.st.Following(t.Context(), star.ID, c, n) }},
			{"blocks", func(c Cursor, n int) ([]Edge, error) { return f.st.Blocks(t.Context(), star.ID, c, n) }},
		} {
			whole := walkEdges(t, l.list, 100)
			if len(whole) != 7 {
				t.Fatalf("%s: %v, want 7", l.name, whole)
			}
			for _, n := range []int{1, 2, 3} {
				if got := walkEdges(t, l.list, n); !sameStrings(got, whole) {
					t.Errorf("%s in pages of %d = %v, want %v", l.name, n, got, whole)
				}
			}
			if _, err := l.list(Cursor{}, 0); !errors.Is(err, ErrInvalid) {
				t.Errorf("%s with limit 0: %v, want ErrInvalid", l.name, err)
			}
		}
	})

	t.Run("a block ends follows both ways and refuses new ones until lifted", func(t *testing.T) {
		f := fx{t, open(t)}
		ada, bob := f.active("ada"), f.active("bob")
		f.follow(ada, bob, epoch)
		f.follow(bob, ada, epoch)
		f.block(ada, bob, epoch.Add(time.Minute))
		f.block(ada, bob, epoch.Add(time.Hour))
		if r := f.relation(ada, bob); r != (Relation{Blocking: true}) {
			t.Errorf("ada to bob after blocking: %+v", r)
		}
		if r := f.relation(bob, ada); r != (Relation{BlockedBy: true}) {
			t.Errorf("bob to ada after being blocked: %+v", r)
		}
		for _, p := range [][2]Account{{ada, bob}, {bob, ada}} {
			if err := f.st.Follow(t.Context(), p[0].ID, p[1].ID, epoch); !errors.Is(err, ErrBlocked) {
				t.Errorf("%s follows %s across a block: %v, want ErrBlocked", p[0].Username, p[1].Username, err)
			}
		}
		got, err := f.st.Blocks(t.Context(), ada.ID, Cursor{}, 10)
		if err != nil || !sameStrings(names(got), []string{"bob@60"}) {
			t.Errorf("ada's blocks = %v, %v; want bob since the first block", names(got), err)
		}
		for range 2 {
			if err := f.st.Unblock(t.Context(), ada.ID, bob.ID); err != nil {
				t.Fatal(err)
			}
		}
		f.follow(bob, ada, epoch.Add(2*time.Hour))
		if r := f.relation(ada, bob); r != (Relation{FollowedBy: true}) {
			t.Errorf("after unblocking and a new follow: %+v", r)
		}
		if err := f.st.Block(t.Context(), ada.ID, ada.ID, epoch); !errors.Is(err, ErrInvalid) {
			t.Errorf("block self: %v, want ErrInvalid", err)
		}
		if err := f.st.Block(t.Context(), ada.ID, rooms.NewUserID(), epoch); !errors.Is(err, ErrAccountNotFound) {
			t.Errorf("block a stranger: %v, want ErrAccountNotFound", err)
		}
	})

	t.Run("a follow and a block of one pair racing never leave a follow across the block", func(t *testing.T) {
		f := fx{t, open(t)}
		for i := range 10 {
			a, b := f.active(fmt.Sprintf("a%d", i)), f.active(fmt.Sprintf("b%d", i))
			var wg sync.WaitGroup
			wg.Go(func() { _ = f.st.Follow(t.Context(), a.ID, b.ID, epoch) })
			wg.Go(func() { _ = f.st.Follow(t.Context(), b.ID, a.ID, epoch) })
			wg.Go(func() {
				if err := f.st.Block(t.Context(), b.ID, a.ID, epoch); err != nil {
					t.Error(err)
				}
			})
			wg.Wait()
			if r := f.relation(a, b); r.Following || r.FollowedBy || !r.BlockedBy {
				t.Fatalf("round %d: %+v", i, r)
			}
		}
	})

	t.Run("lists and counts leave out accounts that are no longer active", func(t *testing.T) {
		f := fx{t, open(t)}
		ada, bob, gone := f.active("ada"), f.active("bob"), f.active("gone")
		f.follow(bob, ada, epoch)
		f.follow(gone, ada, epoch)
		f.follow(ada, gone, epoch)
		if _, err := f.st.db.W.ExecContext(t.Context(), `UPDATE accounts SET status = 'deleted' WHERE id = $1`, string(gone.ID)); err != nil {
			t.Fatal(err)
		}
		if in, out := f.counts(ada); in != 1 || out != 0 {
			t.Errorf("ada: %d followers, %d following; want 1, 0", in, out)
		}
		got, _ := f.st.Followers(t.Context(), ada.ID, Cursor{}, 10)
		if !sameStrings(names(got), []string{"bob@0"}) {
			t.Errorf("followers = %v", names(got))
		}
	})

	t.Run("followed and blockers pick, from the members named, those followed and those blocking", func(t *testing.T) {
		f := fx{t, open(t)}
		ada, bob, cy, dee, eve := f.active("ada"), f.active("bob"), f.active("cy"), f.active("dee"), f.active("eve")
		f.follow(ada, cy, epoch)
		f.follow(ada, eve, epoch)
		f.follow(bob, dee, epoch)
		f.block(dee, ada, epoch)
		f.block(ada, bob, epoch)
		ctx := t.Context()
		ids := func(as ...Account) []rooms.UserID {
			out := make([]rooms.UserID, len(as))
			for i, a := range as {
				out[i] = a.ID
			}
			return out
		}
		same := func(got []rooms.UserID, want ...Account) bool {
			if len(got) != len(want) {
				return false
			}
			for _, w := range want {
				if !slices.Contains(got, w.ID) {
					return false
				}
			}
			return true
		}
		if got, err := f.st.Followed(ctx, ada.ID, nil); err != nil || len(got) != 0 {
			t.Errorf("followed among none = %v, %v", got, err)
		}
		if got, err := f.st.Followed(ctx, ada.ID, ids(bob, cy, dee, eve)); err != nil || !same(got, cy, eve) {
			t.Errorf("ada followed among four = %v, %v; want cy and eve", got, err)
		}
		if got, err := f.st.Blockers(ctx, ada.ID, ids(bob, cy, dee)); err != nil || !same(got, dee) {
			t.Errorf("ada's blockers among three = %v, %v; want dee", got, err)
		}
		if got, _ := f.st.Blockers(ctx, dee.ID, ids(ada)); len(got) != 0 {
			t.Error("a block counted the wrong way round")
		}
		// More candidates than one query takes: they go in chunks.
		many := make([]rooms.UserID, 0, 1200)
		for range 1199 {
			many = append(many, rooms.NewUserID())
		}
		many = append(many, eve.ID)
		if got, err := f.st.Followed(ctx, ada.ID, many); err != nil || !same(got, eve) {
			t.Errorf("followed among 1200 = %v, %v; want eve", got, err)
		}
	})

	t.Run("search matches a username or display-name prefix, ignoring ASCII case, in username order", func(t *testing.T) {
		f := fx{t, open(t)}
		viewer := f.active("viewer")
		for _, a := range []struct{ user, name string }{
			{"annika", "Zed"}, {"zed", "ANNE Smith"}, {"bob", "Annabel"}, {"carl", "Carl ann"},
			{"anchor", "x"}, {"emile", "Émile"}, {"pct", "100% ann"}, {"under", "a_b"}, {"axb", "axb"},
		} {
			acc := f.active(a.user)
			if _, err := f.st.UpdateProfile(t.Context(), acc.ID, ProfileUpdate{DisplayName: ptr(a.name)}); err != nil {
				t.Fatal(err)
			}
		}
		f.mustAccount("annwait", JoinWaitlist, "")
		search := func(prefix, after string, limit int) []string {
			t.Helper()
			got, err := f.st.SearchMembers(t.Context(), SearchQuery{Viewer: viewer.ID, Prefix: prefix, AfterUsername: after, Limit: limit})
			if err != nil {
				t.Fatal(err)
			}
			return usernames(got)
		}
		for _, c := range []struct {
			prefix string
			want   []string
		}{
			{"ann", []string{"annika", "bob", "zed"}},
			{"an", []string{"anchor", "annika", "bob", "zed"}},
			{"Émi", []string{"emile"}},
			// Letters outside ASCII match as typed, on both engines.
			{"émi", nil},
			{"100%", []string{"pct"}},
			{"a_", []string{"under"}},
			{"a%", nil},
			{"zzz", nil},
		} {
			if got := search(c.prefix, "", 10); !sameStrings(got, c.want) {
				t.Errorf("search %q = %v, want %v", c.prefix, got, c.want)
			}
		}
		if got := search("ann", "", 2); !sameStrings(got, []string{"annika", "bob"}) {
			t.Errorf("first page = %v", got)
		}
		if got := search("ann", "bob", 2); !sameStrings(got, []string{"zed"}) {
			t.Errorf("second page = %v", got)
		}
		// Someone who blocks the viewer is not found by them.
		zed, _, _ := f.st.Credentials(t.Context(), "zed")
		f.block(zed, viewer, epoch)
		if got := search("ann", "", 10); !sameStrings(got, []string{"annika", "bob"}) {
			t.Errorf("search by someone zed blocks = %v", got)
		}
		if _, err := f.st.SearchMembers(t.Context(), SearchQuery{Viewer: viewer.ID, Prefix: "", Limit: 5}); !errors.Is(err, ErrInvalid) {
			t.Errorf("an empty prefix: %v, want ErrInvalid", err)
		}
	})
}
