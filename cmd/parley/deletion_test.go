package main

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/parley-audio/parley/internal/testenv"
	"github.com/parley-audio/parley/members"
	"github.com/parley-audio/parley/rooms"
	"github.com/parley-audio/parley/signaling"
	"github.com/parley-audio/parley/signaling/client"
)

// waitGoodbye waits for an open connection to get goodbye with reason and
// be closed with 4401.
func waitGoodbye(t *testing.T, ctx context.Context, who string, s *client.Session, reason string) {
	t.Helper()
	env, err := s.WaitFor(ctx, func(e signaling.Envelope) bool { return e.Type == signaling.TypeGoodbye })
	if err != nil {
		t.Fatalf("%s: no goodbye: %v", who, err)
	}
	var g signaling.GoodbyePayload
	_ = json.Unmarshal(env.Payload, &g)
	if g.Reason != reason {
		t.Errorf("%s: goodbye %q, want %q", who, g.Reason, reason)
	}
	_, err = s.WaitFor(ctx, func(signaling.Envelope) bool { return false })
	if websocket.CloseStatus(errors.Unwrap(err)) != 4401 {
		t.Errorf("%s: connection ended with %v, want close code 4401", who, err)
	}
}

// call makes a REST call as a and fails the test on an error.
func call(t *testing.T, ctx context.Context, a *client.API, method, path string, in, out any) {
	t.Helper()
	if err := a.Call(ctx, method, path, in, out); err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
}

// leftCount counts the participant_left events of who that s received,
// batched or not.
func leftCount(s *client.Session, who rooms.UserID) int {
	n := 0
	for _, e := range s.Events() {
		evs := []signaling.Envelope{e}
		if e.Type == signaling.TypeEvents {
			var p signaling.EventsPayload
			_ = json.Unmarshal(e.Payload, &p)
			evs = evs[:0]
			for _, raw := range p.Events {
				var inner signaling.Envelope
				_ = json.Unmarshal(raw, &inner)
				evs = append(evs, inner)
			}
		}
		for _, ev := range evs {
			var l signaling.ParticipantLeftPayload
			if ev.Type == signaling.TypeParticipantLeft && json.Unmarshal(ev.Payload, &l) == nil && l.UserID == who {
				n++
			}
		}
	}
	return n
}

// speakers reads a room's history over REST and returns who spoke.
func speakers(t *testing.T, ctx context.Context, a *client.API, room rooms.RoomID) []rooms.UserID {
	t.Helper()
	var h struct {
		Speakers []struct {
			ID rooms.UserID `json:"id"`
		} `json:"speakers"`
	}
	call(t, ctx, a, http.MethodGet, "/api/v1/rooms/"+string(room)+"/history", nil, &h)
	var out []rooms.UserID
	for _, s := range h.Speakers {
		out = append(out, s.ID)
	}
	return out
}

// The acceptance test of account deletion, on the whole server with its
// default SQLite stores: after DELETE /api/v1/me the account cannot sign
// in, its tokens are refused by REST and signaling, its open connection is
// closed and it has left its room, and its data is gone as docs/api.md
// says, read back through the stores' own methods.
func TestDeletedAccountIsGoneAsDocumented(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	dir := t.TempDir()
	ts := startServer(t, func(c *serveConfig) { c.DataDir = dir })
	api := func() *client.API { return &client.API{BaseURL: ts.BaseURL, HTTP: ts.http} }

	// Ann is the first account; she lets Bob and Cat in, and keeps an
	// invite unused.
	ann := api()
	annUp, err := ann.SignUp(ctx, "ann", tourPassword, "Ann", "")
	if err != nil {
		t.Fatal(err)
	}
	annID := annUp.Member.ID
	person := func(name string) (*client.API, rooms.UserID) {
		inv, err := ann.CreateInvite(ctx)
		if err != nil {
			t.Fatal(err)
		}
		a := api()
		up, err := a.SignUp(ctx, name, tourPassword, name, inv.Code)
		if err != nil {
			t.Fatal(err)
		}
		return a, up.Member.ID
	}
	bob, bobID := person("bob")
	cat, catID := person("cat")
	unused, err := ann.CreateInvite(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// A second session of Ann's, and her refresh token.
	annTwo := api()
	two, err := annTwo.SignIn(ctx, "ann", tourPassword)
	if err != nil {
		t.Fatal(err)
	}

	call(t, ctx, ann, http.MethodPatch, "/api/v1/me/profile", map[string]string{"headline": "CTO at Acme", "bio": "Compilers."}, nil)
	call(t, ctx, ann, http.MethodPost, "/api/v1/members/"+string(bobID)+"/follow", nil, nil)
	call(t, ctx, bob, http.MethodPost, "/api/v1/members/"+string(annID)+"/follow", nil, nil)
	call(t, ctx, cat, http.MethodPost, "/api/v1/members/"+string(annID)+"/block", nil, nil)
	call(t, ctx, bob, http.MethodPost, "/api/v1/members/"+string(catID)+"/follow", nil, nil)

	// Ann's closed room, where she lets Cat in; Bob's closed room, which
	// lets Ann in.
	annRoom, err := ann.CreateRoomWith(ctx, client.NewRoom{Title: "Ann's room", Visibility: "closed"})
	if err != nil {
		t.Fatal(err)
	}
	bobRoom, err := bob.CreateRoomWith(ctx, client.NewRoom{Title: "Bob's room", Visibility: "closed"})
	if err != nil {
		t.Fatal(err)
	}
	call(t, ctx, ann, http.MethodPut, "/api/v1/rooms/"+string(annRoom.ID)+"/invitees/"+string(catID), nil, nil)
	call(t, ctx, bob, http.MethodPut, "/api/v1/rooms/"+string(bobRoom.ID)+"/invitees/"+string(annID), nil, nil)

	// Ann sits in Bob's room, with Bob, over signaling.
	annConn, err := client.Dial(ctx, ts.BaseURL, ann.Token, client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer annConn.Close()
	if _, err := annConn.Join(ctx, string(bobRoom.ID)); err != nil {
		t.Fatal(err)
	}
	bobConn, err := client.Dial(ctx, ts.BaseURL, bob.Token, client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer bobConn.Close()
	if _, err := bobConn.Join(ctx, string(bobRoom.ID)); err != nil {
		t.Fatal(err)
	}

	// What Ann does around rooms: she chats in Bob's room, next to Bob;
	// RSVPs to Bob's event and schedules one of her own; Bob invites her
	// on stage (the moderation log records it); she reports Cat, and Cat
	// reports her.
	call(t, ctx, ann, http.MethodPost, "/api/v1/rooms/"+string(bobRoom.ID)+"/chat", map[string]string{"body": "hello from Ann"}, nil)
	call(t, ctx, bob, http.MethodPost, "/api/v1/rooms/"+string(bobRoom.ID)+"/chat", map[string]string{"body": "hello from Bob"}, nil)
	soon := time.Now().Add(24 * time.Hour).UTC().Format(time.RFC3339)
	var bobEvent, annEvent struct {
		ID rooms.EventID `json:"id"`
	}
	call(t, ctx, bob, http.MethodPost, "/api/v1/events", map[string]any{"title": "Bob's event", "starts_at": soon}, &bobEvent)
	call(t, ctx, ann, http.MethodPut, "/api/v1/events/"+string(bobEvent.ID)+"/rsvp", nil, nil)
	call(t, ctx, ann, http.MethodPost, "/api/v1/events", map[string]any{"title": "Ann's event", "starts_at": soon}, &annEvent)
	call(t, ctx, bob, http.MethodPost, "/api/v1/rooms/"+string(bobRoom.ID)+"/participants/"+string(annID)+"/invite", nil, nil)
	call(t, ctx, ann, http.MethodPost, "/api/v1/rooms/"+string(bobRoom.ID)+"/invitation/accept", nil, nil)
	if sp := speakers(t, ctx, bob, bobRoom.ID); !slices.Contains(sp, annID) {
		t.Fatalf("the history of Bob's room lists %v as speakers; want Ann among them", sp)
	}
	call(t, ctx, ann, http.MethodPost, "/api/v1/reports", map[string]string{"member_id": string(catID), "reason": "rude"}, nil)
	call(t, ctx, cat, http.MethodPost, "/api/v1/reports", map[string]string{"member_id": string(annID), "reason": "ruder"}, nil)

	// Bad input first: each refused, nothing deleted.
	if err := ann.DeleteAccount(ctx, ""); !client.IsCode(err, "validation_failed") {
		t.Errorf("no password: %v, want validation_failed", err)
	}
	if err := ann.DeleteAccount(ctx, "not my password"); !client.IsCode(err, "wrong_password") {
		t.Errorf("wrong password: %v, want wrong_password", err)
	}
	dialOK(t, ctx, ts, "ann after the refusals", ann.Token)

	if err := ann.DeleteAccount(ctx, tourPassword); err != nil {
		t.Fatalf("DELETE /api/v1/me: %v", err)
	}

	// The open connection is closed, and the room saw her leave.
	waitGoodbye(t, ctx, "ann's open connection", annConn, signaling.ReasonAccountDeleted)
	waitLeft(t, ctx, bobConn, annID, rooms.ReasonAccountDeleted)

	// Every token refused, by REST and by signaling; no sign-in, no
	// refresh; deleting again is refused.
	for _, tok := range []string{ann.Token, annTwo.Token} {
		a := api()
		a.Token = tok
		if _, err := a.LiveRooms(ctx); !client.IsCode(err, "account_deleted") {
			t.Errorf("REST with a deleted account's token: %v, want account_deleted", err)
		}
		if err := a.DeleteAccount(ctx, tourPassword); !client.IsCode(err, "account_deleted") {
			t.Errorf("deleting again: %v, want account_deleted", err)
		}
		dialRefused(t, ctx, ts, "ann's token after deletion", tok)
	}
	if _, err := api().SignIn(ctx, "ann", tourPassword); !client.IsCode(err, "invalid_credentials") {
		t.Errorf("sign-in after deletion: %v, want invalid_credentials", err)
	}
	if _, err := api().Refresh(ctx, two.RefreshToken); !client.IsCode(err, "refresh_invalid") {
		t.Errorf("refresh after deletion: %v, want refresh_invalid", err)
	}

	// She left once: the eviction and her closed connection agree.
	if n := leftCount(bobConn, annID); n != 1 {
		t.Errorf("Bob's connection saw Ann leave %d times, want once", n)
	}

	// Others see the tombstone: Ann's room stays, hosted by "Deleted
	// member".
	var room rooms.RoomJSON
	call(t, ctx, cat, http.MethodGet, "/api/v1/rooms/"+string(annRoom.ID), nil, &room)
	if room.CreatedBy.ID != annID || room.CreatedBy.DisplayName != members.DeletedName {
		t.Errorf("Ann's room is hosted by %+v, want %s as %q", room.CreatedBy, annID, members.DeletedName)
	}
	if err := bob.Call(ctx, http.MethodGet, "/api/v1/members/"+string(annID), nil, nil); !client.IsCode(err, "member_not_found") {
		t.Errorf("Ann's profile: %v, want member_not_found", err)
	}

	// The data, through the stores' read methods.
	ms, err := members.OpenSQLite(ctx, filepath.Join(dir, "members.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer ms.Close()
	rs, err := rooms.OpenSQLite(ctx, filepath.Join(dir, "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()

	a, err := ms.Account(ctx, annID)
	if err != nil || a.Status != members.StatusDeleted || a.Username == "ann" || a.DisplayName != "" || a.Headline != "" || a.Bio != "" {
		t.Errorf("Ann's account = %+v, %v; want a tombstone", a, err)
	}
	if _, _, err := ms.Credentials(ctx, "ann"); !errors.Is(err, members.ErrAccountNotFound) {
		t.Errorf("the username ann: %v, want it free", err)
	}
	for _, other := range []rooms.UserID{bobID, catID} {
		r, err := ms.Relation(ctx, other, annID)
		if err != nil || r != (members.Relation{}) {
			t.Errorf("%s and Ann: %+v, %v; want no follow or block left either way", other, r, err)
		}
	}
	if r, _ := ms.Relation(ctx, bobID, catID); !r.Following {
		t.Error("Bob's follow of Cat is gone")
	}
	invs, err := ms.Invites(ctx, annID, members.Cursor{}, 10)
	if err != nil || len(invs) != 3 {
		t.Fatalf("Ann's invites = %+v, %v", invs, err)
	}
	for _, inv := range invs {
		switch {
		case string(inv.ID) == unused.Invite.ID:
			if inv.RevokedAt.IsZero() {
				t.Errorf("the unused invite was not revoked: %+v", inv)
			}
		case inv.UsedBy != bobID && inv.UsedBy != catID:
			t.Errorf("a used invite lost its use: %+v", inv)
		}
	}
	if _, err := api().SignUp(ctx, "dan", tourPassword, "Dan", unused.Code); !client.IsCode(err, "invite_revoked") {
		t.Errorf("the deleted member's unused code: %v, want invite_revoked", err)
	}
	for _, id := range []rooms.UserID{bobID, catID} {
		if acc, err := ms.Account(ctx, id); err != nil || acc.Status != members.StatusActive || acc.InvitedBy != annID {
			t.Errorf("an account Ann let in = %+v, %v; want it intact", acc, err)
		}
	}
	if got, err := rs.InvitationsOf(ctx, annID, rooms.InviteeCursor{}, 10); err != nil || len(got) != 0 {
		t.Errorf("Ann's room invitations = %+v, %v; want none", got, err)
	}
	if ok, err := rs.IsInvitee(ctx, annRoom.ID, catID); err != nil || !ok {
		t.Errorf("Cat's invitation to Ann's room, given by Ann: %v, %v; want it kept", ok, err)
	}
	if r, err := rs.Room(ctx, annRoom.ID); err != nil || r.CreatedBy != annID || r.Title != "Ann's room" {
		t.Errorf("Ann's room = %+v, %v; want it kept", r, err)
	}

	// Room data: her chat messages and RSVPs are gone, her scheduled
	// event cancelled, her attendance forgotten; the moderation log and
	// the reports keep her ID, as the instance's records.
	if got, err := rs.ChatBy(ctx, annID, rooms.Cursor{}, 10); err != nil || len(got) != 0 {
		t.Errorf("Ann's chat messages = %+v, %v; want none", got, err)
	}
	chat, err := rs.ChatHistory(ctx, bobRoom.ID, rooms.ChatQuery{Limit: 10})
	if err != nil || len(chat) != 1 || chat[0].Author != bobID {
		t.Errorf("the chat of Bob's room = %+v, %v; want Bob's message alone", chat, err)
	}
	if got, err := rs.RSVPsBy(ctx, annID, rooms.Cursor{}, 10); err != nil || len(got) != 0 {
		t.Errorf("Ann's RSVPs = %+v, %v; want none", got, err)
	}
	if e, err := rs.Event(ctx, bobEvent.ID, ""); err != nil || e.RSVPs != 0 {
		t.Errorf("Bob's event = %+v, %v; want no RSVP left", e, err)
	}
	if e, err := rs.Event(ctx, annEvent.ID, ""); err != nil || e.Status() != rooms.EventCancelled || e.Host != annID {
		t.Errorf("Ann's event = %+v, %v; want it cancelled", e, err)
	}
	if got, err := rs.RoomsJoinedBy(ctx, annID, rooms.Cursor{}, 10); err != nil || len(got) != 0 {
		t.Errorf("the rooms Ann was in = %+v, %v; want none remembered", got, err)
	}
	if sp := speakers(t, ctx, bob, bobRoom.ID); slices.Contains(sp, annID) || !slices.Contains(sp, bobID) {
		t.Errorf("the history of Bob's room lists %v as speakers; want Bob and not Ann", sp)
	}
	if got, err := rs.ModActionsOn(ctx, annID, rooms.Cursor{}, 10); err != nil || len(got) != 2 ||
		got[0].Kind != rooms.ModInviteAccepted || got[1].Kind != rooms.ModInvited || got[1].Actor != bobID {
		t.Errorf("moderation on Ann = %+v, %v; want Bob's invitation and her acceptance kept", got, err)
	}
	if got, err := rs.ReportsBy(ctx, annID, rooms.Cursor{}, 10); err != nil || len(got) != 1 || got[0].Member != catID {
		t.Errorf("Ann's reports = %+v, %v; want hers of Cat kept", got, err)
	}
	if got, err := rs.Reports(ctx, rooms.Cursor{}, 10); err != nil || len(got) != 2 {
		t.Errorf("the reports = %+v, %v; want both kept", got, err)
	}

	// The username is free for someone else.
	inv, err := bob.CreateInvite(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := api().SignUp(ctx, "ann", tourPassword, "Another Ann", inv.Code); err != nil {
		t.Errorf("signing up as ann again: %v", err)
	}
}

// A development account has no password and its token no session: the
// token alone deletes it, and is refused afterwards by REST and signaling
// on this server at once, and on another sharing the database within the
// revocation sync, where its open connection is closed too.
func TestDeletingADevelopmentAccountReachesTheOtherServer(t *testing.T) {
	dbURL := testenv.Postgres(t)
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	shared := func(c *serveConfig) { c.DatabaseURL = dbURL }
	a := startServer(t, shared)
	b := startServer(t, shared)
	dev := a.signIn(t, ctx, "Dev")
	host := b.signIn(t, ctx, "Host")
	room, err := host.api.CreateRoom(ctx, "Room", "")
	if err != nil {
		t.Fatal(err)
	}
	hostConn, err := client.Dial(ctx, b.BaseURL, host.api.Token, client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer hostConn.Close()
	if _, err := hostConn.Join(ctx, string(room.ID)); err != nil {
		t.Fatal(err)
	}
	open, err := client.Dial(ctx, b.BaseURL, dev.api.Token, client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer open.Close()
	if _, err := open.Join(ctx, string(room.ID)); err != nil {
		t.Fatal(err)
	}

	if err := dev.api.DeleteAccount(ctx, ""); err != nil {
		t.Fatalf("DELETE /api/v1/me: %v", err)
	}
	deleted := time.Now()
	// It leaves the room on the other server at once: the whereabouts
	// are shared.
	waitLeft(t, ctx, hostConn, dev.id, rooms.ReasonAccountDeleted)
	if _, err := dev.api.LiveRooms(ctx); !client.IsCode(err, "account_deleted") {
		t.Errorf("REST here: %v, want account_deleted", err)
	}
	dialRefused(t, ctx, a, "the development token here", dev.api.Token)
	// The other server closes the open connection with its sync.
	waitGoodbye(t, ctx, "the open connection on the other server", open, signaling.ReasonAccountDeleted)
	t.Logf("the other server closed the open connection %v after the deletion", time.Since(deleted).Round(time.Millisecond))
	other := &client.API{BaseURL: b.BaseURL, HTTP: b.http, Token: dev.api.Token}
	if _, err := other.LiveRooms(ctx); !client.IsCode(err, "account_deleted") {
		t.Errorf("REST on the other server: %v, want account_deleted", err)
	}
	dialRefused(t, ctx, b, "the development token on the other server", dev.api.Token)
}
