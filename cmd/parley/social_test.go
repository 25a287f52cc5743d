package main

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/parley-audio/parley/internal/ratelimit"
	"github.com/parley-audio/parley/rooms"
	"github.com/parley-audio/parley/signaling"
	"github.com/parley-audio/parley/signaling/client"
)

// dial opens a signaling session for p without joining.
func (p *person) dial(t *testing.T, ctx context.Context, ts *testServer) *client.Session {
	t.Helper()
	s, err := client.Dial(ctx, ts.BaseURL, p.api.Token, client.Options{Loopback: true, OnTrack: p.rec.onTrack})
	if err != nil {
		t.Fatalf("%s dial: %v", p.name, err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// joinErr joins a room over a new session and returns the refusal, or nil.
func (p *person) joinErr(t *testing.T, ctx context.Context, ts *testServer, room rooms.RoomID) error {
	t.Helper()
	_, err := p.dial(t, ctx, ts).Join(ctx, string(room))
	return err
}

func (p *person) call(t *testing.T, ctx context.Context, method, path string) {
	t.Helper()
	if err := p.api.Call(ctx, method, path, nil, nil); err != nil {
		t.Fatalf("%s %s %s: %v", p.name, method, path, err)
	}
}

func (p *person) lists(t *testing.T, ctx context.Context, room rooms.RoomID) bool {
	t.Helper()
	list, err := p.api.LiveRooms(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range list.Rooms {
		if r.ID == room {
			return true
		}
	}
	return false
}

// The visibility acceptance point, over the real API and signaling: social
// and closed rooms are neither listed nor joinable by others, and a member
// the host blocks can neither see nor join even an open room.
func TestSocialAndClosedRoomsAreNeitherListedNorJoinableByOthers(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	ts := startServer(t)
	host := ts.signIn(t, ctx, "Host")
	var rs = map[string]rooms.RoomJSON{}
	for _, v := range []string{"open", "social", "closed"} {
		r, err := host.api.CreateRoomWith(ctx, client.NewRoom{Title: "A " + v + " room", Visibility: v})
		if err != nil {
			t.Fatal(err)
		}
		rs[v] = r
	}
	host.connect(t, ctx, ts, rs["open"].ID, true)

	follower, stranger, invitee, blocked := ts.signIn(t, ctx, "Follower"), ts.signIn(t, ctx, "Stranger"), ts.signIn(t, ctx, "Invitee"), ts.signIn(t, ctx, "Blocked")
	follower.call(t, ctx, http.MethodPost, "/api/v1/members/"+string(host.id)+"/follow")
	blocked.call(t, ctx, http.MethodPost, "/api/v1/members/"+string(host.id)+"/follow")
	host.call(t, ctx, http.MethodPut, "/api/v1/rooms/"+string(rs["closed"].ID)+"/invitees/"+string(invitee.id))
	host.call(t, ctx, http.MethodPost, "/api/v1/members/"+string(blocked.id)+"/block")

	for _, c := range []struct {
		who                  *person
		open, social, closed bool
	}{
		{follower, true, true, false},
		{stranger, true, false, false},
		{invitee, true, false, true},
		{blocked, false, false, false},
	} {
		for _, v := range []struct {
			name string
			want bool
		}{{"open", c.open}, {"social", c.social}, {"closed", c.closed}} {
			r := rs[v.name]
			if got := c.who.lists(t, ctx, r.ID); got != v.want {
				t.Errorf("%s lists the %s room: %v, want %v", c.who.name, v.name, got, v.want)
			}
			err := c.who.joinErr(t, ctx, ts, r.ID)
			switch {
			case v.want && err != nil:
				t.Errorf("%s joins the %s room: %v", c.who.name, v.name, err)
			case !v.want && !client.IsCode(err, signaling.CodeRoomNotFound):
				t.Errorf("%s joins the %s room: %v, want room_not_found", c.who.name, v.name, err)
			}
		}
	}
}

// roomCounts reads a room's counts over REST as p.
func roomCounts(t *testing.T, ctx context.Context, p *person, room rooms.RoomID) rooms.RoomJSON {
	t.Helper()
	var r rooms.RoomJSON
	if err := p.api.Call(ctx, http.MethodGet, "/api/v1/rooms/"+string(room), nil, &r); err != nil {
		t.Fatal(err)
	}
	return r
}

// waitLeft waits until s sees who leave with the reason.
func waitLeft(t *testing.T, ctx context.Context, s *client.Session, who rooms.UserID, reason string) {
	t.Helper()
	_, err := s.WaitFor(ctx, func(e signaling.Envelope) bool {
		var evs []signaling.Envelope
		if e.Type == signaling.TypeEvents {
			var p signaling.EventsPayload
			_ = json.Unmarshal(e.Payload, &p)
			for _, raw := range p.Events {
				var inner signaling.Envelope
				_ = json.Unmarshal(raw, &inner)
				evs = append(evs, inner)
			}
		} else {
			evs = []signaling.Envelope{e}
		}
		for _, ev := range evs {
			var l signaling.ParticipantLeftPayload
			if ev.Type == signaling.TypeParticipantLeft && json.Unmarshal(ev.Payload, &l) == nil && l.UserID == who && l.Reason == reason {
				return true
			}
		}
		return false
	})
	if err != nil {
		t.Fatalf("never saw %s leave (%s): %v", who, reason, err)
	}
}

// oneRoomAtATime has ada join room A on server a, then room B on server
// b, and checks that she left A (her first session hears it, with the
// reason moved) and is in B alone.
func oneRoomAtATime(t *testing.T, ctx context.Context, a, b *testServer) {
	t.Helper()
	host := a.signIn(t, ctx, "Host")
	ra, err := host.api.CreateRoom(ctx, "Room A", "")
	if err != nil {
		t.Fatal(err)
	}
	rb, err := host.api.CreateRoom(ctx, "Room B", "")
	if err != nil {
		t.Fatal(err)
	}
	ada := a.signIn(t, ctx, "Ada")
	first := ada.dial(t, ctx, a)
	if _, err := first.Join(ctx, string(ra.ID)); err != nil {
		t.Fatal(err)
	}
	if c := roomCounts(t, ctx, host, ra.ID); c.ListenerCount != 1 {
		t.Fatalf("room A holds %d listeners, want Ada", c.ListenerCount)
	}
	second := ada.dial(t, ctx, b)
	if _, err := second.Join(ctx, string(rb.ID)); err != nil {
		t.Fatal(err)
	}
	waitLeft(t, ctx, first, ada.id, rooms.ReasonMoved)
	if c := roomCounts(t, ctx, host, ra.ID); c.ListenerCount != 0 {
		t.Errorf("room A still holds %d listeners after Ada joined B", c.ListenerCount)
	}
	if c := roomCounts(t, ctx, host, rb.ID); c.ListenerCount != 1 {
		t.Errorf("room B holds %d listeners, want Ada", c.ListenerCount)
	}
	// The first session is out of A: its media is gone, and it may join
	// again, which in turn takes Ada out of B.
	if _, err := first.Request(ctx, signaling.TypeLeave, struct{}{}); !client.IsCode(err, signaling.CodeNotJoined) {
		t.Errorf("leave from the moved session: %v, want not_joined", err)
	}
	if _, err := first.Join(ctx, string(ra.ID)); err != nil {
		t.Fatal(err)
	}
	waitLeft(t, ctx, second, ada.id, rooms.ReasonMoved)
}

// A member is in one room at a time: joining another leaves the first.
func TestJoiningAnotherRoomLeavesTheFirst(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	ts := startServer(t)
	oneRoomAtATime(t, ctx, ts, ts)
}

// The same across two server processes sharing one Redis: the member's
// whereabouts live in Redis, so the server holding the first connection
// takes her out.
func TestJoiningAnotherRoomLeavesTheFirstAcrossServersOnRedis(t *testing.T) {
	url, prefix := testRedis(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	dir := t.TempDir()
	shared := func(c *serveConfig) { c.RedisURL, c.RedisPrefix, c.DataDir = url, prefix, dir }
	oneRoomAtATime(t, ctx, startServer(t, shared), startServer(t, shared))
}

// Joins of other rooms are limited per member; coming back to one's room
// is free, and a refused join changes nothing.
func TestJoinsAreRateLimitedPerMember(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	ts := startServer(t, func(c *serveConfig) { c.Social.JoinRate = ratelimit.Rate{N: 2, Per: time.Hour} })
	host := ts.signIn(t, ctx, "Host")
	var rs []rooms.RoomID
	for _, title := range []string{"One", "Two", "Three"} {
		r, err := host.api.CreateRoom(ctx, title, "")
		if err != nil {
			t.Fatal(err)
		}
		rs = append(rs, r.ID)
	}
	hopper := ts.signIn(t, ctx, "Hopper")
	for _, r := range rs[:2] {
		if err := hopper.joinErr(t, ctx, ts, r); err != nil {
			t.Fatal(err)
		}
	}
	for range 3 {
		if err := hopper.joinErr(t, ctx, ts, rs[1]); err != nil {
			t.Errorf("rejoining the room she is in: %v", err)
		}
	}
	err := hopper.joinErr(t, ctx, ts, rs[2])
	if !client.IsCode(err, signaling.CodeRateLimited) {
		t.Fatalf("a third room within the hour: %v, want rate_limited", err)
	}
	if c := roomCounts(t, ctx, host, rs[2]); c.ListenerCount != 0 {
		t.Errorf("the refused join let her in: %+v", c)
	}
	if c := roomCounts(t, ctx, host, rs[1]); c.ListenerCount != 1 {
		t.Errorf("the refused join took her out of room two: %+v", c)
	}
	if err := ts.signIn(t, ctx, "Other").joinErr(t, ctx, ts, rs[2]); err != nil {
		t.Errorf("another member is limited too: %v", err)
	}
}

// With guest listening on, someone without an account gets a pass to an
// open room by its link, joins over signaling and hears the speaker; the
// guest is counted, can only listen, and cannot use the pass elsewhere.
func TestGuestHearsAnOpenRoomByLink(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	ts := startServer(t, func(c *serveConfig) { c.Social.GuestListening = true })
	speaker, _ := openRoom(t, ctx, ts, "Open to all")
	other, err := speaker.api.CreateRoom(ctx, "Another", "")
	if err != nil {
		t.Fatal(err)
	}
	closed, err := speaker.api.CreateRoomWith(ctx, client.NewRoom{Title: "Members only", Visibility: "closed"})
	if err != nil {
		t.Fatal(err)
	}

	anon := &client.API{BaseURL: ts.BaseURL, HTTP: ts.http}
	pass, err := anon.GuestToken(ctx, speaker.room)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := anon.GuestToken(ctx, closed.ID); !client.IsCode(err, "room_not_found") {
		t.Errorf("a pass to a closed room: %v, want room_not_found", err)
	}
	guest := &person{name: "Guest", api: &client.API{BaseURL: ts.BaseURL, HTTP: ts.http, Token: pass.Token}, id: pass.Guest.ID, rec: newRecorder()}
	guest.connect(t, ctx, ts, speaker.room, false)
	if guest.sess.Welcome.User.ID != pass.Guest.ID || guest.sess.Welcome.User.DisplayName != "Guest" {
		t.Errorf("welcome = %+v", guest.sess.Welcome.User)
	}

	w, err := speaker.sess.NewSender()
	if err != nil {
		t.Fatal(err)
	}
	warmUp(t, ctx, speaker, w, []*person{guest})
	rec := loadSpeech(t)
	first := sendRecording(t, ctx, w, rec, nil)
	expectRecording(t, ctx, guest, speaker, rec, first)

	c := roomCounts(t, ctx, speaker, speaker.room)
	if c.ListenerCount != 1 || c.GuestCount != 1 {
		t.Errorf("counts with a guest: %d listeners, %d guests; want 1 and 1", c.ListenerCount, c.GuestCount)
	}
	// Listen only: no hand, no stage, nothing else.
	for _, a := range []struct {
		kind    string
		payload any
	}{
		{"raise_hand", struct{}{}}, {"accept_invite", struct{}{}}, {"mute", struct{}{}}, {"step_down", struct{}{}},
		{"invite", map[string]string{"user_id": string(speaker.id)}}, {"end_room", struct{}{}},
	} {
		if err := guest.sess.Act(ctx, a.kind, a.payload); !client.IsCode(err, signaling.CodeForbidden) {
			t.Errorf("the guest's %s: %v, want forbidden", a.kind, err)
		}
	}
	if err := speaker.sess.Act(ctx, "invite", map[string]string{"user_id": string(guest.id)}); !client.IsCode(err, signaling.CodeForbidden) {
		t.Errorf("inviting the guest to speak: %v, want forbidden", err)
	}
	// The pass is for this room only.
	if _, err := guest.dial(t, ctx, ts).Join(ctx, string(other.ID)); !client.IsCode(err, signaling.CodeForbidden) {
		t.Errorf("the pass used for another room: %v, want forbidden", err)
	}
	// And it is no member's token.
	if _, err := guest.api.LiveRooms(ctx); !client.IsCode(err, "unauthorized") {
		t.Errorf("the pass on the REST API: %v, want unauthorized", err)
	}
	// A moderator may remove a guest.
	if err := speaker.sess.Act(ctx, "remove", map[string]string{"user_id": string(guest.id)}); err != nil {
		t.Errorf("removing the guest: %v", err)
	}
	waitLeft(t, ctx, guest.sess, guest.id, rooms.ReasonRemoved)
}

// Guest listening is off by default: no passes, and a forged-looking pass
// of another server is refused at the door.
func TestGuestListeningIsOffByDefault(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ts := startServer(t)
	host := ts.signIn(t, ctx, "Host")
	r, err := host.api.CreateRoom(ctx, "Open", "")
	if err != nil {
		t.Fatal(err)
	}
	anon := &client.API{BaseURL: ts.BaseURL, HTTP: ts.http}
	if _, err := anon.GuestToken(ctx, r.ID); !client.IsCode(err, "forbidden") {
		t.Errorf("a guest pass with guests off: %v, want forbidden", err)
	}
}

// A member's data export holds their profile as edited, whom they follow,
// who follows them, whom they block and the rooms they were invited into,
// and nothing of what others did among themselves.
func TestExportHoldsProfileFollowsBlocksAndInvitations(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ts := startServer(t)
	ada, bob, cy, dee := ts.signIn(t, ctx, "Ada"), ts.signIn(t, ctx, "Bob"), ts.signIn(t, ctx, "Cy"), ts.signIn(t, ctx, "Dee")
	if err := ada.api.Call(ctx, http.MethodPatch, "/api/v1/me/profile", map[string]string{"headline": "Analyst at Engines"}, nil); err != nil {
		t.Fatal(err)
	}
	ada.call(t, ctx, http.MethodPost, "/api/v1/members/"+string(bob.id)+"/follow")
	cy.call(t, ctx, http.MethodPost, "/api/v1/members/"+string(ada.id)+"/follow")
	ada.call(t, ctx, http.MethodPost, "/api/v1/members/"+string(dee.id)+"/block")
	bob.call(t, ctx, http.MethodPost, "/api/v1/members/"+string(cy.id)+"/block") // Bob's own business
	dee.call(t, ctx, http.MethodPost, "/api/v1/members/"+string(bob.id)+"/follow")
	closed, err := bob.api.CreateRoomWith(ctx, client.NewRoom{Title: "Bob's inner circle", Visibility: "closed"})
	if err != nil {
		t.Fatal(err)
	}
	bob.call(t, ctx, http.MethodPut, "/api/v1/rooms/"+string(closed.ID)+"/invitees/"+string(ada.id))

	files := exportFiles(t, ctx, ts, ada)
	one := func(name string) []map[string]any {
		t.Helper()
		var items []map[string]any
		if err := json.Unmarshal([]byte(files[name]), &items); err != nil {
			t.Fatalf("%s: %v (%q)", name, err, files[name])
		}
		if !strings.Contains(files["README.md"], "`"+name+"`") {
			t.Errorf("README.md does not explain %s", name)
		}
		return items
	}
	memberOf := func(item map[string]any) string {
		m, _ := item["member"].(map[string]any)
		id, _ := m["id"].(string)
		return id
	}
	if f := one("following.json"); len(f) != 1 || memberOf(f[0]) != string(bob.id) {
		t.Errorf("following.json = %v, want Bob", f)
	}
	if f := one("followers.json"); len(f) != 1 || memberOf(f[0]) != string(cy.id) {
		t.Errorf("followers.json = %v, want Cy", f)
	}
	if f := one("blocks.json"); len(f) != 1 || memberOf(f[0]) != string(dee.id) {
		t.Errorf("blocks.json = %v, want Dee", f)
	}
	if f := one("room_invitations.json"); len(f) != 1 || f[0]["room_id"] != string(closed.ID) || f[0]["room_title"] != "Bob's inner circle" {
		t.Errorf("room_invitations.json = %v", f)
	}
	if !strings.Contains(files["profile.json"], "Analyst at Engines") {
		t.Errorf("profile.json lacks the edited headline: %s", files["profile.json"])
	}
	// Bob blocking Cy, and Dee following Bob, are theirs, not Ada's.
	for name, b := range files {
		if name == "followers.json" || name == "README.md" {
			continue
		}
		if strings.Contains(b, string(cy.id)) {
			t.Errorf("%s mentions Cy: %s", name, b)
		}
	}
}
