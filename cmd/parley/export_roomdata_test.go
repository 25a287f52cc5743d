package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parley-audio/parley/members"
	"github.com/parley-audio/parley/rooms"
	"github.com/parley-audio/parley/signaling"
)

// A member's archive holds what they did around rooms: the rooms they were
// in and spoke in, their chat, their events and RSVPs, their reports, and
// the moderation taken on them; not others' messages.
func TestExportHoldsTheMembersRoomData(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	ts := startServer(t)
	ada := ts.signIn(t, ctx, "Ada")
	bob := ts.signIn(t, ctx, "Bob")
	room, err := bob.api.CreateRoom(ctx, "Bob's room", "")
	if err != nil {
		t.Fatal(err)
	}
	bob.joinChat(t, ctx, ts, room.ID)
	ada.joinChat(t, ctx, ts, room.ID)
	ada.chat(t, ctx, "ada one")
	ada.chat(t, ctx, "ada two")
	bob.chat(t, ctx, "bob's own words")
	if err := bob.sess.Act(ctx, string(rooms.ActInvite), map[string]string{"user_id": string(ada.id)}); err != nil {
		t.Fatal(err)
	}
	if _, err := ada.sess.WaitFor(ctx, func(e signaling.Envelope) bool { return e.Type == signaling.TypeParticipantUpdated }); err != nil {
		t.Fatal(err)
	}
	if err := ada.sess.Act(ctx, string(rooms.ActAcceptInvite), struct{}{}); err != nil {
		t.Fatal(err)
	}
	post := func(p *person, path, body string) {
		t.Helper()
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, ts.BaseURL+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+p.api.Token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := ts.http.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("POST %s: %d %s", path, resp.StatusCode, b)
		}
	}
	post(ada, "/api/v1/reports", `{"member_id":"`+string(bob.id)+`","reason":"too loud"}`)
	starts := time.Now().Add(48 * time.Hour).UTC().Format(time.RFC3339)
	post(ada, "/api/v1/events", `{"title":"Ada's talk","starts_at":"`+starts+`"}`)

	files := exportFiles(t, ctx, ts, ada)
	for _, name := range []string{"rooms_joined.json", "chat_messages.json", "events_hosted.json", "event_rsvps.json", "reports_made.json", "moderation_received.json"} {
		if _, ok := files[name]; !ok {
			t.Errorf("the archive lacks %s", name)
		}
		if !strings.Contains(files["README.md"], "`"+name+"`") {
			t.Errorf("README.md does not explain %s", name)
		}
	}
	var joined []exportAttendance
	var chat []exportChat
	var reports []exportReport
	var mod []exportModAction
	var events []exportEvent
	for name, v := range map[string]any{"rooms_joined.json": &joined, "chat_messages.json": &chat, "reports_made.json": &reports,
		"moderation_received.json": &mod, "events_hosted.json": &events} {
		if err := json.Unmarshal([]byte(files[name]), v); err != nil {
			t.Fatalf("%s: %v: %s", name, err, files[name])
		}
	}
	if len(joined) != 1 || joined[0].RoomID != room.ID || joined[0].OnStageAt == nil {
		t.Errorf("rooms_joined.json = %+v, want Bob's room, spoken in", joined)
	}
	if len(chat) != 2 || chat[0].Body != "ada two" || chat[1].Body != "ada one" {
		t.Errorf("chat_messages.json = %+v, want Ada's two, latest first", chat)
	}
	if len(reports) != 1 || reports[0].MemberID == nil || *reports[0].MemberID != bob.id {
		t.Errorf("reports_made.json = %+v", reports)
	}
	var actions []string
	for _, a := range mod {
		actions = append(actions, string(a.Action))
	}
	if strings.Join(actions, ",") != "invite_accepted,invited" && strings.Join(actions, ",") != "invited,invite_accepted" {
		t.Errorf("moderation_received.json = %+v", mod)
	}
	if len(events) != 1 || events[0].Title != "Ada's talk" {
		t.Errorf("events_hosted.json = %+v", events)
	}
	for name, b := range files {
		if strings.Contains(b, "bob's own words") {
			t.Errorf("%s holds Bob's chat message", name)
		}
	}
}

// Every section reads its store a page at a time: a member with more
// messages than a page exports them all, once each, in order.
func TestExportPagesThroughManyChatMessages(t *testing.T) {
	st, err := rooms.OpenSQLite(t.Context(), filepath.Join(t.TempDir(), "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ada := rooms.NewUserID()
	room := rooms.Room{ID: rooms.NewRoomID(), Title: "busy", CreatedBy: ada, CreatedAt: time.Now()}
	if err := st.CreateRoom(t.Context(), room); err != nil {
		t.Fatal(err)
	}
	const n = 2*exportPage + 7
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range n {
		// Ties every few messages, which paging must not trip on.
		m := rooms.ChatMessage{ID: rooms.NewMessageID(), Room: room.ID, Author: ada, Body: fmt.Sprint(i), CreatedAt: at.Add(time.Duration(i/3) * time.Millisecond)}
		if _, err := st.AddChatMessage(t.Context(), m); err != nil {
			t.Fatal(err)
		}
	}
	var chat members.Section
	for _, s := range roomDataSections(st, nil) {
		if s.File == "chat_messages.json" {
			chat = s
		}
	}
	seen := map[string]bool{}
	var order []time.Time
	err = chat.Items(t.Context(), ada, func(item any) error {
		m := item.(exportChat)
		if seen[m.Body] {
			t.Fatalf("message %s exported twice", m.Body)
		}
		seen[m.Body] = true
		order = append(order, m.CreatedAt)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(seen) != n {
		t.Errorf("%d messages exported, want %d", len(seen), n)
	}
	for i := 1; i < len(order); i++ {
		if order[i].After(order[i-1]) {
			t.Fatalf("message %d is newer than the one before it", i)
		}
	}
}
