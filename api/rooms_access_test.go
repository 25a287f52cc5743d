package api

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/parley-audio/parley/internal/ratelimit"
	"github.com/parley-audio/parley/rooms"
)

func (e *testEnv) createRoomWith(t *testing.T, token, title, visibility string) roomOut {
	t.Helper()
	body := e.must(t, http.MethodPost, "/api/v1/rooms", token, `{"title":`+quote(title)+`,"visibility":`+quote(visibility)+`}`, http.StatusCreated)
	var r roomOut
	decodeStrictly(t, body, &r, true)
	if r.Visibility != visibility {
		t.Fatalf("created %s room, visibility %q", visibility, r.Visibility)
	}
	return r
}

// listed reports whether token's holder finds the room in the list, and
// checks that GET agrees.
func (e *testEnv) listed(t *testing.T, token string, id rooms.RoomID) bool {
	t.Helper()
	var list struct {
		Rooms []roomOut `json:"rooms"`
	}
	decodeStrictly(t, e.must(t, http.MethodGet, "/api/v1/rooms?limit=100", token, "", http.StatusOK), &list, false)
	in := false
	for _, r := range list.Rooms {
		in = in || r.ID == id
	}
	resp, body := e.do(t, http.MethodGet, "/api/v1/rooms/"+string(id), token, "")
	readable := resp.StatusCode == http.StatusOK
	if !readable {
		wantError(t, resp, body, http.StatusNotFound, codeRoomNotFound)
	}
	resp, body = e.do(t, http.MethodGet, "/api/v1/rooms/"+string(id)+"/hands", token, "")
	if (resp.StatusCode == http.StatusOK) != readable {
		t.Errorf("GET hands answered %d %s, GET the room %v", resp.StatusCode, body, readable)
	}
	if in != readable {
		t.Errorf("room %s: listed %v but readable %v", id, in, readable)
	}
	return in
}

func TestSocialAndClosedRoomsAreNotListedToOthers(t *testing.T) {
	e := newTestEnv(t, nil)
	host, hostID := e.signIn(t, "Host")
	fan, fanID := e.signIn(t, "Fan")
	stranger, _ := e.signIn(t, "Stranger")
	invitee, inviteeID := e.signIn(t, "Invitee")
	blocked, blockedID := e.signIn(t, "Blocked")
	e.must(t, http.MethodPost, "/api/v1/members/"+string(hostID)+"/follow", fan, "", http.StatusNoContent)
	e.must(t, http.MethodPost, "/api/v1/members/"+string(hostID)+"/follow", blocked, "", http.StatusNoContent)
	e.must(t, http.MethodPost, "/api/v1/members/"+string(blockedID)+"/block", host, "", http.StatusNoContent)
	open := e.createRoomWith(t, host, "Open", "open")
	social := e.createRoomWith(t, host, "Social", "social")
	closed := e.createRoomWith(t, host, "Closed", "closed")
	e.must(t, http.MethodPut, "/api/v1/rooms/"+string(closed.ID)+"/invitees/"+string(inviteeID), host, "", http.StatusOK)

	for _, c := range []struct {
		name                 string
		token                string
		open, social, closed bool
	}{
		{"the host", host, true, true, true},
		{"a follower", fan, true, true, false},
		{"a stranger", stranger, true, false, false},
		{"an invitee", invitee, true, false, true},
		{"a member the host blocks", blocked, false, false, false},
	} {
		for _, r := range []struct {
			room roomOut
			want bool
		}{{open, c.open}, {social, c.social}, {closed, c.closed}} {
			if got := e.listed(t, c.token, r.room.ID); got != r.want {
				t.Errorf("%s sees %s: %v, want %v", c.name, r.room.Title, got, r.want)
			}
		}
	}
	// The host opens the social room to everyone: the stranger sees it.
	body := e.must(t, http.MethodPut, "/api/v1/rooms/"+string(social.ID)+"/visibility", host, `{"visibility":"open"}`, http.StatusOK)
	var r roomOut
	decodeStrictly(t, body, &r, true)
	if r.Visibility != "open" || !e.listed(t, stranger, social.ID) {
		t.Errorf("after opening: %+v", r)
	}
	_ = fanID
}

func TestRoomAccessRoutesBadInput(t *testing.T) {
	e := newTestEnv(t, nil)
	host, _ := e.signIn(t, "Host")
	other, otherID := e.signIn(t, "Other")
	room := e.createRoomWith(t, host, "Room", "open")
	closed := e.createRoomWith(t, host, "Closed", "closed")
	base := "/api/v1/rooms/" + string(room.ID)

	for _, c := range []struct {
		body   string
		status int
		code   string
	}{
		{`{"title":"x","visibility":"secret"}`, 400, codeValidationFailed},
		{`{"title":"x","visibility":"OPEN"}`, 400, codeValidationFailed},
		{`{"title":"x","visibility":3}`, 400, codeInvalidRequest},
	} {
		resp, body := e.do(t, http.MethodPost, "/api/v1/rooms", host, c.body)
		wantError(t, resp, body, c.status, c.code)
	}
	for _, c := range []struct {
		token, path, body string
		status            int
		code              string
	}{
		{host, base, `{}`, 400, codeValidationFailed},
		{host, base, `{"visibility":null}`, 400, codeValidationFailed},
		{host, base, `{"visibility":"hidden"}`, 400, codeValidationFailed},
		{host, base, `{"visibility":true}`, 400, codeInvalidRequest},
		{host, base, `{"visibility":"open","x":1}`, 400, codeInvalidRequest},
		{host, base, `{"visibility":`, 400, codeInvalidJSON},
		{host, base, ``, 400, codeInvalidJSON},
		{other, base, `{"visibility":"closed"}`, 403, codeForbidden},
		{other, "/api/v1/rooms/" + string(closed.ID), `{"visibility":"open"}`, 404, codeRoomNotFound},
		{host, "/api/v1/rooms/rm_nope", `{"visibility":"open"}`, 404, codeRoomNotFound},
		{"", base, `{"visibility":"open"}`, 401, codeUnauthorized},
	} {
		resp, body := e.do(t, http.MethodPut, c.path+"/visibility", c.token, c.body)
		wantError(t, resp, body, c.status, c.code)
	}
	for _, m := range []string{http.MethodPut, http.MethodDelete} {
		for _, c := range []struct {
			token, path, body string
			status            int
			code              string
		}{
			{host, base + "/invitees/usr_nope", ``, 404, codeMemberNotFound},
			{host, "/api/v1/rooms/rm_nope/invitees/" + string(otherID), ``, 404, codeRoomNotFound},
			{host, base + "/invitees/" + string(otherID), `{"why":1}`, 400, codeInvalidRequest},
			{host, base + "/invitees/" + string(otherID), `[`, 400, codeInvalidJSON},
			{other, base + "/invitees/" + string(otherID), ``, 403, codeForbidden},
			{other, "/api/v1/rooms/" + string(closed.ID) + "/invitees/" + string(otherID), ``, 404, codeRoomNotFound},
			{"", base + "/invitees/" + string(otherID), ``, 401, codeUnauthorized},
		} {
			resp, body := e.do(t, m, c.path, c.token, c.body)
			wantError(t, resp, body, c.status, c.code)
		}
	}
	resp, body := e.do(t, http.MethodPut, base+"/invitees/"+string(rooms.NewUserID()), host, "")
	wantError(t, resp, body, http.StatusNotFound, codeMemberNotFound)
	for _, q := range []string{"?limit=x", "?limit=0", "?limit=101", "?cursor=zz"} {
		resp, body := e.do(t, http.MethodGet, base+"/invitees"+q, host, "")
		code := codeValidationFailed
		if q == "?limit=x" {
			code = codeInvalidRequest
		}
		wantError(t, resp, body, http.StatusBadRequest, code)
	}
	resp, body = e.do(t, http.MethodGet, base+"/invitees", other, "")
	wantError(t, resp, body, http.StatusForbidden, codeForbidden)

	// The good path, then an ended room.
	e.must(t, http.MethodPut, base+"/invitees/"+string(otherID), host, "{}", http.StatusOK)
	var list struct {
		Invitees []struct {
			ID          rooms.UserID `json:"id"`
			DisplayName string       `json:"display_name"`
			InvitedBy   rooms.UserID `json:"invited_by"`
			InvitedAt   time.Time    `json:"invited_at"`
		} `json:"invitees"`
		NextCursor string `json:"next_cursor"`
	}
	decodeStrictly(t, e.must(t, http.MethodGet, base+"/invitees", host, "", http.StatusOK), &list, false)
	if len(list.Invitees) != 1 || list.Invitees[0].ID != otherID || list.Invitees[0].DisplayName != "Other" {
		t.Errorf("invitees = %+v", list)
	}
	e.must(t, http.MethodDelete, base+"/invitees/"+string(otherID), host, "", http.StatusNoContent)
	e.must(t, http.MethodPost, base+"/end", host, "", http.StatusOK)
	resp, body = e.do(t, http.MethodPut, base+"/visibility", host, `{"visibility":"closed"}`)
	wantError(t, resp, body, http.StatusConflict, codeRoomEnded)
	resp, body = e.do(t, http.MethodPut, base+"/invitees/"+string(otherID), host, ``)
	wantError(t, resp, body, http.StatusConflict, codeRoomEnded)
	e.mustStillServe(t, host)
}

type guestTokenOut struct {
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expires_at"`
	Guest     struct {
		ID          rooms.UserID `json:"id"`
		DisplayName string       `json:"display_name"`
	} `json:"guest"`
	Room roomOut `json:"room"`
}

func TestGuestTokens(t *testing.T) {
	off := newTestEnv(t, nil)
	host, _ := off.signIn(t, "Host")
	room := off.createRoomWith(t, host, "Open", "open")
	resp, body := off.do(t, http.MethodPost, "/api/v1/rooms/"+string(room.ID)+"/guest-token", "", "")
	wantError(t, resp, body, http.StatusForbidden, codeForbidden)

	lim := ratelimit.NewMemory(ratelimit.Rate{N: 5, Per: time.Hour})
	e := newTestEnvWith(t, envOptions{
		svc:  func(p *rooms.ServiceParams) { p.Guests = true },
		edit: func(p *Params) { p.GuestLimiter = lim },
	})
	host, _ = e.signIn(t, "Host")
	open := e.createRoomWith(t, host, "Open", "open")
	social := e.createRoomWith(t, host, "Social", "social")
	ended := e.createRoomWith(t, host, "Ended", "open")
	e.must(t, http.MethodPost, "/api/v1/rooms/"+string(ended.ID)+"/end", host, "", http.StatusOK)

	path := func(r roomOut) string { return "/api/v1/rooms/" + string(r.ID) + "/guest-token" }
	var g guestTokenOut
	decodeStrictly(t, e.must(t, http.MethodPost, path(open), "", "", http.StatusCreated), &g, true)
	if g.Guest.DisplayName != "Guest" || !g.Guest.ID.IsGuest() || g.Room.ID != open.ID || g.Room.Visibility != "open" {
		t.Errorf("guest token = %+v", g)
	}
	if d := g.ExpiresAt.Sub(e.clock.Now()); d != GuestTokenTTL {
		t.Errorf("the pass lasts %v, want %v", d, GuestTokenTTL)
	}
	pass, err := e.guests.Verify(g.Token)
	if err != nil || pass.Guest != g.Guest.ID || pass.Room != open.ID {
		t.Errorf("Verify = %+v, %v", pass, err)
	}
	// A pass is no member's token: the REST API refuses it.
	resp, body = e.do(t, http.MethodGet, "/api/v1/rooms", g.Token, "")
	wantError(t, resp, body, http.StatusUnauthorized, codeUnauthorized)
	// Nor is a member's token a pass.
	if _, err := e.guests.Verify(host); err == nil {
		t.Error("a member's token verified as a guest pass")
	}

	for _, c := range []struct {
		path, body string
		status     int
		code       string
	}{
		{path(social), "", 404, codeRoomNotFound},
		{"/api/v1/rooms/rm_nope/guest-token", "", 404, codeRoomNotFound},
		{"/api/v1/rooms/" + string(rooms.NewRoomID()) + "/guest-token", "", 404, codeRoomNotFound},
		{path(ended), "", 409, codeRoomEnded},
		{path(open), `{"name":"me"}`, 400, codeInvalidRequest},
		{path(open), `{`, 400, codeInvalidJSON},
	} {
		resp, body := e.do(t, http.MethodPost, c.path, "", c.body)
		wantError(t, resp, body, c.status, c.code)
	}
	// Four of the address's five spent so far: one pass issued and three
	// refused for their room (a client probing rooms pays for it; a
	// malformed request does not). The next is the fifth.
	e.must(t, http.MethodPost, path(open), "", "{}", http.StatusCreated)
	resp, body = e.do(t, http.MethodPost, path(open), "", "")
	wantError(t, resp, body, http.StatusTooManyRequests, codeRateLimited)
	if ra := resp.Header.Get("Retry-After"); ra == "" {
		t.Error("no Retry-After on 429")
	}
	if got := strings.Count(e.logs.String(), `"status":500`); got != 0 {
		t.Errorf("%d server errors in the log", got)
	}
}

// A room's chat and history are the room's: whoever may not see the room
// gets room_not_found for them too, and whoever may, gets them.
func TestHiddenRoomsChatAndHistoryAreHiddenToo(t *testing.T) {
	e := newTestEnv(t, nil)
	host, _ := e.signIn(t, "Host")
	stranger, _ := e.signIn(t, "Stranger")
	closed := e.createRoomWith(t, host, "Closed", "closed")
	for _, path := range []string{"/chat", "/history"} {
		resp, body := e.do(t, http.MethodGet, "/api/v1/rooms/"+string(closed.ID)+path, stranger, "")
		wantError(t, resp, body, http.StatusNotFound, codeRoomNotFound)
		e.must(t, http.MethodGet, "/api/v1/rooms/"+string(closed.ID)+path, host, "", http.StatusOK)
	}
}
