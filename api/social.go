package api

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/parley-audio/parley/members"
	"github.com/parley-audio/parley/rooms"
)

// SocialService is what the API needs of members.Social: profiles,
// follows, blocks and the member directory.
type SocialService interface {
	OwnProfile(ctx context.Context, me rooms.UserID) (members.Profile, error)
	UpdateProfile(ctx context.Context, me rooms.UserID, u members.ProfileUpdate) (members.Profile, error)
	Profile(ctx context.Context, viewer, id rooms.UserID) (members.ProfileView, error)
	Follow(ctx context.Context, me, them rooms.UserID) error
	Unfollow(ctx context.Context, me, them rooms.UserID) error
	Block(ctx context.Context, me, them rooms.UserID) error
	Unblock(ctx context.Context, me, them rooms.UserID) error
	Followers(ctx context.Context, viewer, id rooms.UserID, limit int, cursor string) ([]members.Edge, string, error)
	Following(ctx context.Context, viewer, id rooms.UserID, limit int, cursor string) ([]members.Edge, string, error)
	Blocks(ctx context.Context, me rooms.UserID, limit int, cursor string) ([]members.Edge, string, error)
	Search(ctx context.Context, viewer rooms.UserID, q string, limit int, cursor string) ([]members.Account, string, error)
}

var _ SocialService = (*members.Social)(nil)

// memberSummaryJSON is a member in a list.
type memberSummaryJSON struct {
	ID          rooms.UserID `json:"id"`
	Username    string       `json:"username"`
	DisplayName string       `json:"display_name"`
	Headline    string       `json:"headline"`
	AvatarURL   string       `json:"avatar_url"`
}

func summaryOf(a members.Account) memberSummaryJSON {
	return memberSummaryJSON{ID: a.ID, Username: a.Username, DisplayName: a.DisplayName, Headline: a.Headline, AvatarURL: a.AvatarURL}
}

// edgeJSON is a member in a list of follows or blocks, and since when.
type edgeJSON struct {
	memberSummaryJSON
	Since time.Time `json:"since"`
}

type memberListResponse struct {
	Members    []memberSummaryJSON `json:"members"`
	NextCursor string              `json:"next_cursor,omitempty"`
}

type edgeListResponse struct {
	Members    []edgeJSON `json:"members"`
	NextCursor string     `json:"next_cursor,omitempty"`
}

// queryLimit reads ?limit=: absent is 0 (the default); present, it must be
// an integer, which the service then checks for range.
func queryLimit(r *http.Request) (int, error) {
	q := r.URL.Query()
	if !q.Has("limit") {
		return 0, nil
	}
	n, err := strconv.Atoi(q.Get("limit"))
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return 0, errLimit
	}
	if n == 0 {
		n = -1 // an explicit 0 is out of range, not "the default"
	}
	return n, nil
}

// socialAct serves a follow, unfollow, block or unblock of {id}: no
// body, 204.
func (s *server) socialAct(do func(ctx context.Context, me, them rooms.UserID) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p, err := principal(r)
		if err != nil {
			writeError(w, r, s.log, err)
			return
		}
		id, err := memberID(r)
		if err != nil {
			writeError(w, r, s.log, err)
			return
		}
		if err := noBody(w, r, nil); err != nil {
			writeError(w, r, s.log, err)
			return
		}
		if err := do(r.Context(), p.UserID, id); err != nil {
			writeError(w, r, s.log, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}
}

// edgeList serves a list of follows or blocks.
func (s *server) edgeList(read func(ctx context.Context, viewer, id rooms.UserID, limit int, cursor string) ([]members.Edge, string, error), own bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p, err := principal(r)
		if err != nil {
			writeError(w, r, s.log, err)
			return
		}
		id := p.UserID
		if !own {
			if id, err = memberID(r); err != nil {
				writeError(w, r, s.log, err)
				return
			}
		}
		limit, cursor, err := pageParams(r)
		if err != nil {
			writeError(w, r, s.log, err)
			return
		}
		es, next, err := read(r.Context(), p.UserID, id, limit, cursor)
		if err != nil {
			writeError(w, r, s.log, err)
			return
		}
		out := edgeListResponse{Members: make([]edgeJSON, len(es)), NextCursor: next}
		for i, e := range es {
			out.Members[i] = edgeJSON{memberSummaryJSON: summaryOf(e.Member), Since: e.Since}
		}
		writeJSON(w, http.StatusOK, out)
	}
}

// searchMembers finds members by username or display-name prefix:
// GET /api/v1/members?q=.
func (s *server) searchMembers(w http.ResponseWriter, r *http.Request) {
	p, err := principal(r)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	limit, err := queryLimit(r)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	q := r.URL.Query()
	found, next, err := s.social.Search(r.Context(), p.UserID, q.Get("q"), limit, q.Get("cursor"))
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	out := memberListResponse{Members: make([]memberSummaryJSON, len(found)), NextCursor: next}
	for i, a := range found {
		out.Members[i] = summaryOf(a)
	}
	writeJSON(w, http.StatusOK, out)
}

// socialRoutes mounts the profile, follow, block and directory routes
// (docs/api.md, "Members"), inside the authenticated group.
func (s *server) socialRoutes(r chi.Router) {
	soc := s.social
	r.Get("/me/profile", s.ownProfile)
	r.Patch("/me/profile", s.updateProfile)
	r.Get("/me/blocks", s.edgeList(func(ctx context.Context, me, _ rooms.UserID, limit int, cursor string) ([]members.Edge, string, error) {
		return soc.Blocks(ctx, me, limit, cursor)
	}, true))
	r.Get("/members", s.searchMembers)
	r.Get("/members/{id}", s.memberProfile)
	r.Post("/members/{id}/follow", s.socialAct(soc.Follow))
	r.Delete("/members/{id}/follow", s.socialAct(soc.Unfollow))
	r.Post("/members/{id}/block", s.socialAct(soc.Block))
	r.Delete("/members/{id}/block", s.socialAct(soc.Unblock))
	r.Get("/members/{id}/followers", s.edgeList(soc.Followers, false))
	r.Get("/members/{id}/following", s.edgeList(soc.Following, false))
}
