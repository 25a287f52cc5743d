package api

import (
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/parley-audio/parley/members"
	"github.com/parley-audio/parley/rooms"
)

// profileJSON is a member's public profile on the wire.
type profileJSON struct {
	ID             rooms.UserID `json:"id"`
	Username       string       `json:"username"`
	DisplayName    string       `json:"display_name"`
	Headline       string       `json:"headline"`
	Bio            string       `json:"bio"`
	AvatarURL      string       `json:"avatar_url"`
	CreatedAt      time.Time    `json:"created_at"`
	FollowerCount  int          `json:"follower_count"`
	FollowingCount int          `json:"following_count"`
}

func profileOf(p members.Profile) profileJSON {
	return profileJSON{
		ID: p.ID, Username: p.Username, DisplayName: p.DisplayName, Headline: p.Headline, Bio: p.Bio,
		AvatarURL: p.AvatarURL, CreatedAt: p.CreatedAt, FollowerCount: p.Followers, FollowingCount: p.Following,
	}
}

// relationshipJSON is how the caller stands to a member.
type relationshipJSON struct {
	Following  bool `json:"following"`
	FollowsYou bool `json:"follows_you"`
	Blocking   bool `json:"blocking"`
}

// profileViewJSON is a profile as the caller sees it.
type profileViewJSON struct {
	profileJSON
	Relationship relationshipJSON `json:"relationship"`
}

// profileUpdateRequest is PATCH /me/profile's body: each field given is
// set, the others are kept.
type profileUpdateRequest struct {
	DisplayName *string `json:"display_name"`
	Username    *string `json:"username"`
	Headline    *string `json:"headline"`
	Bio         *string `json:"bio"`
	AvatarURL   *string `json:"avatar_url"`
}

// memberID reads the {id} of a member route. A string that cannot be a
// member's ID names no member.
func memberID(r *http.Request) (rooms.UserID, error) {
	id, err := rooms.ParseUserID(chi.URLParam(r, "id"))
	if err != nil {
		return "", errNoMember
	}
	return id, nil
}

// ownProfile returns the caller's profile: GET /api/v1/me/profile.
func (s *server) ownProfile(w http.ResponseWriter, r *http.Request) {
	p, err := principal(r)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	prof, err := s.social.OwnProfile(r.Context(), p.UserID)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusOK, profileOf(prof))
}

// updateProfile changes the caller's profile: PATCH /api/v1/me/profile.
func (s *server) updateProfile(w http.ResponseWriter, r *http.Request) {
	p, err := principal(r)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	var req profileUpdateRequest
	if err := decodeJSON(w, r, &req); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	prof, err := s.social.UpdateProfile(r.Context(), p.UserID, members.ProfileUpdate{
		DisplayName: req.DisplayName, Username: req.Username, Headline: req.Headline, Bio: req.Bio, AvatarURL: req.AvatarURL,
	})
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusOK, profileOf(prof))
}

// memberProfile returns a member's profile as the caller sees it:
// GET /api/v1/members/{id}.
func (s *server) memberProfile(w http.ResponseWriter, r *http.Request) {
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
	v, err := s.social.Profile(r.Context(), p.UserID, id)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusOK, profileViewJSON{
		profileJSON: profileOf(v.Profile),
		Relationship: relationshipJSON{
			Following: v.Relation.Following, FollowsYou: v.Relation.FollowedBy, Blocking: v.Relation.Blocking,
		},
	})
}
