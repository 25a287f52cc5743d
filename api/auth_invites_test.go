package api

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/parley-audio/parley/members"
	"github.com/parley-audio/parley/rooms"
)

type inviteListOut struct {
	Invites []struct {
		ID        members.InviteID `json:"id"`
		State     string           `json:"state"`
		CreatedAt time.Time        `json:"created_at"`
		ExpiresAt time.Time        `json:"expires_at"`
		Direct    bool             `json:"direct"`
		UsedBy    rooms.UserID     `json:"used_by"`
		UsedAt    *time.Time       `json:"used_at"`
		RevokedAt *time.Time       `json:"revoked_at"`
	} `json:"invites"`
	NextCursor string `json:"next_cursor"`
	Quota      struct {
		Limit int `json:"limit"`
		Used  int `json:"used"`
		Left  int `json:"left"`
	} `json:"quota"`
}

func (e *testEnv) invites(t *testing.T, token, query string) inviteListOut {
	t.Helper()
	resp, body := e.do(t, http.MethodGet, "/api/v1/me/invites"+query, token, "")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("list invites: %d %s", resp.StatusCode, body)
	}
	var out inviteListOut
	decodeStrictly(t, body, &out, false)
	return out
}

func TestInvitesListRevokeAndQuota(t *testing.T) {
	e := newTestEnv(t, nil)
	admin := e.signUp(t, "admin", "")
	quota := testAccountsConfig().InviteQuota
	var made []newInviteOut
	for range quota {
		made = append(made, e.invite(t, admin.Token))
		e.clock.Advance(time.Second)
	}
	resp, body := e.do(t, http.MethodPost, "/api/v1/me/invites", admin.Token, "")
	wantError(t, resp, body, http.StatusConflict, codeQuotaExhausted)

	list := e.invites(t, admin.Token, "")
	if len(list.Invites) != quota || list.Quota.Limit != quota || list.Quota.Used != quota || list.Quota.Left != 0 {
		t.Fatalf("list = %+v", list)
	}
	if list.Invites[0].ID != made[quota-1].Invite.ID {
		t.Errorf("first listed %s, want the newest %s", list.Invites[0].ID, made[quota-1].Invite.ID)
	}
	if strings.Contains(body, made[0].Code) {
		t.Error("the list shows a code")
	}
	// Pages.
	p1 := e.invites(t, admin.Token, "?limit=2")
	p2 := e.invites(t, admin.Token, "?limit=2&cursor="+p1.NextCursor)
	if len(p1.Invites) != 2 || len(p2.Invites) != 2 || p2.Invites[0].ID != made[quota-3].Invite.ID {
		t.Errorf("pages = %+v then %+v", p1, p2)
	}

	// Use one, revoke one: the revoked one frees a place, the used one
	// keeps it.
	guest := e.signUp(t, "guest", made[0].Code)
	resp, body = e.do(t, http.MethodDelete, "/api/v1/me/invites/"+string(made[1].Invite.ID), admin.Token, "")
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `"state":"revoked"`) || !strings.Contains(body, `"revoked_at"`) {
		t.Fatalf("revoke: %d %s", resp.StatusCode, body)
	}
	resp, body = e.do(t, http.MethodDelete, "/api/v1/me/invites/"+string(made[1].Invite.ID), admin.Token, "")
	if resp.StatusCode != http.StatusOK {
		t.Errorf("revoke again: %d %s", resp.StatusCode, body)
	}
	resp, body = e.do(t, http.MethodDelete, "/api/v1/me/invites/"+string(made[0].Invite.ID), admin.Token, "")
	wantError(t, resp, body, http.StatusConflict, codeInviteUsed)
	list = e.invites(t, admin.Token, "")
	if list.Quota.Used != quota-1 || list.Quota.Left != 1 {
		t.Errorf("quota after a revoke = %+v, want one left", list.Quota)
	}
	for _, inv := range list.Invites {
		if inv.ID == made[0].Invite.ID && (inv.State != "used" || inv.UsedBy != guest.Member.ID || inv.UsedAt == nil) {
			t.Errorf("the used invite reads %+v", inv)
		}
	}
	e.invite(t, admin.Token)

	// Someone else's invite, and IDs that are no invite's.
	for _, id := range []string{string(made[2].Invite.ID), "inv_" + strings.Repeat("a", 26), "nonsense"} {
		resp, body = e.do(t, http.MethodDelete, "/api/v1/me/invites/"+id, guest.Token, "")
		wantError(t, resp, body, http.StatusNotFound, codeInviteNotFound)
	}
	// Expired invites say so, and give their place back.
	e.clock.Advance(testAccountsConfig().InviteTTL)
	list = e.invites(t, e.signInAs(t, "admin").Token, "")
	if list.Quota.Used != 1 || list.Invites[len(list.Invites)-1].State != "used" || list.Invites[0].State != "expired" {
		t.Errorf("after the TTL: %+v", list)
	}
}

func TestInvitesBadInput(t *testing.T) {
	e := newTestEnv(t, nil)
	admin := e.signUp(t, "admin", "")
	for _, tc := range []struct {
		query  string
		status int
		code   string
	}{
		{"?limit=many", 400, codeInvalidRequest},
		{"?limit=0", 400, codeValidationFailed},
		{"?limit=101", 400, codeValidationFailed},
		{"?cursor=forged", 400, codeValidationFailed},
	} {
		resp, body := e.do(t, http.MethodGet, "/api/v1/me/invites"+tc.query, admin.Token, "")
		wantError(t, resp, body, tc.status, tc.code)
	}
	resp, body := e.do(t, http.MethodPost, "/api/v1/me/invites", admin.Token, `{"for":"bob"}`)
	wantError(t, resp, body, http.StatusBadRequest, codeInvalidRequest)
	for _, req := range []struct{ method, path string }{
		{http.MethodGet, "/api/v1/me/invites"}, {http.MethodPost, "/api/v1/me/invites"},
		{http.MethodDelete, "/api/v1/me/invites/inv_x"}, {http.MethodPost, "/api/v1/me/let-in"},
		{http.MethodGet, "/api/v1/admin/waitlist"}, {http.MethodPost, "/api/v1/admin/waitlist/usr_x/approve"},
	} {
		resp, body := e.do(t, req.method, req.path, "", "")
		wantError(t, resp, body, http.StatusUnauthorized, codeUnauthorized)
		resp, body = e.do(t, req.method, req.path, "forged", "")
		wantError(t, resp, body, http.StatusUnauthorized, codeUnauthorized)
	}
	resp, body = e.do(t, http.MethodPut, "/api/v1/me/invites", admin.Token, "")
	wantError(t, resp, body, http.StatusMethodNotAllowed, codeMethodNotAllowed)
}

func TestLetInFromTheWaitlist(t *testing.T) {
	e := newTestEnv(t, nil)
	admin := e.signUp(t, "admin", "")
	member := e.signUp(t, "member", e.invite(t, admin.Token).Code)
	for _, u := range []string{"bob", "carol"} {
		if resp, body := e.do(t, http.MethodPost, "/api/v1/auth/signup", "", signUpBody(u, "")); resp.StatusCode != http.StatusAccepted {
			t.Fatalf("waitlist %s: %d %s", u, resp.StatusCode, body)
		}
	}
	resp, body := e.do(t, http.MethodPost, "/api/v1/me/let-in", member.Token, `{"username":" BOB "}`)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("let in: %d %s", resp.StatusCode, body)
	}
	var bob accountOutJSON
	decodeStrictly(t, body, &bob, false)
	if bob.Username != "bob" || bob.Status != members.StatusActive || bob.InvitedBy != member.Member.ID {
		t.Errorf("let in = %+v", bob)
	}
	e.signInAs(t, "bob")
	list := e.invites(t, member.Token, "")
	if len(list.Invites) != 1 || !list.Invites[0].Direct || list.Invites[0].UsedBy != bob.ID || list.Quota.Used != 1 {
		t.Errorf("the member's invites after letting bob in: %+v", list)
	}

	for _, tc := range []struct {
		name, body string
		status     int
		code       string
	}{
		{"someone already in", `{"username":"bob"}`, 409, codeNotWaitlisted},
		{"no one", `{"username":"nobody"}`, 404, codeAccountNotFound},
		{"a name that cannot exist", `{"username":"no one!"}`, 400, codeValidationFailed},
		{"no name", `{}`, 400, codeValidationFailed},
		{"no body", ``, 400, codeInvalidJSON},
		{"a number", `{"username":1}`, 400, codeInvalidRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := e.do(t, http.MethodPost, "/api/v1/me/let-in", member.Token, tc.body)
			wantError(t, resp, body, tc.status, tc.code)
		})
	}
	// The quota holds for letting in too.
	for range testAccountsConfig().InviteQuota - 1 {
		e.invite(t, member.Token)
	}
	resp, body = e.do(t, http.MethodPost, "/api/v1/me/let-in", member.Token, `{"username":"carol"}`)
	wantError(t, resp, body, http.StatusConflict, codeQuotaExhausted)
}

func TestAdminsApproveTheWaitlist(t *testing.T) {
	e := newTestEnv(t, nil)
	admin := e.signUp(t, "admin", "")
	member := e.signUp(t, "member", e.invite(t, admin.Token).Code)
	var waiting []accountOutJSON
	for _, u := range []string{"wait_a", "wait_b"} {
		resp, body := e.do(t, http.MethodPost, "/api/v1/auth/signup", "", signUpBody(u, ""))
		var w struct {
			Member accountOutJSON `json:"member"`
		}
		if resp.StatusCode != http.StatusAccepted || json.Unmarshal([]byte(body), &w) != nil {
			t.Fatalf("waitlist %s: %d %s", u, resp.StatusCode, body)
		}
		waiting = append(waiting, w.Member)
		e.clock.Advance(time.Second)
	}

	resp, body := e.do(t, http.MethodGet, "/api/v1/admin/waitlist", member.Token, "")
	wantError(t, resp, body, http.StatusForbidden, codeForbidden)
	resp, body = e.do(t, http.MethodPost, "/api/v1/admin/waitlist/"+string(waiting[0].ID)+"/approve", member.Token, "")
	wantError(t, resp, body, http.StatusForbidden, codeForbidden)
	resp, body = e.do(t, http.MethodPost, "/api/v1/admin/waitlist/nonsense/approve", member.Token, "")
	wantError(t, resp, body, http.StatusForbidden, codeForbidden)

	resp, body = e.do(t, http.MethodGet, "/api/v1/admin/waitlist?limit=1", admin.Token, "")
	var page struct {
		Accounts   []accountOutJSON `json:"accounts"`
		NextCursor string           `json:"next_cursor"`
	}
	if resp.StatusCode != http.StatusOK || json.Unmarshal([]byte(body), &page) != nil {
		t.Fatalf("waitlist: %d %s", resp.StatusCode, body)
	}
	if len(page.Accounts) != 1 || page.Accounts[0].ID != waiting[0].ID || page.NextCursor == "" {
		t.Fatalf("first page = %+v", page)
	}
	resp, body = e.do(t, http.MethodGet, "/api/v1/admin/waitlist?cursor="+page.NextCursor, admin.Token, "")
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, string(waiting[1].ID)) || strings.Contains(body, "next_cursor") {
		t.Fatalf("second page: %d %s", resp.StatusCode, body)
	}
	for _, q := range []string{"?limit=x", "?limit=-1", "?cursor=" + page.NextCursor + "x"} {
		resp, body := e.do(t, http.MethodGet, "/api/v1/admin/waitlist"+q, admin.Token, "")
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("waitlist%s: %d %s", q, resp.StatusCode, body)
		}
	}

	approve := "/api/v1/admin/waitlist/" + string(waiting[0].ID) + "/approve"
	resp, body = e.do(t, http.MethodPost, approve, admin.Token, "")
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `"status":"active"`) {
		t.Fatalf("approve: %d %s", resp.StatusCode, body)
	}
	e.signInAs(t, "wait_a")
	resp, body = e.do(t, http.MethodPost, approve, admin.Token, "")
	wantError(t, resp, body, http.StatusConflict, codeNotWaitlisted)
	for _, id := range []string{string(rooms.NewUserID()), "nonsense"} {
		resp, body = e.do(t, http.MethodPost, "/api/v1/admin/waitlist/"+id+"/approve", admin.Token, "")
		wantError(t, resp, body, http.StatusNotFound, codeAccountNotFound)
	}
	resp, body = e.do(t, http.MethodPost, "/api/v1/admin/waitlist/"+string(waiting[1].ID)+"/approve", admin.Token, `{"note":"ok"}`)
	wantError(t, resp, body, http.StatusBadRequest, codeInvalidRequest)
}
