package api

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/parley-audio/parley/internal/ratelimit"
	"github.com/parley-audio/parley/members"
	"github.com/parley-audio/parley/rooms"
)

type profileOut struct {
	ID             rooms.UserID `json:"id"`
	Username       string       `json:"username"`
	DisplayName    string       `json:"display_name"`
	Headline       string       `json:"headline"`
	Bio            string       `json:"bio"`
	AvatarURL      string       `json:"avatar_url"`
	CreatedAt      time.Time    `json:"created_at"`
	FollowerCount  int          `json:"follower_count"`
	FollowingCount int          `json:"following_count"`
	Relationship   *struct {
		Following  bool `json:"following"`
		FollowsYou bool `json:"follows_you"`
		Blocking   bool `json:"blocking"`
	} `json:"relationship"`
}

type memberListOut struct {
	Members []struct {
		ID          rooms.UserID `json:"id"`
		Username    string       `json:"username"`
		DisplayName string       `json:"display_name"`
		Headline    string       `json:"headline"`
		AvatarURL   string       `json:"avatar_url"`
		Since       *time.Time   `json:"since"`
	} `json:"members"`
	NextCursor string `json:"next_cursor"`
}

func (e *testEnv) profile(t *testing.T, token string, id rooms.UserID) profileOut {
	t.Helper()
	resp, body := e.do(t, http.MethodGet, "/api/v1/members/"+string(id), token, "")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("profile: %d %s", resp.StatusCode, body)
	}
	var p profileOut
	decodeStrictly(t, body, &p, false)
	return p
}

func (e *testEnv) must(t *testing.T, method, path, token, body string, status int) string {
	t.Helper()
	resp, got := e.do(t, method, path, token, body)
	if resp.StatusCode != status {
		t.Fatalf("%s %s: %d %s, want %d", method, path, resp.StatusCode, got, status)
	}
	return got
}

func TestProfiles(t *testing.T) {
	e := newTestEnv(t, nil)
	ann, annID := e.signIn(t, "Ann")
	bob, bobID := e.signIn(t, "Bob")

	body := e.must(t, http.MethodPatch, "/api/v1/me/profile", ann,
		`{"username":"Ann_Lee","headline":"Staff engineer at Acme","bio":"Compilers.\nClimbing.","avatar_url":"https://example.com/a.png"}`, http.StatusOK)
	var own profileOut
	decodeStrictly(t, body, &own, false)
	if own.ID != annID || own.Username != "ann_lee" || own.DisplayName != "Ann" || own.Headline != "Staff engineer at Acme" ||
		own.Bio != "Compilers.\nClimbing." || own.AvatarURL != "https://example.com/a.png" || own.Relationship != nil {
		t.Errorf("PATCH /me/profile = %+v", own)
	}
	body = e.must(t, http.MethodGet, "/api/v1/me/profile", ann, "", http.StatusOK)
	var again profileOut
	decodeStrictly(t, body, &again, false)
	if again != own {
		t.Errorf("GET /me/profile = %+v, want %+v", again, own)
	}

	e.must(t, http.MethodPost, "/api/v1/members/"+string(annID)+"/follow", bob, "", http.StatusNoContent)
	e.must(t, http.MethodPost, "/api/v1/members/"+string(annID)+"/follow", bob, "{}", http.StatusNoContent)
	p := e.profile(t, bob, annID)
	if p.Username != "ann_lee" || p.FollowerCount != 1 || p.Relationship == nil || !p.Relationship.Following || p.Relationship.FollowsYou {
		t.Errorf("Bob sees Ann as %+v", p)
	}
	if p := e.profile(t, ann, bobID); p.FollowingCount != 1 || !p.Relationship.FollowsYou || p.Relationship.Following {
		t.Errorf("Ann sees Bob as %+v", p)
	}
	var list memberListOut
	decodeStrictly(t, e.must(t, http.MethodGet, "/api/v1/members/"+string(annID)+"/followers", ann, "", http.StatusOK), &list, false)
	if len(list.Members) != 1 || list.Members[0].ID != bobID || list.Members[0].Since == nil {
		t.Errorf("Ann's followers = %+v", list)
	}
	list = memberListOut{}
	decodeStrictly(t, e.must(t, http.MethodGet, "/api/v1/members/"+string(bobID)+"/following?limit=1", ann, "", http.StatusOK), &list, false)
	if len(list.Members) != 1 || list.Members[0].Username != "ann_lee" || list.NextCursor != "" {
		t.Errorf("Bob's following = %+v", list)
	}
	e.must(t, http.MethodDelete, "/api/v1/members/"+string(annID)+"/follow", bob, "", http.StatusNoContent)
	if p := e.profile(t, bob, annID); p.FollowerCount != 0 || p.Relationship.Following {
		t.Errorf("after unfollowing: %+v", p)
	}

	// Ann blocks Bob: he no longer finds her, and she must unblock before
	// following him.
	e.must(t, http.MethodPost, "/api/v1/members/"+string(bobID)+"/block", ann, "", http.StatusNoContent)
	resp, body := e.do(t, http.MethodGet, "/api/v1/members/"+string(annID), bob, "")
	wantError(t, resp, body, http.StatusNotFound, codeMemberNotFound)
	resp, body = e.do(t, http.MethodPost, "/api/v1/members/"+string(annID)+"/follow", bob, "")
	wantError(t, resp, body, http.StatusNotFound, codeMemberNotFound)
	resp, body = e.do(t, http.MethodPost, "/api/v1/members/"+string(bobID)+"/follow", ann, "")
	wantError(t, resp, body, http.StatusForbidden, codeBlocked)
	list = memberListOut{}
	decodeStrictly(t, e.must(t, http.MethodGet, "/api/v1/me/blocks", ann, "", http.StatusOK), &list, false)
	if len(list.Members) != 1 || list.Members[0].ID != bobID {
		t.Errorf("Ann's blocks = %+v", list)
	}
	e.must(t, http.MethodDelete, "/api/v1/members/"+string(bobID)+"/block", ann, "", http.StatusNoContent)
	e.must(t, http.MethodPost, "/api/v1/members/"+string(bobID)+"/follow", ann, "", http.StatusNoContent)
}

func TestProfileUpdateBadInput(t *testing.T) {
	e := newTestEnv(t, nil)
	ann, _ := e.signIn(t, "Ann")
	bob, _ := e.signIn(t, "Bob")
	e.must(t, http.MethodPatch, "/api/v1/me/profile", bob, `{"username":"bobby"}`, http.StatusOK)
	long := strings.Repeat("x", 1001)
	for _, c := range []struct {
		name, body string
		status     int
		code       string
		fields     []string
	}{
		{"no field", `{}`, 400, codeValidationFailed, []string{"profile"}},
		{"only nulls", `{"bio":null}`, 400, codeValidationFailed, []string{"profile"}},
		{"an empty display name", `{"display_name":" "}`, 400, codeValidationFailed, []string{"display_name"}},
		{"a bad username", `{"username":"a-b"}`, 400, codeValidationFailed, []string{"username"}},
		{"a two-line headline", `{"headline":"a\nb"}`, 400, codeValidationFailed, []string{"headline"}},
		{"a long bio", `{"bio":"` + long + `"}`, 400, codeValidationFailed, []string{"bio"}},
		{"a javascript avatar", `{"avatar_url":"javascript:alert(1)"}`, 400, codeValidationFailed, []string{"avatar_url"}},
		{"four wrong fields", `{"display_name":"","username":"x","bio":"` + long + `","avatar_url":"ftp://x"}`, 400, codeValidationFailed,
			[]string{"display_name", "username", "bio", "avatar_url"}},
		{"a taken username", `{"username":"BOBBY"}`, 409, codeUsernameTaken, nil},
		{"a number for a name", `{"display_name":7}`, 400, codeInvalidRequest, nil},
		{"an unknown field", `{"colour":"red"}`, 400, codeInvalidRequest, nil},
		{"not JSON", `{"bio":`, 400, codeInvalidJSON, nil},
		{"no body", ``, 400, codeInvalidJSON, nil},
		{"two values", `{"bio":"a"}{}`, 400, codeInvalidJSON, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			resp, body := e.do(t, http.MethodPatch, "/api/v1/me/profile", ann, c.body)
			wantError(t, resp, body, c.status, c.code)
			var got struct {
				Error struct {
					Fields []fieldError `json:"fields"`
				} `json:"error"`
			}
			_ = json.Unmarshal([]byte(body), &got)
			if len(got.Error.Fields) != len(c.fields) {
				t.Fatalf("fields %+v, want %v", got.Error.Fields, c.fields)
			}
			for i, f := range c.fields {
				if got.Error.Fields[i].Field != f {
					t.Errorf("field %d = %s, want %s", i, got.Error.Fields[i].Field, f)
				}
			}
		})
	}
	resp, body := e.do(t, http.MethodPatch, "/api/v1/me/profile", "", `{"bio":"x"}`)
	wantError(t, resp, body, http.StatusUnauthorized, codeUnauthorized)
	resp, body = testRequest(t, e.srv, http.MethodPatch, "/api/v1/me/profile", strings.NewReader(`{"bio":"x"}`),
		http.Header{"Authorization": {"Bearer " + ann}, "Content-Type": {"text/plain"}})
	wantError(t, resp, body, http.StatusUnsupportedMediaType, codeUnsupportedMediaType)
	resp, body = e.do(t, http.MethodPatch, "/api/v1/me/profile", ann, `{"bio":"`+strings.Repeat("a", maxBodyBytes)+`"}`)
	wantError(t, resp, body, http.StatusRequestEntityTooLarge, codeBodyTooLarge)
	// Nothing of it stuck.
	var p profileOut
	decodeStrictly(t, e.must(t, http.MethodGet, "/api/v1/me/profile", ann, "", 200), &p, false)
	if p.Bio != "" || p.Headline != "" || p.DisplayName != "Ann" || !strings.HasPrefix(p.Username, "dev_") {
		t.Errorf("refused updates changed the profile: %+v", p)
	}
}

func TestMemberRoutesBadInput(t *testing.T) {
	e := newTestEnv(t, nil)
	ann, annID := e.signIn(t, "Ann")
	ghost := string(rooms.NewUserID())
	for _, path := range []string{"", "/follow", "/block", "/followers", "/following"} {
		methods := []string{http.MethodGet}
		if path == "/follow" || path == "/block" {
			methods = []string{http.MethodPost, http.MethodDelete}
		}
		for _, m := range methods {
			for _, id := range []string{"usr_nope", "rm_aaaaaaaaaaaaaaaaaaaaaaaaaa", "%20", ghost} {
				if m == http.MethodDelete && path == "/block" && id == ghost {
					continue // unblocking someone unknown changes nothing
				}
				resp, body := e.do(t, m, "/api/v1/members/"+id+path, ann, "")
				wantError(t, resp, body, http.StatusNotFound, codeMemberNotFound)
			}
			resp, body := e.do(t, m, "/api/v1/members/"+string(annID)+path, "", "")
			wantError(t, resp, body, http.StatusUnauthorized, codeUnauthorized)
		}
	}
	e.must(t, http.MethodDelete, "/api/v1/members/"+ghost+"/block", ann, "", http.StatusNoContent)
	for _, p := range []string{"/follow", "/block"} {
		for _, m := range []string{http.MethodPost, http.MethodDelete} {
			resp, body := e.do(t, m, "/api/v1/members/"+string(annID)+p, ann, "")
			wantError(t, resp, body, http.StatusBadRequest, codeValidationFailed)
			_, bobID := e.signIn(t, "Bob")
			resp, body = e.do(t, m, "/api/v1/members/"+string(bobID)+p, ann, `{"now":true}`)
			wantError(t, resp, body, http.StatusBadRequest, codeInvalidRequest)
			resp, body = e.do(t, m, "/api/v1/members/"+string(bobID)+p, ann, `[`)
			wantError(t, resp, body, http.StatusBadRequest, codeInvalidJSON)
		}
	}
	for _, q := range []string{"?limit=many", "?limit=0", "?limit=101", "?cursor=forged", "?limit=-1"} {
		for _, path := range []string{"/api/v1/members/" + string(annID) + "/followers", "/api/v1/me/blocks"} {
			resp, body := e.do(t, http.MethodGet, path+q, ann, "")
			code := codeValidationFailed
			if q == "?limit=many" {
				code = codeInvalidRequest
			}
			wantError(t, resp, body, http.StatusBadRequest, code)
		}
	}
	e.mustStillServe(t, ann)
}

func TestMemberSearchAndItsLimits(t *testing.T) {
	lim := ratelimit.NewMemory(ratelimit.Rate{N: 4, Per: time.Hour})
	e := newTestEnvWith(t, envOptions{social: func(p *members.SocialParams) { p.Directory = lim }})
	ann, annID := e.signIn(t, "Ann")
	for _, n := range []string{"Annabel", "Annika", "Anne", "Bob"} {
		e.signIn(t, n)
	}
	var list memberListOut
	decodeStrictly(t, e.must(t, http.MethodGet, "/api/v1/members?q=ANN&limit=2", ann, "", http.StatusOK), &list, false)
	if len(list.Members) != 2 || list.NextCursor == "" {
		t.Fatalf("first page = %+v", list)
	}
	seen := map[rooms.UserID]bool{list.Members[0].ID: true, list.Members[1].ID: true}
	cursor := list.NextCursor
	list = memberListOut{}
	decodeStrictly(t, e.must(t, http.MethodGet, "/api/v1/members?q=ann&limit=2&cursor="+cursor, ann, "", http.StatusOK), &list, false)
	for _, m := range list.Members {
		seen[m.ID] = true
	}
	if len(seen) != 4 || !seen[annID] || list.NextCursor != "" {
		t.Errorf("two pages found %d members (%v), want Ann, Annabel, Annika and Anne", len(seen), seen)
	}
	for _, c := range []struct {
		q      string
		status int
		code   string
	}{
		{"", 400, codeValidationFailed}, {"an", 400, codeValidationFailed}, {"%20%20an%20", 400, codeValidationFailed},
		{"ann&limit=21", 400, codeValidationFailed}, {"ann&limit=0", 400, codeValidationFailed},
		{"ann&limit=ten", 400, codeInvalidRequest}, {"ann&cursor=%2A%2A", 400, codeValidationFailed},
		{strings.Repeat("a", 65), 400, codeValidationFailed},
	} {
		resp, body := e.do(t, http.MethodGet, "/api/v1/members?q="+c.q, ann, "")
		wantError(t, resp, body, c.status, c.code)
	}
	resp, body := e.do(t, http.MethodGet, "/api/v1/members?q=ann", "", "")
	wantError(t, resp, body, http.StatusUnauthorized, codeUnauthorized)
	// Two searches so far, bad input free; a follower list is the third.
	e.must(t, http.MethodGet, "/api/v1/members/"+string(annID)+"/following", ann, "", http.StatusOK)
	e.must(t, http.MethodGet, "/api/v1/members?q=bob", ann, "", http.StatusOK)
	resp, body = e.do(t, http.MethodGet, "/api/v1/members?q=bob", ann, "")
	wantError(t, resp, body, http.StatusTooManyRequests, codeRateLimited)
	if ra := resp.Header.Get("Retry-After"); ra != "900" {
		t.Errorf("Retry-After = %q, want 900 (a token every 15 minutes)", ra)
	}
	resp, body = e.do(t, http.MethodGet, "/api/v1/members/"+string(annID)+"/followers", ann, "")
	wantError(t, resp, body, http.StatusTooManyRequests, codeRateLimited)
	// Someone else still may.
	bob, _ := e.signIn(t, "Bobby")
	e.must(t, http.MethodGet, "/api/v1/members?q=bob", bob, "", http.StatusOK)
}
