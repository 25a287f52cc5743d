package api

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/parley-audio/parley/internal/ratelimit"
	"github.com/parley-audio/parley/members"
	"github.com/parley-audio/parley/rooms"
)

// TestOpenAPIMatchesSocialResponses walks the routes of profiles, follows,
// blocks, the member directory, room access and guests, good requests and
// bad, and checks every answer against the document, as
// TestOpenAPIMatchesResponses does for the rest.
func TestOpenAPIMatchesSocialResponses(t *testing.T) {
	doc, err := openapi3.NewLoader().LoadFromData(openapiJSON)
	if err != nil {
		t.Fatal(err)
	}
	c := &conformance{doc: doc, e: newTestEnvWith(t, envOptions{
		svc:    func(p *rooms.ServiceParams) { p.Guests = true },
		social: func(p *members.SocialParams) { p.Directory = ratelimit.NewMemory(ratelimit.Rate{N: 6, Per: time.Hour}) },
		edit:   func(p *Params) { p.GuestLimiter = ratelimit.NewMemory(ratelimit.Rate{N: 5, Per: time.Hour}) },
	})}
	ann, annID := c.e.signIn(t, "Ann")
	bob, bobID := c.e.signIn(t, "Bob")
	const (
		me      = "/api/v1/me/profile"
		blocks  = "/api/v1/me/blocks"
		search  = "/api/v1/members"
		member  = "/api/v1/members/{id}"
		ghost   = "usr_aaaaaaaaaaaaaaaaaaaaaaaaaa"
		room    = "/api/v1/rooms/{id}"
		invitee = room + "/invitees/{user_id}"
	)
	m := func(id rooms.UserID, tail string) string { return "/api/v1/members/" + string(id) + tail }

	c.do(t, http.MethodGet, me, me, ann, "")
	c.do(t, http.MethodGet, me, me, "", "")
	c.do(t, http.MethodPatch, me, me, ann, `{"username":"ann_lee","headline":"CTO at Acme","avatar_url":"https://example.com/a.png"}`)
	c.do(t, http.MethodPatch, me, me, bob, `{"username":"ann_lee"}`)
	c.do(t, http.MethodPatch, me, me, bob, `{}`)
	c.do(t, http.MethodPatch, me, me, bob, `{"display_name":"","avatar_url":"javascript:x"}`)
	c.do(t, http.MethodPatch, me, me, bob, `{"bio":1}`)
	c.do(t, http.MethodPatch, me, me, bob, `{"bio":`)
	c.do(t, http.MethodPatch, me, me, bob, `{"bio":"`+strings.Repeat("a", maxBodyBytes)+`"}`)

	for _, tail := range []string{"/follow", "/block"} {
		tmpl := member + tail
		c.do(t, http.MethodPost, tmpl, m(annID, tail), bob, "")
		c.do(t, http.MethodPost, tmpl, m(bobID, tail), bob, "")
		c.do(t, http.MethodPost, tmpl, m(ghost, tail), bob, "")
		c.do(t, http.MethodPost, tmpl, m("usr_x", tail), bob, "")
		c.do(t, http.MethodPost, tmpl, m(annID, tail), bob, `{"x":1}`)
		c.do(t, http.MethodPost, tmpl, m(annID, tail), "", "")
		c.do(t, http.MethodDelete, tmpl, m(annID, tail), bob, "")
		c.do(t, http.MethodDelete, tmpl, m(ghost, tail), bob, "")
		c.do(t, http.MethodDelete, tmpl, m(bobID, tail), bob, "")
	}
	c.do(t, http.MethodPost, member+"/block", m(bobID, "/block"), ann, "")
	c.do(t, http.MethodPost, member+"/follow", m(bobID, "/follow"), ann, "") // 403 blocked
	c.do(t, http.MethodGet, member, m(annID, ""), bob, "")                   // 404: Ann blocks Bob
	c.do(t, http.MethodGet, blocks, blocks, ann, "")
	c.do(t, http.MethodGet, blocks, blocks+"?limit=0", ann, "")
	c.do(t, http.MethodDelete, member+"/block", m(bobID, "/block"), ann, "")
	c.do(t, http.MethodPost, member+"/follow", m(annID, "/follow"), bob, "")
	c.do(t, http.MethodGet, member, m(annID, ""), bob, "")
	c.do(t, http.MethodGet, member, m(ghost, ""), bob, "")
	c.do(t, http.MethodGet, member, m(annID, ""), "", "")
	for _, tail := range []string{"/followers", "/following"} {
		c.do(t, http.MethodGet, member+tail, m(annID, tail), bob, "")
		c.do(t, http.MethodGet, member+tail, m(annID, tail+"?limit=x"), bob, "")
		c.do(t, http.MethodGet, member+tail, m(ghost, tail), bob, "")
	}
	c.do(t, http.MethodGet, search, search+"?q=ann", bob, "")
	c.do(t, http.MethodGet, search, search+"?q=an", bob, "")
	c.do(t, http.MethodGet, search, search+"?q=ann&limit=50", bob, "")
	var resp *http.Response
	for range 4 {
		resp, _ = c.do(t, http.MethodGet, search, search+"?q=ann", bob, "")
	}
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("the seventh directory request answered %d, want 429", resp.StatusCode)
	}

	const roomsPath = "/api/v1/rooms"
	var r roomOut
	_, body := c.do(t, http.MethodPost, roomsPath, roomsPath, ann, `{"title":"Closed","visibility":"closed"}`)
	if err := json.Unmarshal([]byte(body), &r); err != nil {
		t.Fatal(err)
	}
	c.do(t, http.MethodPost, roomsPath, roomsPath, ann, `{"title":"x","visibility":"secret"}`)
	id := "/api/v1/rooms/" + string(r.ID)
	c.do(t, http.MethodPut, room+"/visibility", id+"/visibility", ann, `{"visibility":"social"}`)
	c.do(t, http.MethodPut, room+"/visibility", id+"/visibility", ann, `{"visibility":"x"}`)
	c.do(t, http.MethodPut, room+"/visibility", id+"/visibility", bob, `{"visibility":"open"}`) // 403: Bob follows Ann
	c.do(t, http.MethodPut, room+"/visibility", "/api/v1/rooms/rm_nope/visibility", ann, `{"visibility":"open"}`)
	c.do(t, http.MethodPut, room+"/visibility", id+"/visibility", ann, `{"visibility":`)
	c.do(t, http.MethodPut, invitee, id+"/invitees/"+string(bobID), ann, "")
	c.do(t, http.MethodPut, invitee, id+"/invitees/"+ghost, ann, "")
	c.do(t, http.MethodPut, invitee, id+"/invitees/"+string(annID), bob, "")
	c.do(t, http.MethodGet, room+"/invitees", id+"/invitees", ann, "")
	c.do(t, http.MethodGet, room+"/invitees", id+"/invitees?cursor=x", ann, "")
	c.do(t, http.MethodGet, room+"/invitees", id+"/invitees", bob, "")
	c.do(t, http.MethodDelete, invitee, id+"/invitees/"+string(bobID), ann, "")
	c.do(t, http.MethodDelete, invitee, id+"/invitees/usr_x", ann, "")
	c.do(t, http.MethodPost, room+"/guest-token", id+"/guest-token", "", "") // 404: not open
	c.do(t, http.MethodPut, room+"/visibility", id+"/visibility", ann, `{"visibility":"open"}`)
	c.do(t, http.MethodPost, room+"/guest-token", id+"/guest-token", "", "")
	c.do(t, http.MethodPost, room+"/guest-token", id+"/guest-token", "", `{"x":1}`)
	c.do(t, http.MethodPost, room+"/guest-token", "/api/v1/rooms/rm_nope/guest-token", "", "")
	c.do(t, http.MethodGet, room, id, ann, "")
	c.do(t, http.MethodPost, room+"/end", id+"/end", ann, "")
	c.do(t, http.MethodPost, room+"/guest-token", id+"/guest-token", "", "") // 409
	c.do(t, http.MethodPut, room+"/visibility", id+"/visibility", ann, `{"visibility":"open"}`)
	c.do(t, http.MethodGet, room+"/invitees", id+"/invitees", ann, "")
	for range 3 {
		resp, _ = c.do(t, http.MethodPost, room+"/guest-token", id+"/guest-token", "", "")
	}
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("the sixth guest pass answered %d, want 429", resp.StatusCode)
	}
}
