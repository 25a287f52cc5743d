package members

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/parley-audio/parley/rooms"
)

// Page sizes and query lengths of the member directory. Search pages are
// small and queries long enough that walking the whole membership takes
// many requests, which the directory's rate limit then spreads over hours.
const (
	DefaultListSize   = 50
	MaxListSize       = 100
	DefaultSearchSize = 10
	MaxSearchSize     = 20
	MinSearchLen      = 3
	MaxSearchLen      = 64
)

// DirectoryLimiter says whether one more event of key may happen at now,
// and if not, when to try again. internal/ratelimit's limiters are
// DirectoryLimiters.
type DirectoryLimiter interface {
	Allow(ctx context.Context, key string, now time.Time) (ok bool, retryAfter time.Duration, err error)
}

// socialBackend is what Social needs of the store.
type socialBackend interface {
	Account(ctx context.Context, id rooms.UserID) (Account, error)
	SocialStore
}

// Social is the profiles, follows, blocks and member directory of the
// community. It decides who may see and do what; the store only keeps it.
// It is also rooms' Audience: whom a member follows and who blocks them,
// for room visibility. Its zero value is not usable; call NewSocial.
type Social struct {
	store     socialBackend
	directory DirectoryLimiter
	now       func() time.Time
	log       *slog.Logger
}

var _ rooms.Audience = (*Social)(nil)

// SocialParams are NewSocial's dependencies. Store is required. Directory
// limits member search and follower lists per member; nil means no limit
// (tests). Now and Logger are optional.
type SocialParams struct {
	Store     socialBackend
	Directory DirectoryLimiter
	Now       func() time.Time
	Logger    *slog.Logger
}

// NewSocial returns the service over p.Store.
func NewSocial(p SocialParams) *Social {
	s := &Social{store: p.Store, directory: p.Directory, now: p.Now, log: p.Logger}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	return s
}

func (s *Social) stamp() time.Time { return s.now().UTC().Truncate(time.Millisecond) }

// Profile is a member's public profile with their follow counts.
type Profile struct {
	Account
	Followers int
	Following int
}

// ProfileView is a profile as one viewer sees it.
type ProfileView struct {
	Profile
	// Relation is how the viewer stands to them (BlockedBy is always
	// false: a member who blocks the viewer is not shown at all).
	Relation Relation
}

// active returns an active account, or ErrMemberNotFound.
func (s *Social) active(ctx context.Context, id rooms.UserID) (Account, error) {
	a, err := s.store.Account(ctx, id)
	if errors.Is(err, ErrAccountNotFound) || (err == nil && a.Status != StatusActive) {
		return Account{}, fmt.Errorf("member %s: %w", id, ErrMemberNotFound)
	}
	if err != nil {
		return Account{}, err
	}
	return a, nil
}

func (s *Social) profile(ctx context.Context, a Account) (Profile, error) {
	in, out, err := s.store.FollowCounts(ctx, a.ID)
	if err != nil {
		return Profile{}, err
	}
	return Profile{Account: a, Followers: in, Following: out}, nil
}

// OwnProfile returns the caller's own profile.
func (s *Social) OwnProfile(ctx context.Context, me rooms.UserID) (Profile, error) {
	a, err := s.active(ctx, me)
	if err != nil {
		return Profile{}, err
	}
	return s.profile(ctx, a)
}

// visible returns id's account as viewer may see it: active, and not
// blocking viewer (to whom it then does not exist), with how viewer
// stands to them.
func (s *Social) visible(ctx context.Context, viewer, id rooms.UserID) (Account, Relation, error) {
	a, err := s.active(ctx, id)
	if err != nil {
		return Account{}, Relation{}, err
	}
	if viewer == id {
		return a, Relation{}, nil
	}
	r, err := s.store.Relation(ctx, viewer, id)
	if err != nil {
		return Account{}, Relation{}, err
	}
	if r.BlockedBy {
		return Account{}, Relation{}, fmt.Errorf("member %s: %w", id, ErrMemberNotFound)
	}
	return a, r, nil
}

// Profile returns id's profile as viewer sees it.
func (s *Social) Profile(ctx context.Context, viewer, id rooms.UserID) (ProfileView, error) {
	a, r, err := s.visible(ctx, viewer, id)
	if err != nil {
		return ProfileView{}, err
	}
	p, err := s.profile(ctx, a)
	if err != nil {
		return ProfileView{}, err
	}
	return ProfileView{Profile: p, Relation: r}, nil
}

// UpdateProfile changes the caller's own profile and returns it.
func (s *Social) UpdateProfile(ctx context.Context, me rooms.UserID, u ProfileUpdate) (Profile, error) {
	u, err := u.validate()
	if err != nil {
		return Profile{}, err
	}
	a, err := s.store.UpdateProfile(ctx, me, u)
	if errors.Is(err, ErrAccountNotFound) {
		return Profile{}, fmt.Errorf("update profile: %w", ErrMemberNotFound)
	}
	if err != nil {
		return Profile{}, err
	}
	s.log.InfoContext(ctx, "profile updated", "user", me)
	return s.profile(ctx, a)
}

// self refuses a member acting on themselves.
func self(field, verb string, a, b rooms.UserID) error {
	if a != b {
		return nil
	}
	ve := &ValidationError{}
	ve.add(field, "you cannot "+verb+" yourself")
	return ve
}

// Follow makes me follow them. A member who blocks me does not exist to
// me (ErrMemberNotFound); one I block must be unblocked first
// (ErrBlocked). Following again changes nothing.
func (s *Social) Follow(ctx context.Context, me, them rooms.UserID) error {
	if err := self("id", "follow", me, them); err != nil {
		return err
	}
	if _, r, err := s.visible(ctx, me, them); err != nil {
		return err
	} else if r.Blocking {
		return fmt.Errorf("follow %s: you block them: %w", them, ErrBlocked)
	}
	err := s.store.Follow(ctx, me, them, s.stamp())
	switch {
	case errors.Is(err, ErrAccountNotFound):
		return fmt.Errorf("follow %s: %w", them, ErrMemberNotFound)
	case errors.Is(err, ErrBlocked):
		// A block that came in since the check above: say nothing of who.
		return fmt.Errorf("follow %s: %w", them, ErrBlocked)
	}
	return err
}

// Unfollow ends my follow of them; not following them changes nothing.
func (s *Social) Unfollow(ctx context.Context, me, them rooms.UserID) error {
	if err := self("id", "unfollow", me, them); err != nil {
		return err
	}
	if _, err := s.active(ctx, them); err != nil {
		return err
	}
	return s.store.Unfollow(ctx, me, them)
}

// Block makes me block them: they can no longer see me, follow me, or see
// or join rooms I host or moderate, and any follow between us ends.
// Blocking again changes nothing.
func (s *Social) Block(ctx context.Context, me, them rooms.UserID) error {
	if err := self("id", "block", me, them); err != nil {
		return err
	}
	err := s.store.Block(ctx, me, them, s.stamp())
	if errors.Is(err, ErrAccountNotFound) {
		return fmt.Errorf("block %s: %w", them, ErrMemberNotFound)
	}
	if err == nil {
		s.log.InfoContext(ctx, "member blocked", "user", me, "blocked", them)
	}
	return err
}

// Unblock lifts my block of them; lifting none changes nothing. A member
// whose account is gone can still be unblocked.
func (s *Social) Unblock(ctx context.Context, me, them rooms.UserID) error {
	if err := self("id", "unblock", me, them); err != nil {
		return err
	}
	return s.store.Unblock(ctx, me, them)
}

// allow spends one of the viewer's directory requests.
func (s *Social) allow(ctx context.Context, viewer rooms.UserID) error {
	if s.directory == nil {
		return nil
	}
	ok, wait, err := s.directory.Allow(ctx, string(viewer), s.now())
	if err != nil {
		return fmt.Errorf("member directory: rate limit: %w: %w", ErrUnavailable, err)
	}
	if !ok {
		return fmt.Errorf("member directory: %w", &RateLimitError{RetryAfter: wait})
	}
	return nil
}

// listLimit checks a page size: 0 means the default.
func listLimit(limit, def, maxSize int) (int, error) {
	if limit == 0 {
		return def, nil
	}
	if limit < 1 || limit > maxSize {
		ve := &ValidationError{}
		ve.add("limit", "must be between 1 and "+strconv.Itoa(maxSize))
		return 0, ve
	}
	return limit, nil
}

func badCursor() error {
	ve := &ValidationError{}
	ve.add("cursor", "is not a cursor this server issued")
	return ve
}

func encodeEdgeCursor(e Edge) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(e.Since.UnixMilli(), 10) + "|" + string(e.Member.ID)))
}

func decodeEdgeCursor(c string) (Cursor, error) {
	if c == "" {
		return Cursor{}, nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return Cursor{}, badCursor()
	}
	ms, id, ok := strings.Cut(string(raw), "|")
	n, err := strconv.ParseInt(ms, 10, 64)
	if !ok || err != nil {
		return Cursor{}, badCursor()
	}
	uid, err := rooms.ParseUserID(id)
	if err != nil {
		return Cursor{}, badCursor()
	}
	return Cursor{At: fromMillis(n), ID: string(uid)}, nil
}

// edgePage reads one page of a list and the cursor of the next ("" at the
// end).
func edgePage(limit int, cursor string, read func(Cursor, int) ([]Edge, error)) ([]Edge, string, error) {
	limit, err := listLimit(limit, DefaultListSize, MaxListSize)
	if err != nil {
		return nil, "", err
	}
	after, err := decodeEdgeCursor(cursor)
	if err != nil {
		return nil, "", err
	}
	es, err := read(after, limit+1)
	if err != nil {
		return nil, "", err
	}
	if len(es) <= limit {
		return es, "", nil
	}
	es = es[:limit]
	return es, encodeEdgeCursor(es[limit-1]), nil
}

// Followers returns a page of who follows id, newest first, as viewer may
// see it, and the next page's cursor. It spends one of viewer's directory
// requests.
func (s *Social) Followers(ctx context.Context, viewer, id rooms.UserID, limit int, cursor string) ([]Edge, string, error) {
	return s.list(ctx, viewer, id, limit, cursor, s.store.Followers)
}

// Following returns a page of whom id follows, like Followers.
func (s *Social) Following(ctx context.Context, viewer, id rooms.UserID, limit int, cursor string) ([]Edge, string, error) {
	return s.list(ctx, viewer, id, limit, cursor, s.store.Following)
}

func (s *Social) list(ctx context.Context, viewer, id rooms.UserID, limit int, cursor string,
	read func(context.Context, rooms.UserID, Cursor, int) ([]Edge, error)) ([]Edge, string, error) {
	if _, _, err := s.visible(ctx, viewer, id); err != nil {
		return nil, "", err
	}
	if err := s.allow(ctx, viewer); err != nil {
		return nil, "", err
	}
	return edgePage(limit, cursor, func(c Cursor, n int) ([]Edge, error) { return read(ctx, id, c, n) })
}

// Blocks returns a page of whom me blocks, newest first. It is the
// member's own list, so it is not rate-limited.
func (s *Social) Blocks(ctx context.Context, me rooms.UserID, limit int, cursor string) ([]Edge, string, error) {
	return edgePage(limit, cursor, func(c Cursor, n int) ([]Edge, error) { return s.store.Blocks(ctx, me, c, n) })
}

// foldASCII lowers ASCII letters only, as the store's search compares.
func foldASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// Search finds active members whose username or display name starts with
// q (at least MinSearchLen characters; ASCII letters in any case), in
// username order, leaving out anyone who blocks the viewer. It spends one
// of viewer's directory requests.
func (s *Social) Search(ctx context.Context, viewer rooms.UserID, q string, limit int, cursor string) ([]Account, string, error) {
	ve := &ValidationError{}
	q = strings.TrimSpace(q)
	switch n := utf8.RuneCountInString(q); {
	case !utf8.ValidString(q):
		ve.add("q", "must be valid UTF-8")
	case n < MinSearchLen:
		ve.add("q", "must be at least "+strconv.Itoa(MinSearchLen)+" characters")
	case n > MaxSearchLen:
		ve.add("q", "must be at most "+strconv.Itoa(MaxSearchLen)+" characters")
	}
	limit, err := listLimit(limit, DefaultSearchSize, MaxSearchSize)
	var lve *ValidationError
	if errors.As(err, &lve) {
		ve.Fields = append(ve.Fields, lve.Fields...)
	}
	after := ""
	if cursor != "" {
		raw, err := base64.RawURLEncoding.DecodeString(cursor)
		if err != nil || usernameProblem(string(raw)) != "" {
			ve.add("cursor", "is not a cursor this server issued")
		}
		after = string(raw)
	}
	if err := ve.orNil(); err != nil {
		return nil, "", err
	}
	if err := s.allow(ctx, viewer); err != nil {
		return nil, "", err
	}
	found, err := s.store.SearchMembers(ctx, SearchQuery{Viewer: viewer, Prefix: foldASCII(q), AfterUsername: after, Limit: limit + 1})
	if err != nil {
		return nil, "", err
	}
	if len(found) <= limit {
		return found, "", nil
	}
	found = found[:limit]
	return found, base64.RawURLEncoding.EncodeToString([]byte(found[limit-1].Username)), nil
}

// Followed implements rooms.Audience.
func (s *Social) Followed(ctx context.Context, follower rooms.UserID, among []rooms.UserID) ([]rooms.UserID, error) {
	return s.store.Followed(ctx, follower, among)
}

// Blockers implements rooms.Audience.
func (s *Social) Blockers(ctx context.Context, user rooms.UserID, among []rooms.UserID) ([]rooms.UserID, error) {
	return s.store.Blockers(ctx, user, among)
}
