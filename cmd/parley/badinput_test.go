package main

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/parley-audio/parley/api"
	"github.com/parley-audio/parley/rooms"
	"github.com/parley-audio/parley/signaling"
	"github.com/parley-audio/parley/signaling/client"
)

// Every kind of bad input gets its documented error while a speaker keeps
// talking to a listener, who must still hear every packet.
func TestBadInputGetsTheDocumentedErrorAndLosesNothing(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	ts := startServer(t)
	rec := loadSpeech(t)

	speaker, listeners := openRoom(t, ctx, ts, "Under attack", "Listener")
	listener := listeners[0]
	w, err := speaker.sess.NewSender()
	if err != nil {
		t.Fatal(err)
	}
	warmUp(t, ctx, speaker, w, []*person{listener})

	attacker := ts.signIn(t, ctx, "Attacker")
	ended, err := attacker.api.CreateRoom(ctx, "Already over", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := attacker.api.EndRoom(ctx, ended.ID); err != nil {
		t.Fatal(err)
	}

	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		attack(t, ctx, ts, attacker, speaker.room, ended.ID)
	}()
	first := sendRecording(t, ctx, w, rec, nil)
	wg.Wait()

	expectRecording(t, ctx, listener, speaker, rec, first)
	// The good sessions are still up and answering.
	for _, p := range []*person{speaker, listener} {
		if _, err := p.sess.Request(ctx, signaling.TypePing, struct{}{}); err != nil {
			t.Errorf("%s's session stopped answering: %v", p.name, err)
		}
	}
}

// attack sends every kind of bad input. It runs on its own goroutine, so
// it reports with Errorf only.
func attack(t *testing.T, ctx context.Context, ts *testServer, attacker *person, live, ended rooms.RoomID) {
	dial := func(token string) *client.Session {
		s, err := client.Dial(ctx, ts.BaseURL, token, client.Options{Loopback: true})
		if err != nil {
			t.Errorf("dial: %v", err)
			return nil
		}
		return s
	}
	s := dial(attacker.api.Token)
	if s == nil {
		return
	}
	defer s.Close()

	// expectError sends raw bytes and waits for the error with that code.
	var mu sync.Mutex
	seen := 0
	expectError := func(name string, typ websocket.MessageType, frame []byte, code string) {
		t.Helper()
		mu.Lock()
		defer mu.Unlock()
		if err := s.SendRaw(ctx, typ, frame); err != nil {
			t.Errorf("%s: send: %v", name, err)
			return
		}
		wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		count := 0
		env, err := s.WaitFor(wctx, func(e signaling.Envelope) bool {
			if e.Type != signaling.TypeError {
				return false
			}
			count++
			return count > seen
		})
		seen++
		if err != nil {
			t.Errorf("%s: no error message: %v", name, err)
			return
		}
		var p signaling.ErrorPayload
		_ = json.Unmarshal(env.Payload, &p)
		if p.Code != code {
			t.Errorf("%s: got error %q (%s), want %q", name, p.Code, p.Message, code)
		}
	}
	text := websocket.MessageText
	expectError("malformed JSON", text, []byte(`{"type":"join","payload":`), signaling.CodeInvalidJSON)
	expectError("not an object", text, []byte(`[1,2,3]`), signaling.CodeInvalidJSON)
	expectError("unknown type", text, []byte(`{"type":"dance"}`), signaling.CodeUnknownType)
	expectError("unknown field", text, []byte(`{"type":"ping","colour":"red"}`), signaling.CodeInvalidMessage)
	expectError("wrong type", text, []byte(`{"type":"join","payload":{"room_id":42}}`), signaling.CodeInvalidMessage)
	expectError("binary frame", websocket.MessageBinary, []byte{0, 1, 2}, signaling.CodeInvalidMessage)
	expectError("oversize message", text, []byte(`{"type":"ping","id":"`+strings.Repeat("x", 70<<10)+`"}`), signaling.CodeMessageTooLarge)
	expectError("offer before join", text, []byte(`{"type":"offer","payload":{"sdp":"v=0"}}`), signaling.CodeNotJoined)
	expectError("answer before join", text, []byte(`{"type":"answer","payload":{"sdp":"v=0"}}`), signaling.CodeNotJoined)
	expectError("malformed room id", text, []byte(`{"type":"join","payload":{"room_id":"1"}}`), signaling.CodeRoomNotFound)
	expectError("room that does not exist", text, []byte(`{"type":"join","payload":{"room_id":"`+string(rooms.NewRoomID())+`"}}`), signaling.CodeRoomNotFound)
	expectError("room that has ended", text, []byte(`{"type":"join","payload":{"room_id":"`+string(ended)+`"}}`), signaling.CodeRoomEnded)

	// Joined now: media in the wrong state, and bad media.
	if _, err := s.Join(ctx, string(live)); err != nil {
		t.Errorf("join after bad input: %v", err)
		return
	}
	seen = countErrors(s)
	expectError("join of another room", text, []byte(`{"type":"join","payload":{"room_id":"`+string(rooms.NewRoomID())+`"}}`), signaling.CodeAlreadyJoined)
	// Joining the same room again is a resync: a fresh snapshot, no error.
	if j, err := s.Join(ctx, string(live)); err != nil || j.Self.UserID != attacker.id {
		t.Errorf("resync join: %+v, %v", j.Self, err)
	}
	expectError("answer without an offer", text, []byte(`{"type":"answer","payload":{"sdp":"v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n"}}`), signaling.CodeNoPendingOffer)
	expectError("invalid SDP", text, []byte(`{"type":"offer","payload":{"sdp":"this is not SDP"}}`), signaling.CodeInvalidSDP)
	expectError("invalid candidate", text, []byte(`{"type":"candidate","payload":{"candidate":"candidate:garbage"}}`), signaling.CodeInvalidCandidate)
	// After all that, the same session still works.
	if _, err := s.Request(ctx, signaling.TypePing, struct{}{}); err != nil {
		t.Errorf("session unusable after bad input: %v", err)
	}

	// Over the hard limit the connection is closed with 1009, and only it.
	big := dial(attacker.api.Token)
	if big != nil {
		_ = big.SendRaw(ctx, text, []byte(`{"type":"ping","id":"`+strings.Repeat("x", 2<<20)+`"}`))
		_, err := big.WaitFor(ctx, func(signaling.Envelope) bool { return false })
		if websocket.CloseStatus(errors.Unwrap(err)) != websocket.StatusMessageTooBig && !strings.Contains(err.Error(), "1009") {
			t.Errorf("over 1 MiB: want the connection closed with 1009, got %v", err)
		}
		big.CloseNow()
	}

	// Tokens: expired and forged ones are refused with their code.
	past, _ := api.NewTokens([]byte(testSecret), time.Minute, func() time.Time { return time.Now().Add(-2 * time.Hour) })
	expired, _, _ := past.Issue(rooms.Member{ID: attacker.id, DisplayName: "Attacker"})
	other, _ := api.NewTokens([]byte("another-secret-entirely-0123456789abcdef"), time.Hour, nil)
	forged, _, _ := other.Issue(rooms.Member{ID: attacker.id, DisplayName: "Attacker"})
	for name, tc := range map[string]struct{ token, code string }{
		"expired token": {expired, signaling.CodeTokenExpired},
		"forged token":  {forged, signaling.CodeUnauthorized},
		"no token":      {"", signaling.CodeUnauthorized},
	} {
		_, err := client.Dial(ctx, ts.BaseURL, tc.token, client.Options{})
		if !client.IsCode(err, tc.code) {
			t.Errorf("%s: got %v, want error %s", name, err, tc.code)
		}
	}

	// REST bodies with wrong types or unknown fields.
	for name, body := range map[string]string{
		"wrong type":    `{"title": 7}`,
		"unknown field": `{"title": "ok", "owner": "me"}`,
	} {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, ts.BaseURL+"/api/v1/rooms", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+attacker.api.Token)
		resp, err := ts.http.Do(req)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		var e struct {
			Error struct{ Code, Message string } `json:"error"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&e)
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest || e.Error.Code != "invalid_request" {
			t.Errorf("REST %s: got %d %q, want 400 invalid_request", name, resp.StatusCode, e.Error.Code)
		}
	}
}

func countErrors(s *client.Session) int {
	n := 0
	for _, e := range s.Events() {
		if e.Type == signaling.TypeError {
			n++
		}
	}
	return n
}
