package members

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/parley-audio/parley/rooms"
)

func TestSQLiteDeletionStoreContract(t *testing.T)   { testDeletionStore(t, openTestSQLite) }
func TestPostgresDeletionStoreContract(t *testing.T) { testDeletionStore(t, openTestPostgres) }

// eraseAll runs every eraser of the store, as the Deleter would.
func (f fx) eraseAll(id rooms.UserID, now time.Time) {
	f.t.Helper()
	for _, e := range f.st.Erasers() {
		if err := e.Erase(f.t.Context(), id, now); err != nil {
			f.t.Fatalf("eraser %s: %v", e.Name, err)
		}
	}
}

func (f fx) session(a Account, at time.Time) (Session, string) {
	f.t.Helper()
	s := Session{ID: NewSessionID(), AccountID: a.ID, CreatedAt: at, ExpiresAt: at.Add(24 * time.Hour)}
	hash := hashSecret(newRefreshToken())
	if err := f.st.CreateSession(f.t.Context(), s, hash); err != nil {
		f.t.Fatal(err)
	}
	return s, hash
}

func testDeletionStore(t *testing.T, open func(t *testing.T) *SQLStore) {
	t.Run("marking deleted revokes every session at once, keeps the first time, and refuses a missing account", func(t *testing.T) {
		f := fx{t, open(t)}
		f.mustAccount("first", JoinDirect, "")
		ann := f.active("ann")
		s1, _ := f.session(ann, epoch)
		s2, _ := f.session(ann, epoch)
		at := epoch.Add(time.Hour)
		del, ids, err := f.st.MarkDeleted(t.Context(), ann.ID, at)
		if err != nil || !del.At.Equal(at) || del.ID != ann.ID {
			t.Fatalf("MarkDeleted = %+v, %v", del, err)
		}
		slices.Sort(ids)
		want := []SessionID{s1.ID, s2.ID}
		slices.Sort(want)
		if !slices.Equal(ids, want) {
			t.Errorf("revoked %v, want %v", ids, want)
		}
		revs, err := f.st.RevokedSince(t.Context(), at)
		if err != nil || len(revs) != 2 {
			t.Errorf("RevokedSince = %+v, %v; want both sessions", revs, err)
		}
		a, hash, err := f.st.Credentials(t.Context(), "ann")
		if err != nil || a.Status != StatusDeleted || hash != "" {
			t.Errorf("after marking: %+v, hash %q, %v; want deleted with no password", a, hash, err)
		}
		// Again (a retry): the first time stays, nothing more to revoke.
		again, ids, err := f.st.MarkDeleted(t.Context(), ann.ID, at.Add(time.Hour))
		if err != nil || !again.At.Equal(at) || len(ids) != 0 {
			t.Errorf("marking again = %+v, %v, %v; want the first time and no sessions", again, ids, err)
		}
		if _, _, err := f.st.MarkDeleted(t.Context(), rooms.NewUserID(), at); !errors.Is(err, ErrAccountNotFound) {
			t.Errorf("a missing account: %v, want ErrAccountNotFound", err)
		}
		got, err := f.st.DeletedSince(t.Context(), at)
		if err != nil || len(got) != 1 || got[0].ID != ann.ID || !got[0].At.Equal(at) {
			t.Errorf("DeletedSince = %+v, %v", got, err)
		}
		if got, err := f.st.DeletedSince(t.Context(), at.Add(time.Millisecond)); err != nil || len(got) != 0 {
			t.Errorf("DeletedSince after = %+v, %v; want none", got, err)
		}
	})

	t.Run("pending erasures list oldest first by page until marked erased", func(t *testing.T) {
		f := fx{t, open(t)}
		f.mustAccount("first", JoinDirect, "")
		var ids []rooms.UserID
		for i, name := range []string{"ann", "bob", "cat"} {
			a := f.active(name)
			if _, _, err := f.st.MarkDeleted(t.Context(), a.ID, epoch.Add(time.Duration(i)*time.Minute)); err != nil {
				t.Fatal(err)
			}
			ids = append(ids, a.ID)
		}
		alive := f.active("dan")
		if d, deleted, err := f.st.Deletion(t.Context(), alive.ID); err != nil || deleted || d.ID != "" {
			t.Errorf("Deletion of a live account = %+v, %v, %v", d, deleted, err)
		}
		// Deleted at or before the cutoff only.
		page, err := f.st.PendingErasures(t.Context(), epoch.Add(time.Minute), Cursor{}, 10)
		if err != nil || len(page) != 2 || page[0].ID != ids[0] || page[1].ID != ids[1] {
			t.Fatalf("PendingErasures = %+v, %v; want ann then bob", page, err)
		}
		first, err := f.st.PendingErasures(t.Context(), epoch.Add(time.Hour), Cursor{}, 1)
		if err != nil || len(first) != 1 || first[0].ID != ids[0] {
			t.Fatalf("first page = %+v, %v", first, err)
		}
		next, err := f.st.PendingErasures(t.Context(), epoch.Add(time.Hour), Cursor{At: first[0].At, ID: string(first[0].ID)}, 10)
		if err != nil || len(next) != 2 || next[0].ID != ids[1] || next[1].ID != ids[2] {
			t.Fatalf("next page = %+v, %v", next, err)
		}
		if err := f.st.MarkErased(t.Context(), ids[1], epoch.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		// Marking a live account changes nothing.
		if err := f.st.MarkErased(t.Context(), alive.ID, epoch.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if _, deleted, _ := f.st.Deletion(t.Context(), alive.ID); deleted {
			t.Error("MarkErased deleted a live account")
		}
		d, deleted, err := f.st.Deletion(t.Context(), ids[1])
		if err != nil || !deleted || !d.ErasedAt.Equal(epoch.Add(time.Hour)) {
			t.Errorf("Deletion = %+v, %v, %v", d, deleted, err)
		}
		rest, err := f.st.PendingErasures(t.Context(), epoch.Add(time.Hour), Cursor{}, 10)
		if err != nil || len(rest) != 2 || rest[0].ID != ids[0] || rest[1].ID != ids[2] {
			t.Errorf("after one erased = %+v, %v", rest, err)
		}
		if _, err := f.st.PendingErasures(t.Context(), epoch, Cursor{}, 0); !errors.Is(err, ErrInvalid) {
			t.Errorf("limit 0: %v, want ErrInvalid", err)
		}
		if _, _, err := f.st.Deletion(t.Context(), rooms.NewUserID()); !errors.Is(err, ErrAccountNotFound) {
			t.Errorf("Deletion of none: %v", err)
		}
	})

	t.Run("the erasers leave a tombstone and everything of others intact", func(t *testing.T) {
		f := fx{t, open(t)}
		ctx := t.Context()
		f.mustAccount("first", JoinDirect, "")
		ann := f.active("ann")
		bob := f.active("bob")
		cat := f.active("cat")
		if _, err := f.st.UpdateProfile(ctx, ann.ID, ProfileUpdate{Headline: ptr("CTO at Acme"), Bio: ptr("Hi."), AvatarURL: ptr("https://example.com/a.png")}); err != nil {
			t.Fatal(err)
		}
		f.follow(ann, bob, epoch)
		f.follow(bob, ann, epoch)
		f.follow(bob, cat, epoch)
		f.block(ann, cat, epoch)
		dan := f.active("dan")
		f.block(dan, ann, epoch)
		f.block(cat, dan, epoch)
		// Ann's invites: one used by eve, one unused, one already revoked.
		used, usedHash := f.mustInvite(ann.ID)
		eve, err := f.account("eve", JoinInvite, usedHash, epoch)
		if err != nil || eve.InvitedBy != ann.ID {
			t.Fatalf("eve = %+v, %v", eve, err)
		}
		unused, unusedHash := f.mustInvite(ann.ID)
		revoked, _ := f.mustInvite(ann.ID)
		if _, err := f.st.RevokeInvite(ctx, ann.ID, revoked.ID, epoch.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		_, refresh := f.session(ann, epoch)

		at := epoch.Add(time.Hour)
		if _, _, err := f.st.MarkDeleted(ctx, ann.ID, at); err != nil {
			t.Fatal(err)
		}
		f.eraseAll(ann.ID, at)
		f.eraseAll(ann.ID, at.Add(time.Minute)) // again: idempotent

		a, err := f.st.Account(ctx, ann.ID)
		if err != nil {
			t.Fatal(err)
		}
		if a.Status != StatusDeleted || a.Username != tombstoneUsername(ann.ID) || a.DisplayName != "" || a.Headline != "" ||
			a.Bio != "" || a.AvatarURL != "" || a.Admin || a.InvitedBy != "" {
			t.Errorf("tombstone = %+v; want nothing but the ID, status and times", a)
		}
		if m, err := f.st.Member(ctx, ann.ID); err != nil || m.DisplayName != DeletedName {
			t.Errorf("Member = %+v, %v; want %q", m, err, DeletedName)
		}
		// The username is free for someone else.
		if _, _, err := f.st.Credentials(ctx, "ann"); !errors.Is(err, ErrAccountNotFound) {
			t.Errorf("credentials of the old username: %v, want ErrAccountNotFound", err)
		}
		if _, err := f.account("ann", JoinDirect, "", at); err != nil {
			t.Errorf("taking the freed username: %v", err)
		}
		// Follows and blocks, both ways, are gone; others' stay.
		for _, who := range []Account{bob, cat, dan} {
			if r := f.relation(who, Account{ID: ann.ID}); r != (Relation{}) {
				t.Errorf("%s still relates to the deleted member: %+v", who.Username, r)
			}
		}
		if r := f.relation(bob, cat); !r.Following {
			t.Errorf("bob lost his follow of cat: %+v", r)
		}
		if r := f.relation(cat, dan); !r.Blocking {
			t.Errorf("cat lost her block of dan: %+v", r)
		}
		if in, out := f.counts(bob); in != 0 || out != 1 {
			t.Errorf("bob's counts = %d followers, %d following; want 0 and 1", in, out)
		}
		if bl, err := f.st.Blocks(ctx, dan.ID, Cursor{}, 10); err != nil || len(bl) != 0 {
			t.Errorf("dan's blocks = %+v, %v; want none", bl, err)
		}
		if bl, err := f.st.Blocks(ctx, ann.ID, Cursor{}, 10); err != nil || len(bl) != 0 {
			t.Errorf("the deleted member's blocks = %+v, %v; want none", bl, err)
		}
		// Invites: unused revoked, used intact, eve's account intact.
		invs, err := f.st.Invites(ctx, ann.ID, Cursor{}, 10)
		if err != nil || len(invs) != 3 {
			t.Fatalf("ann's invites = %+v, %v", invs, err)
		}
		for _, inv := range invs {
			switch inv.ID {
			case used.ID:
				if inv.State(at) != InviteUsed || inv.UsedBy != eve.ID {
					t.Errorf("the used invite = %+v", inv)
				}
			case unused.ID:
				if inv.State(at) != InviteRevoked {
					t.Errorf("the unused invite = %+v, want revoked", inv)
				}
			case revoked.ID:
				if !inv.RevokedAt.Equal(epoch.Add(time.Minute)) {
					t.Errorf("the revoked invite's time moved: %+v", inv)
				}
			}
		}
		if _, err := f.account("fay", JoinInvite, unusedHash, at); !errors.Is(err, ErrInviteRevoked) {
			t.Errorf("signing up with the deleted member's unused code: %v, want ErrInviteRevoked", err)
		}
		if e, err := f.st.Account(ctx, eve.ID); err != nil || e.Status != StatusActive || e.InvitedBy != ann.ID || e.Username != "eve" {
			t.Errorf("eve = %+v, %v; want her account intact", e, err)
		}
		// Sessions: refresh tokens are gone.
		if _, err := f.st.RotateRefresh(ctx, refresh, hashSecret(newRefreshToken()), at, at.Add(time.Hour)); !errors.Is(err, ErrRefreshInvalid) {
			t.Errorf("the deleted member's refresh token: %v, want ErrRefreshInvalid", err)
		}
		// Nothing new can be done to or by the tombstone.
		if err := f.st.Follow(ctx, bob.ID, ann.ID, at); !errors.Is(err, ErrAccountNotFound) {
			t.Errorf("following the deleted member: %v, want ErrAccountNotFound", err)
		}
		if _, err := f.st.UpdateProfile(ctx, ann.ID, ProfileUpdate{Bio: ptr("back")}); !errors.Is(err, ErrAccountNotFound) {
			t.Errorf("editing the deleted profile: %v, want ErrAccountNotFound", err)
		}
		if _, _, err := f.invite(ann.ID, at, 5); !errors.Is(err, ErrForbidden) {
			t.Errorf("the deleted member inviting: %v, want ErrForbidden", err)
		}
	})
}
