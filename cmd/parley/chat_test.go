package main

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/parley-audio/parley/rooms"
	"github.com/parley-audio/parley/signaling"
	"github.com/parley-audio/parley/signaling/client"
)

// joinChat dials signaling and joins the room without media: chat needs
// none.
func (p *person) joinChat(t *testing.T, ctx context.Context, ts *testServer, room rooms.RoomID) signaling.JoinedPayload {
	t.Helper()
	s, err := client.Dial(ctx, ts.BaseURL, p.api.Token, client.Options{Loopback: true})
	if err != nil {
		t.Fatalf("%s dial: %v", p.name, err)
	}
	p.sess = s
	t.Cleanup(func() { _ = s.Close() })
	j, err := s.Join(ctx, string(room))
	if err != nil {
		t.Fatalf("%s join: %v", p.name, err)
	}
	return j
}

// chat sends a chat message and returns the stored message from the ok.
func (p *person) chat(t *testing.T, ctx context.Context, body string) rooms.ChatMessageJSON {
	t.Helper()
	env, err := p.sess.Request(ctx, signaling.TypeChatSend, map[string]string{"body": body})
	if err != nil {
		t.Fatalf("%s says %q: %v", p.name, body, err)
	}
	var sent signaling.ChatSentPayload
	if env.Type != signaling.TypeOK || json.Unmarshal(env.Payload, &sent) != nil {
		t.Fatalf("%s says %q: answered %s %s", p.name, body, env.Type, env.Payload)
	}
	return sent.Message
}

// waitChat waits until p has seen a chat event of typ for which match
// holds, and returns its payload.
func waitChat[T any](t *testing.T, ctx context.Context, p *person, typ string, match func(T) bool) T {
	t.Helper()
	var got T
	_, err := p.sess.WaitFor(ctx, func(e signaling.Envelope) bool {
		var v T
		if e.Type != typ || e.Seq != 0 || json.Unmarshal(e.Payload, &v) != nil || !match(v) {
			return false
		}
		got = v
		return true
	})
	if err != nil {
		t.Fatalf("%s never saw the %s: %v", p.name, typ, err)
	}
	return got
}

// wantRefusal checks that a message is answered with the error code.
func wantRefusal(t *testing.T, ctx context.Context, p *person, typ string, payload any, code string) {
	t.Helper()
	_, err := p.sess.Request(ctx, typ, payload)
	var perr *client.ProtocolError
	if !errors.As(err, &perr) || perr.Code != code {
		t.Fatalf("%s's %s %v: err = %v, want %s", p.name, typ, payload, err, code)
	}
}

// Chat over signaling between two people: messages, chat off and on,
// deletions, and every refusal, with the REST history agreeing.
func TestChatOverSignaling(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	ts := startServer(t, func(c *serveConfig) { c.ChatRate, c.ChatBurst = 6, 3 })
	host := ts.signIn(t, ctx, "Host")
	room, err := host.api.CreateRoom(ctx, "Chatty", "")
	if err != nil {
		t.Fatal(err)
	}
	if j := host.joinChat(t, ctx, ts, room.ID); !j.ChatEnabled {
		t.Error("joined says chat is off in a new room")
	}
	bob := ts.signIn(t, ctx, "Bob")
	bob.joinChat(t, ctx, ts, room.ID)

	sent := bob.chat(t, ctx, "hello from the audience")
	if sent.Seq != 1 || sent.Author == nil || sent.Author.ID != bob.id || sent.Body != "hello from the audience" {
		t.Errorf("bob's ok carries %+v", sent)
	}
	for _, p := range []*person{host, bob} {
		got := waitChat(t, ctx, p, signaling.TypeChatMessage, func(m signaling.ChatMessagePayload) bool { return m.Message.ID == sent.ID })
		if got.Message.Author.DisplayName != "Bob" || got.Message.Seq != 1 {
			t.Errorf("%s saw %+v", p.name, got.Message)
		}
	}
	mine := host.chat(t, ctx, "welcome, Bob")

	// Chat off: nobody chats until it is on again.
	wantRefusal(t, ctx, bob, signaling.TypeSetChat, map[string]bool{"enabled": false}, signaling.CodeForbidden)
	if _, err := host.sess.Request(ctx, signaling.TypeSetChat, map[string]bool{"enabled": false}); err != nil {
		t.Fatal(err)
	}
	for _, p := range []*person{host, bob} {
		waitChat(t, ctx, p, signaling.TypeChatSettings, func(s signaling.ChatSettingsPayload) bool { return !s.Enabled && s.By == host.id })
	}
	wantRefusal(t, ctx, bob, signaling.TypeChatSend, map[string]string{"body": "anyone?"}, signaling.CodeChatDisabled)
	// A resync tells the chat's state as it is now.
	if j, err := bob.sess.Join(ctx, string(room.ID)); err != nil || j.ChatEnabled {
		t.Errorf("resync: chat_enabled %v (%v), want false", j.ChatEnabled, err)
	}
	if _, err := host.sess.Request(ctx, signaling.TypeSetChat, map[string]bool{"enabled": true}); err != nil {
		t.Fatal(err)
	}
	again := bob.chat(t, ctx, "back")

	// Deletions: a listener cannot delete the host's; the host deletes
	// the listener's, and everyone is told.
	wantRefusal(t, ctx, bob, signaling.TypeChatDelete, map[string]string{"message_id": string(mine.ID)}, signaling.CodeForbidden)
	if _, err := host.sess.Request(ctx, signaling.TypeChatDelete, map[string]string{"message_id": string(again.ID)}); err != nil {
		t.Fatal(err)
	}
	for _, p := range []*person{host, bob} {
		waitChat(t, ctx, p, signaling.TypeChatDeleted, func(d signaling.ChatDeletedPayload) bool {
			return d.MessageID == again.ID && d.Seq == again.Seq && d.By == host.id
		})
	}

	// Bad input is refused and changes nothing.
	for _, c := range []struct {
		typ     string
		payload any
		code    string
	}{
		{signaling.TypeChatSend, map[string]any{}, signaling.CodeInvalidMessage},
		{signaling.TypeChatSend, map[string]any{"body": 1}, signaling.CodeInvalidMessage},
		{signaling.TypeChatSend, map[string]any{"body": "x", "to": "all"}, signaling.CodeInvalidMessage},
		{signaling.TypeChatSend, map[string]string{"body": ""}, signaling.CodeInvalidMessage},
		{signaling.TypeChatSend, map[string]string{"body": string(make([]byte, rooms.MaxChatLen+1))}, signaling.CodeInvalidMessage},
		{signaling.TypeChatDelete, map[string]string{"message_id": "msg_nope"}, signaling.CodeMessageNotFound},
		{signaling.TypeChatDelete, map[string]string{"message_id": string(rooms.NewMessageID())}, signaling.CodeMessageNotFound},
		{signaling.TypeSetChat, map[string]string{"enabled": "yes"}, signaling.CodeInvalidMessage},
	} {
		wantRefusal(t, ctx, host, c.typ, c.payload, c.code)
	}
	// The rate: 3 at once (bob has sent 2 and been refused 1), then no more.
	bob.chat(t, ctx, "three")
	wantRefusal(t, ctx, bob, signaling.TypeChatSend, map[string]string{"body": "four"}, signaling.CodeRateLimited)

	// Someone not in a room cannot chat.
	out := ts.signIn(t, ctx, "Out")
	s, err := client.Dial(ctx, ts.BaseURL, out.api.Token, client.Options{Loopback: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	out.sess = s
	wantRefusal(t, ctx, out, signaling.TypeChatSend, map[string]string{"body": "hi"}, signaling.CodeNotJoined)

	// The REST history agrees: in order, without the deleted message.
	page, err := host.api.ChatHistory(ctx, room.ID, "")
	if err != nil {
		t.Fatal(err)
	}
	var bodies []string
	for _, m := range page.Messages {
		bodies = append(bodies, m.Body)
	}
	if want := []string{"hello from the audience", "welcome, Bob", "three"}; len(bodies) != 3 || bodies[0] != want[0] || bodies[1] != want[1] || bodies[2] != want[2] {
		t.Errorf("history = %q, want %q", bodies, want)
	}
}

// Two server processes on one Redis: a message sent on one reaches the
// room's people on the other, and the chat rate is one limit across both.
func TestChatAcrossTwoServersOnRedis(t *testing.T) {
	url, prefix := testRedis(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	dir := t.TempDir()
	shared := func(c *serveConfig) {
		c.RedisURL, c.RedisPrefix, c.DataDir = url, prefix, dir
		c.Cluster.Placement = signaling.PlaceLocal
		c.ChatRate, c.ChatBurst = 6, 2
	}
	a := startServer(t, shared)
	b := startServer(t, shared)
	host := a.signIn(t, ctx, "Host on A")
	room, err := host.api.CreateRoom(ctx, "Across", "")
	if err != nil {
		t.Fatal(err)
	}
	host.joinChat(t, ctx, a, room.ID)
	guest := b.signIn(t, ctx, "Guest on B")
	guest.joinChat(t, ctx, b, room.ID)

	m := guest.chat(t, ctx, "from B")
	got := waitChat(t, ctx, host, signaling.TypeChatMessage, func(p signaling.ChatMessagePayload) bool { return p.Message.ID == m.ID })
	if got.Message.Body != "from B" || got.Message.Author.DisplayName != "Guest on B" {
		t.Errorf("A saw %+v", got.Message)
	}
	if _, err := host.sess.Request(ctx, signaling.TypeSetChat, map[string]bool{"enabled": false}); err != nil {
		t.Fatal(err)
	}
	waitChat(t, ctx, guest, signaling.TypeChatSettings, func(s signaling.ChatSettingsPayload) bool { return !s.Enabled })
	if _, err := host.sess.Request(ctx, signaling.TypeSetChat, map[string]bool{"enabled": true}); err != nil {
		t.Fatal(err)
	}
	waitChat(t, ctx, guest, signaling.TypeChatSettings, func(s signaling.ChatSettingsPayload) bool { return s.Enabled })

	// The guest used one of two; one more on B, then none on A either.
	guest.chat(t, ctx, "second")
	s, err := client.Dial(ctx, a.BaseURL, guest.api.Token, client.Options{Loopback: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// The same member joining through A takes the place over from B.
	if _, err := s.Join(ctx, string(room.ID)); err != nil {
		t.Fatal(err)
	}
	onA := &person{name: "Guest on A", sess: s}
	wantRefusal(t, ctx, onA, signaling.TypeChatSend, map[string]string{"body": "third"}, signaling.CodeRateLimited)
}
