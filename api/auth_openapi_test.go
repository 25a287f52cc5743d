package api

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// TestOpenAPIMatchesAccountResponses walks the account, invite and admin
// routes, good requests and bad, and checks every answer against the
// document, as TestOpenAPIMatchesResponses does for the rest.
func TestOpenAPIMatchesAccountResponses(t *testing.T) {
	c := newConformance(t)
	const (
		signUp    = "/api/v1/auth/signup"
		signIn    = "/api/v1/auth/signin"
		refresh   = "/api/v1/auth/refresh"
		signOut   = "/api/v1/auth/signout"
		signOutEv = "/api/v1/auth/signout-all"
		invites   = "/api/v1/me/invites"
		invite    = "/api/v1/me/invites/{id}"
		letIn     = "/api/v1/me/let-in"
		waitlist  = "/api/v1/admin/waitlist"
		approve   = "/api/v1/admin/waitlist/{user_id}/approve"
	)
	session := func(resp *http.Response, body string) sessionOut {
		t.Helper()
		var s sessionOut
		if err := json.Unmarshal([]byte(body), &s); err != nil || s.Token == "" {
			t.Fatalf("no session: %d %s", resp.StatusCode, body)
		}
		return s
	}

	// Sign-up: the first account, the waitlist, every refusal.
	admin := session(c.do(t, http.MethodPost, signUp, signUp, "", signUpBody("admin", "")))
	c.do(t, http.MethodPost, signUp, signUp, "", signUpBody("waiting", ""))
	c.do(t, http.MethodPost, signUp, signUp, "", signUpBody("waiting2", ""))
	c.do(t, http.MethodPost, signUp, signUp, "", signUpBody("admin", ""))
	c.do(t, http.MethodPost, signUp, signUp, "", `{"username":"x","password":"y","display_name":""}`)
	c.do(t, http.MethodPost, signUp, signUp, "", signUpBody("forger", "pinv_"+strings.Repeat("a", 32)))
	c.do(t, http.MethodPost, signUp, signUp, "", `{"username":`)
	c.do(t, http.MethodPost, signUp, signUp, "", `{"username":true}`)
	c.do(t, http.MethodPost, signUp, signUp, "", `{"username":"`+strings.Repeat("a", maxBodyBytes)+`"}`)

	// Invites: made, listed, used, revoked, refused.
	_, body := c.do(t, http.MethodPost, invites, invites, admin.Token, "")
	var inv newInviteOut
	_ = json.Unmarshal([]byte(body), &inv)
	member := session(c.do(t, http.MethodPost, signUp, signUp, "", signUpBody("member", inv.Code)))
	c.do(t, http.MethodPost, signUp, signUp, "", signUpBody("again", inv.Code))
	_, body = c.do(t, http.MethodPost, invites, invites, admin.Token, "")
	var second newInviteOut
	_ = json.Unmarshal([]byte(body), &second)
	c.do(t, http.MethodDelete, invite, invites+"/"+string(second.Invite.ID), admin.Token, "")
	c.do(t, http.MethodDelete, invite, invites+"/"+string(inv.Invite.ID), admin.Token, "")
	c.do(t, http.MethodDelete, invite, invites+"/inv_nope", admin.Token, "")
	c.do(t, http.MethodDelete, invite, invites+"/"+string(second.Invite.ID), "", "")
	c.do(t, http.MethodPost, signUp, signUp, "", signUpBody("late", second.Code))
	c.do(t, http.MethodGet, invites, invites, admin.Token, "")
	c.do(t, http.MethodGet, invites, invites+"?limit=1", admin.Token, "")
	c.do(t, http.MethodGet, invites, invites+"?limit=x", admin.Token, "")
	c.do(t, http.MethodGet, invites, invites+"?cursor=forged", admin.Token, "")
	c.do(t, http.MethodGet, invites, invites, "", "")
	c.do(t, http.MethodPost, invites, invites, admin.Token, `{"x":1}`)
	for range testAccountsConfig().InviteQuota {
		c.do(t, http.MethodPost, invites, invites, member.Token, "")
	}

	// Letting in.
	c.do(t, http.MethodPost, letIn, letIn, admin.Token, `{"username":"waiting"}`)
	c.do(t, http.MethodPost, letIn, letIn, admin.Token, `{"username":"waiting"}`)
	c.do(t, http.MethodPost, letIn, letIn, admin.Token, `{"username":"nobody"}`)
	c.do(t, http.MethodPost, letIn, letIn, admin.Token, `{"username":"no one"}`)
	c.do(t, http.MethodPost, letIn, letIn, member.Token, `{"username":"waiting2"}`)
	c.do(t, http.MethodPost, letIn, letIn, admin.Token, `{`)

	// The waitlist.
	_, body = c.do(t, http.MethodPost, signUp, signUp, "", signUpBody("queued", ""))
	var queued waitlistedOut
	_ = json.Unmarshal([]byte(body), &queued)
	c.do(t, http.MethodGet, waitlist, waitlist, admin.Token, "")
	c.do(t, http.MethodGet, waitlist, waitlist+"?limit=1", admin.Token, "")
	c.do(t, http.MethodGet, waitlist, waitlist+"?limit=0", admin.Token, "")
	c.do(t, http.MethodGet, waitlist, waitlist, member.Token, "")
	path := "/api/v1/admin/waitlist/" + string(queued.Member.ID) + "/approve"
	c.do(t, http.MethodPost, approve, path, member.Token, "")
	c.do(t, http.MethodPost, approve, path, admin.Token, `{"why":1}`)
	c.do(t, http.MethodPost, approve, path, admin.Token, "")
	c.do(t, http.MethodPost, approve, path, admin.Token, "")
	c.do(t, http.MethodPost, approve, "/api/v1/admin/waitlist/nonsense/approve", admin.Token, "")

	// Sign-in, refresh, sign-out.
	c.do(t, http.MethodPost, signIn, signIn, "", `{"username":"waiting2","password":"`+testPassword+`"}`)
	c.do(t, http.MethodPost, signIn, signIn, "", `{}`)
	c.do(t, http.MethodPost, signIn, signIn, "", `{"username":"admin","password":1}`)
	for range testAccountsConfig().SignInPerUser.N + 1 {
		c.do(t, http.MethodPost, signIn, signIn, "", `{"username":"member","password":"wrong password"}`)
	}
	s := session(c.do(t, http.MethodPost, signIn, signIn, "", `{"username":"admin","password":"`+testPassword+`"}`))
	next := session(c.do(t, http.MethodPost, refresh, refresh, "", `{"refresh_token":`+quote(s.RefreshToken)+`}`))
	c.do(t, http.MethodPost, refresh, refresh, "", `{"refresh_token":`+quote(s.RefreshToken)+`}`)
	c.do(t, http.MethodPost, refresh, refresh, "", `{"refresh_token":`+quote(next.RefreshToken)+`}`)
	c.do(t, http.MethodPost, refresh, refresh, "", `{}`)
	c.do(t, http.MethodPost, refresh, refresh, "", `{"refresh_token":[]}`)
	c.do(t, http.MethodGet, "/api/v1/me", "/api/v1/me", next.Token, "")
	c.do(t, http.MethodPost, signOut, signOut, admin.Token, `{"x":1}`)
	c.do(t, http.MethodPost, signOut, signOut, admin.Token, "")
	c.do(t, http.MethodPost, signOut, signOut, admin.Token, "")
	c.do(t, http.MethodPost, signOutEv, signOutEv, member.Token, "")
	c.do(t, http.MethodPost, signOutEv, signOutEv, member.Token, "")
	c.do(t, http.MethodPost, signOutEv, signOutEv, "", "")
}

type waitlistedOut struct {
	Member accountOutJSON `json:"member"`
}
