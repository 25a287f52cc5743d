package api

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/parley-audio/parley/rooms"
)

type reportOut struct {
	ID       string           `json:"id"`
	Reporter rooms.MemberRef  `json:"reporter"`
	Member   *rooms.MemberRef `json:"member"`
	Room     *rooms.RoomRef   `json:"room"`
	Reason   string           `json:"reason"`
	Created  time.Time        `json:"created_at"`
}

func TestReportsAreMadeByMembersAndReadByAdmins(t *testing.T) {
	e := newDataEnv(t)
	ann, _ := e.signIn(t, "Ann")
	bob, bobID := e.signIn(t, "Bob")
	admin, _ := e.signInAdmin(t, "Root")
	room := e.createRoom(t, bob, "Loud room")

	var made []string
	for _, body := range []string{
		`{"member_id":"` + string(bobID) + `","reason":"spam"}`,
		`{"room_id":"` + string(room.ID) + `","reason":"off topic"}`,
		`{"member_id":"` + string(bobID) + `","room_id":"` + string(room.ID) + `","reason":"shouting"}`,
	} {
		resp, got := e.do(t, http.MethodPost, "/api/v1/reports", ann, body)
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("report %s: %d %s", body, resp.StatusCode, got)
		}
		var r reportOut
		decodeStrictly(t, got, &r, true)
		if r.Reporter.DisplayName != "Ann" || (strings.Contains(body, "member_id") != (r.Member != nil)) ||
			(strings.Contains(body, "room_id") != (r.Room != nil && r.Room.Title == "Loud room")) {
			t.Errorf("report = %+v", r)
		}
		made = append([]string{r.ID}, made...)
	}

	for _, token := range []string{ann, bob} {
		resp, got := e.do(t, http.MethodGet, "/api/v1/reports", token, "")
		wantError(t, resp, got, http.StatusForbidden, codeForbidden)
	}
	var all []string
	path := "/api/v1/reports?limit=2"
	for {
		resp, got := e.do(t, http.MethodGet, path, admin, "")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("list: %d %s", resp.StatusCode, got)
		}
		var page struct {
			Reports    []reportOut `json:"reports"`
			NextCursor string      `json:"next_cursor"`
		}
		decodeStrictly(t, got, &page, false)
		for _, r := range page.Reports {
			all = append(all, r.ID)
		}
		if page.NextCursor == "" {
			break
		}
		path = "/api/v1/reports?limit=2&cursor=" + page.NextCursor
	}
	if strings.Join(all, ",") != strings.Join(made, ",") {
		t.Errorf("reports = %v, want %v (newest first)", all, made)
	}
}

func TestReportRoutesRefuseBadInput(t *testing.T) {
	e := newDataEnv(t)
	ann, annID := e.signIn(t, "Ann")
	_, bobID := e.signIn(t, "Bob")
	admin, _ := e.signInAdmin(t, "Root")
	checkBodyRefusals(t, e, http.MethodPost, "/api/v1/reports", ann, `{"member_id":"`+string(bobID)+`","reason":"x"}`)
	checkAuthRefusals(t, e, http.MethodGet, "/api/v1/reports", "")
	for body, fields := range map[string][]string{
		`{}`: {"reason", "member_id"},
		`{"member_id":"bob","room_id":"rm_nope","reason":""}`:                                {"reason", "member_id", "room_id"},
		`{"member_id":"` + string(annID) + `","reason":"me"}`:                                {"member_id"},
		`{"member_id":"` + string(rooms.NewUserID()) + `","reason":"who"}`:                   {"member_id"},
		`{"room_id":"` + string(rooms.NewRoomID()) + `","reason":"where"}`:                   {"room_id"},
		`{"member_id":"` + string(bobID) + `","reason":"` + strings.Repeat("r", 2001) + `"}`: {"reason"},
	} {
		resp, got := e.do(t, http.MethodPost, "/api/v1/reports", ann, body)
		wantInvalid(t, resp, got, fields...)
	}
	resp, got := e.do(t, http.MethodPost, "/api/v1/reports", ann, `{"member_id":7,"reason":"x"}`)
	wantError(t, resp, got, http.StatusBadRequest, codeInvalidRequest)
	for q, code := range map[string]string{"?limit=x": codeInvalidRequest, "?limit=500": codeValidationFailed, "?cursor=forged": codeValidationFailed} {
		resp, got := e.do(t, http.MethodGet, "/api/v1/reports"+q, admin, "")
		wantError(t, resp, got, http.StatusBadRequest, code)
	}
	// Without Admins configured, nobody reads reports.
	plain := newTestEnv(t, nil)
	tok, _ := plain.signIn(t, "Ann")
	resp, got = plain.do(t, http.MethodGet, "/api/v1/reports", tok, "")
	wantError(t, resp, got, http.StatusForbidden, codeForbidden)
}

func TestHistoryAndModerationLogOverREST(t *testing.T) {
	e := newDataEnv(t)
	host, hostID := e.signIn(t, "Host")
	ann, annID := e.signIn(t, "Ann")
	admin, _ := e.signInAdmin(t, "Root")
	room := e.createRoom(t, host, "Recorded")
	for _, id := range []rooms.UserID{hostID, annID} {
		if _, err := e.svc.Join(t.Context(), room.ID, id, rooms.NewSessionID()); err != nil {
			t.Fatal(err)
		}
	}
	base := "/api/v1/rooms/" + string(room.ID)
	for _, a := range []string{"/participants/" + string(annID) + "/invite", "/mute-all"} {
		if resp, got := e.do(t, http.MethodPost, base+a, host, ""); resp.StatusCode != http.StatusNoContent {
			t.Fatalf("%s: %d %s", a, resp.StatusCode, got)
		}
	}
	if resp, got := e.do(t, http.MethodPost, base+"/invitation/accept", ann, ""); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("accept: %d %s", resp.StatusCode, got)
	}

	resp, got := e.do(t, http.MethodGet, base+"/history", ann, "")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("history: %d %s", resp.StatusCode, got)
	}
	var h struct {
		RoomID        rooms.RoomID    `json:"room_id"`
		Title         string          `json:"title"`
		CreatedBy     rooms.MemberRef `json:"created_by"`
		StartedAt     time.Time       `json:"started_at"`
		EndedAt       *time.Time      `json:"ended_at"`
		PeakListeners int             `json:"peak_listeners"`
		Speakers      []struct {
			ID             rooms.UserID `json:"id"`
			DisplayName    string       `json:"display_name"`
			FirstOnStageAt time.Time    `json:"first_on_stage_at"`
		} `json:"speakers"`
	}
	decodeStrictly(t, got, &h, true)
	if h.RoomID != room.ID || h.CreatedBy.DisplayName != "Host" || h.EndedAt != nil || h.PeakListeners != 1 ||
		len(h.Speakers) != 2 || h.Speakers[0].ID != hostID || h.Speakers[1].DisplayName != "Ann" {
		t.Errorf("history = %s", got)
	}

	// The log: the host and an admin read it; a listener does not.
	out, _ := e.signIn(t, "Out")
	resp, got = e.do(t, http.MethodGet, base+"/moderation-log", out, "")
	wantError(t, resp, got, http.StatusForbidden, codeForbidden)
	for _, token := range []string{host, admin} {
		resp, got := e.do(t, http.MethodGet, base+"/moderation-log?limit=10", token, "")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("log: %d %s", resp.StatusCode, got)
		}
		var log struct {
			Entries []struct {
				ID     string           `json:"id"`
				RoomID rooms.RoomID     `json:"room_id"`
				Action string           `json:"action"`
				Actor  rooms.MemberRef  `json:"actor"`
				Target *rooms.MemberRef `json:"target"`
				Detail string           `json:"detail"`
				At     time.Time        `json:"at"`
			} `json:"entries"`
			NextCursor string `json:"next_cursor"`
		}
		decodeStrictly(t, got, &log, false)
		var actions []string
		for _, en := range log.Entries {
			actions = append(actions, en.Action)
		}
		// Newest first; the invite and its acceptance may share a
		// millisecond with the mute, so compare as a set.
		if len(actions) != 3 || !strings.Contains(strings.Join(actions, ","), "muted_all") ||
			!strings.Contains(strings.Join(actions, ","), "invite_accepted") || !strings.Contains(strings.Join(actions, ","), "invited") {
			t.Errorf("log = %v", actions)
		}
	}

	for _, p := range []string{"/history", "/moderation-log"} {
		checkAuthRefusals(t, e, http.MethodGet, base+p, "")
		for _, r := range []string{string(rooms.NewRoomID()), "rm_nope"} {
			resp, got := e.do(t, http.MethodGet, "/api/v1/rooms/"+r+p, admin, "")
			wantError(t, resp, got, http.StatusNotFound, codeRoomNotFound)
		}
	}
	for q, code := range map[string]string{"?limit=x": codeInvalidRequest, "?limit=0": codeValidationFailed, "?cursor=x": codeValidationFailed} {
		resp, got := e.do(t, http.MethodGet, base+"/moderation-log"+q, host, "")
		wantError(t, resp, got, http.StatusBadRequest, code)
	}
}
