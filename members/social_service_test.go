package members

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley-audio/parley/rooms"
)

// countingLimiter allows n events per key, then refuses with a minute to
// wait.
type countingLimiter struct {
	mu   sync.Mutex // guards seen
	n    int
	seen map[string]int
}

func (l *countingLimiter) Allow(_ context.Context, key string, _ time.Time) (bool, time.Duration, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.seen == nil {
		l.seen = map[string]int{}
	}
	l.seen[key]++
	return l.seen[key] <= l.n, time.Minute, nil
}

type socialFixture struct {
	*Social
	f fx
}

func newSocialFixture(t *testing.T, lim DirectoryLimiter) socialFixture {
	st := openTestSQLite(t)
	now := epoch
	var mu sync.Mutex
	return socialFixture{
		Social: NewSocial(SocialParams{Store: st, Directory: lim, Now: func() time.Time {
			mu.Lock()
			defer mu.Unlock()
			now = now.Add(time.Second)
			return now
		}}),
		f: fx{t, st},
	}
}

func fieldsOf(t *testing.T, err error) map[string]string {
	t.Helper()
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("err = %v, want a *ValidationError", err)
	}
	out := map[string]string{}
	for _, f := range ve.Fields {
		out[f.Field] = f.Message
	}
	return out
}

func TestSocialProfileUpdateRefusesEveryBadField(t *testing.T) {
	s := newSocialFixture(t, nil)
	ada := s.f.active("ada")
	long := func(n int) *string { return ptr(strings.Repeat("x", n)) }
	for _, c := range []struct {
		name  string
		u     ProfileUpdate
		field string
	}{
		{"nothing to change", ProfileUpdate{}, "profile"},
		{"an empty display name", ProfileUpdate{DisplayName: ptr("   ")}, "display_name"},
		{"a display name over 64", ProfileUpdate{DisplayName: long(65)}, "display_name"},
		{"a display name with a bidi override", ProfileUpdate{DisplayName: ptr("a\u202eb")}, "display_name"},
		{"a short username", ProfileUpdate{Username: ptr("ab")}, "username"},
		{"a username with a dash", ProfileUpdate{Username: ptr("ada-l")}, "username"},
		{"a long username", ProfileUpdate{Username: long(31)}, "username"},
		{"a headline over 100", ProfileUpdate{Headline: long(101)}, "headline"},
		{"a headline over two lines", ProfileUpdate{Headline: ptr("CTO\nat Acme")}, "headline"},
		{"a bio over 1000", ProfileUpdate{Bio: long(1001)}, "bio"},
		{"a bio with a NUL", ProfileUpdate{Bio: ptr("a\x00b")}, "bio"},
		{"a bio with a zero-width space", ProfileUpdate{Bio: ptr("a\u200bb")}, "bio"},
		{"invalid UTF-8", ProfileUpdate{Bio: ptr("a\xffb")}, "bio"},
		{"a javascript: avatar", ProfileUpdate{AvatarURL: ptr("javascript:alert(1)")}, "avatar_url"},
		{"a data: avatar", ProfileUpdate{AvatarURL: ptr("data:image/png;base64,AAAA")}, "avatar_url"},
		{"a relative avatar", ProfileUpdate{AvatarURL: ptr("/me.png")}, "avatar_url"},
		{"an avatar without a host", ProfileUpdate{AvatarURL: ptr("https:///me.png")}, "avatar_url"},
		{"an avatar with a password", ProfileUpdate{AvatarURL: ptr("https://u:p@example.com/a.png")}, "avatar_url"},
		{"an avatar with a space", ProfileUpdate{AvatarURL: ptr("https://example.com/a b.png")}, "avatar_url"},
		{"an avatar over 500", ProfileUpdate{AvatarURL: ptr("https://example.com/" + strings.Repeat("a", 490))}, "avatar_url"},
		{"an ftp avatar", ProfileUpdate{AvatarURL: ptr("ftp://example.com/a.png")}, "avatar_url"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := s.UpdateProfile(t.Context(), ada.ID, c.u)
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("err = %v, want ErrInvalid", err)
			}
			if got := fieldsOf(t, err); got[c.field] == "" || len(got) != 1 {
				t.Errorf("fields = %v, want only %s", got, c.field)
			}
		})
	}
	// Every wrong field at once is reported at once.
	_, err := s.UpdateProfile(t.Context(), ada.ID, ProfileUpdate{DisplayName: ptr(""), Username: ptr("x"), AvatarURL: ptr("nope")})
	if got := fieldsOf(t, err); len(got) != 3 {
		t.Errorf("fields = %v, want three", got)
	}
	if a, _ := s.f.st.Account(t.Context(), ada.ID); a != ada {
		t.Errorf("refused updates changed the account: %+v", a)
	}
}

func TestSocialProfileUpdateCleansAndKeeps(t *testing.T) {
	s := newSocialFixture(t, nil)
	ada := s.f.active("ada")
	p, err := s.UpdateProfile(t.Context(), ada.ID, ProfileUpdate{
		Username: ptr("  Ada_Lovelace "), Headline: ptr("  Analyst at Engines  "), Bio: ptr(" Notes\n\ton things "),
		AvatarURL: ptr(" http://example.com/a%20b.png?s=1#x "),
	})
	if err != nil {
		t.Fatal(err)
	}
	if p.Username != "ada_lovelace" || p.Headline != "Analyst at Engines" || p.Bio != "Notes\n\ton things" ||
		p.AvatarURL != "http://example.com/a%20b.png?s=1#x" || p.DisplayName != ada.DisplayName {
		t.Errorf("profile = %+v", p)
	}
	p, err = s.UpdateProfile(t.Context(), ada.ID, ProfileUpdate{AvatarURL: ptr("")})
	if err != nil || p.AvatarURL != "" || p.Headline != "Analyst at Engines" {
		t.Errorf("clearing the avatar: %+v, %v", p, err)
	}
	bob := s.f.active("bob")
	if _, err := s.UpdateProfile(t.Context(), bob.ID, ProfileUpdate{Username: ptr("ADA_LOVELACE")}); !errors.Is(err, ErrUsernameTaken) {
		t.Errorf("taking a username in another case: %v, want ErrUsernameTaken", err)
	}
}

func TestSocialProfilesAndRelations(t *testing.T) {
	s := newSocialFixture(t, nil)
	ctx := t.Context()
	ada, bob, cy := s.f.active("ada"), s.f.active("bob"), s.f.active("cy")
	if err := s.Follow(ctx, ada.ID, bob.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.Follow(ctx, bob.ID, ada.ID); err != nil {
		t.Fatal(err)
	}
	v, err := s.Profile(ctx, ada.ID, bob.ID)
	if err != nil {
		t.Fatal(err)
	}
	if v.Followers != 1 || v.Following != 1 || v.Relation != (Relation{Following: true, FollowedBy: true}) {
		t.Errorf("ada sees bob as %+v", v)
	}
	// Bob blocks Cy: to Cy, Bob no longer exists.
	if err := s.Block(ctx, bob.ID, cy.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Profile(ctx, cy.ID, bob.ID); !errors.Is(err, ErrMemberNotFound) {
		t.Errorf("cy reads bob's profile: %v, want ErrMemberNotFound", err)
	}
	if err := s.Follow(ctx, cy.ID, bob.ID); !errors.Is(err, ErrMemberNotFound) {
		t.Errorf("cy follows bob: %v, want ErrMemberNotFound", err)
	}
	if _, _, err := s.Followers(ctx, cy.ID, bob.ID, 0, ""); !errors.Is(err, ErrMemberNotFound) {
		t.Errorf("cy lists bob's followers: %v, want ErrMemberNotFound", err)
	}
	// Bob sees Cy as blocked, and must unblock before following.
	if v, err := s.Profile(ctx, bob.ID, cy.ID); err != nil || !v.Relation.Blocking {
		t.Errorf("bob sees cy as %+v, %v", v, err)
	}
	if err := s.Follow(ctx, bob.ID, cy.ID); !errors.Is(err, ErrBlocked) {
		t.Errorf("bob follows whom he blocks: %v, want ErrBlocked", err)
	}
	for name, err := range map[string]error{
		"follow self":   s.Follow(ctx, ada.ID, ada.ID),
		"unfollow self": s.Unfollow(ctx, ada.ID, ada.ID),
		"block self":    s.Block(ctx, ada.ID, ada.ID),
		"unblock self":  s.Unblock(ctx, ada.ID, ada.ID),
	} {
		if got := fieldsOf(t, err); got["id"] == "" {
			t.Errorf("%s: fields %v", name, got)
		}
	}
	ghost := rooms.NewUserID()
	for name, err := range map[string]error{
		"follow":   s.Follow(ctx, ada.ID, ghost),
		"unfollow": s.Unfollow(ctx, ada.ID, ghost),
		"block":    s.Block(ctx, ada.ID, ghost),
	} {
		if !errors.Is(err, ErrMemberNotFound) {
			t.Errorf("%s a stranger: %v, want ErrMemberNotFound", name, err)
		}
	}
	if _, err := s.Profile(ctx, ada.ID, ghost); !errors.Is(err, ErrMemberNotFound) {
		t.Errorf("a stranger's profile: %v", err)
	}
	if err := s.Unblock(ctx, ada.ID, ghost); err != nil {
		t.Errorf("unblocking someone never blocked: %v", err)
	}
	wait := s.f.mustAccount("waiting", JoinWaitlist, "")
	if _, err := s.Profile(ctx, ada.ID, wait.ID); !errors.Is(err, ErrMemberNotFound) {
		t.Errorf("a waitlisted profile: %v, want ErrMemberNotFound", err)
	}
}

func TestSocialListsPageAndRefuseBadInput(t *testing.T) {
	s := newSocialFixture(t, nil)
	ctx := t.Context()
	star := s.f.active("star")
	for _, n := range []string{"fan1", "fan2", "fan3"} {
		if err := s.Follow(ctx, s.f.active(n).ID, star.ID); err != nil {
			t.Fatal(err)
		}
	}
	first, next, err := s.Followers(ctx, star.ID, star.ID, 2, "")
	if err != nil || len(first) != 2 || next == "" {
		t.Fatalf("first page: %d, %q, %v", len(first), next, err)
	}
	second, last, err := s.Followers(ctx, star.ID, star.ID, 2, next)
	if err != nil || len(second) != 1 || last != "" {
		t.Fatalf("second page: %d, %q, %v", len(second), last, err)
	}
	if got := names(append(first, second...)); got[0][:4] != "fan3" || got[2][:4] != "fan1" {
		t.Errorf("followers = %v, want newest first", got)
	}
	for _, c := range []struct {
		limit  int
		cursor string
		field  string
	}{
		{-1, "", "limit"}, {101, "", "limit"}, {0, "!!", "cursor"}, {0, "bm90IGEgY3Vyc29y", "cursor"},
		{0, "MTIzfHVzcl9ub3Bl", "cursor"},
	} {
		_, _, err := s.Following(ctx, star.ID, star.ID, c.limit, c.cursor)
		if got := fieldsOf(t, err); got[c.field] == "" {
			t.Errorf("limit %d cursor %q: fields %v, want %s", c.limit, c.cursor, got, c.field)
		}
		_, _, err = s.Blocks(ctx, star.ID, c.limit, c.cursor)
		if got := fieldsOf(t, err); got[c.field] == "" {
			t.Errorf("blocks: limit %d cursor %q: fields %v, want %s", c.limit, c.cursor, got, c.field)
		}
	}
}

func TestSocialSearch(t *testing.T) {
	lim := &countingLimiter{n: 6}
	s := newSocialFixture(t, lim)
	ctx := t.Context()
	me := s.f.active("viewer")
	for _, n := range []string{"annabel", "annika", "anne"} {
		s.f.active(n)
	}
	found, next, err := s.Search(ctx, me.ID, "ANN", 2, "")
	if err != nil || len(found) != 2 || next == "" || found[0].Username != "annabel" {
		t.Fatalf("first page: %v, %q, %v", usernames(found), next, err)
	}
	found, next, err = s.Search(ctx, me.ID, "ann", 2, next)
	if err != nil || len(found) != 1 || next != "" || found[0].Username != "annika" {
		t.Fatalf("second page: %v, %q, %v", usernames(found), next, err)
	}
	for _, c := range []struct {
		q, cursor string
		limit     int
		fields    []string
	}{
		{"an", "", 0, []string{"q"}},
		{"  a ", "", 0, []string{"q"}},
		{strings.Repeat("a", 65), "", 0, []string{"q"}},
		{"ann", "", 21, []string{"limit"}},
		{"ann", "***", 0, []string{"cursor"}},
		{"\xff\xfe\xfd", "", -3, []string{"q", "limit"}},
	} {
		_, _, err := s.Search(ctx, me.ID, c.q, c.limit, c.cursor)
		got := fieldsOf(t, err)
		if len(got) != len(c.fields) {
			t.Errorf("search %q limit %d cursor %q: fields %v, want %v", c.q, c.limit, c.cursor, got, c.fields)
		}
		for _, f := range c.fields {
			if got[f] == "" {
				t.Errorf("search %q: no message for %s in %v", c.q, f, got)
			}
		}
	}
	// Bad input costs nothing; each real search or list page costs one.
	for range 3 {
		if _, _, err := s.Search(ctx, me.ID, "ann", 0, ""); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := s.Following(ctx, me.ID, me.ID, 0, ""); err != nil {
		t.Fatal(err)
	}
	_, _, err = s.Search(ctx, me.ID, "ann", 0, "")
	var rle *RateLimitError
	if !errors.Is(err, ErrRateLimited) || !errors.As(err, &rle) || rle.RetryAfter != time.Minute {
		t.Errorf("the seventh directory request: %v, want a RateLimitError of a minute", err)
	}
	// Another member has their own allowance.
	if _, _, err := s.Search(ctx, s.f.active("other").ID, "ann", 0, ""); err != nil {
		t.Errorf("another member's search: %v", err)
	}
}
