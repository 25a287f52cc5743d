package signaling

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/parley-audio/parley/rooms"
)

func TestDecodeChat(t *testing.T) {
	for _, tc := range []struct {
		name, frame, code string
		want              chatRequest
	}{
		{name: "a message", frame: `{"type":"chat_send","id":"1","payload":{"body":"hi there"}}`, want: chatRequest{Body: "hi there"}},
		{name: "an empty body is the service's to refuse", frame: `{"type":"chat_send","payload":{"body":""}}`, want: chatRequest{}},
		{name: "a deletion", frame: `{"type":"chat_delete","payload":{"message_id":"msg_x"}}`, want: chatRequest{MessageID: "msg_x"}},
		{name: "chat off", frame: `{"type":"set_chat","payload":{"enabled":false}}`, want: chatRequest{}},
		{name: "chat on", frame: `{"type":"set_chat","payload":{"enabled":true}}`, want: chatRequest{Enabled: true}},
		{name: "no body", frame: `{"type":"chat_send","payload":{}}`, code: CodeInvalidMessage},
		{name: "no payload", frame: `{"type":"chat_send"}`, code: CodeInvalidMessage},
		{name: "a null body", frame: `{"type":"chat_send","payload":{"body":null}}`, code: CodeInvalidMessage},
		{name: "a body that is not a string", frame: `{"type":"chat_send","payload":{"body":5}}`, code: CodeInvalidMessage},
		{name: "an unknown field", frame: `{"type":"chat_send","payload":{"body":"x","to":"usr_a"}}`, code: CodeInvalidMessage},
		{name: "no message_id", frame: `{"type":"chat_delete","payload":{}}`, code: CodeInvalidMessage},
		{name: "an empty message_id", frame: `{"type":"chat_delete","payload":{"message_id":""}}`, code: CodeInvalidMessage},
		{name: "a message_id that is not a string", frame: `{"type":"chat_delete","payload":{"message_id":["msg_x"]}}`, code: CodeInvalidMessage},
		{name: "no enabled", frame: `{"type":"set_chat","payload":{}}`, code: CodeInvalidMessage},
		{name: "enabled as a string", frame: `{"type":"set_chat","payload":{"enabled":"false"}}`, code: CodeInvalidMessage},
		{name: "malformed", frame: `{"type":"chat_send","payload":{"body":"x"`, code: CodeInvalidJSON},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, perr := decodeClient([]byte(tc.frame))
			if tc.code != "" {
				if perr == nil || perr.Code != tc.code {
					t.Fatalf("got %v, want code %s", perr, tc.code)
				}
				return
			}
			if perr != nil {
				t.Fatalf("refused: %v", perr)
			}
			if m.Chat == nil || *m.Chat != tc.want {
				t.Fatalf("decoded %+v, want %+v", m.Chat, tc.want)
			}
		})
	}
}

func TestEncodeChatEvents(t *testing.T) {
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		ev   rooms.Event
		typ  string
		want string
	}{
		{rooms.Event{Type: rooms.EventChatMessage, Chat: rooms.ChatMessage{ID: "msg_a", Room: "rm_r", Seq: 3, Author: "usr_a", AuthorName: "Ann", Body: "hi", CreatedAt: at}},
			TypeChatMessage, `{"message":{"id":"msg_a","room_id":"rm_r","seq":3,"author":{"id":"usr_a","display_name":"Ann"},"body":"hi","created_at":"2026-03-01T12:00:00Z"}}`},
		{rooms.Event{Type: rooms.EventChatMessage, Chat: rooms.ChatMessage{ID: "msg_a", Room: "rm_r", Seq: 4, Body: "kept", CreatedAt: at}},
			TypeChatMessage, `{"message":{"id":"msg_a","room_id":"rm_r","seq":4,"author":null,"body":"kept","created_at":"2026-03-01T12:00:00Z"}}`},
		{rooms.Event{Type: rooms.EventChatDeleted, By: "usr_m", Chat: rooms.ChatMessage{ID: "msg_a", Seq: 3}},
			TypeChatDeleted, `{"message_id":"msg_a","seq":3,"by":"usr_m"}`},
		{rooms.Event{Type: rooms.EventChatSettings, By: "usr_m"}, TypeChatSettings, `{"enabled":false,"by":"usr_m"}`},
	} {
		var env Envelope
		if err := json.Unmarshal(encodeEvent(tc.ev), &env); err != nil {
			t.Fatal(err)
		}
		if env.Type != tc.typ || env.Seq != 0 || string(env.Payload) != tc.want {
			t.Errorf("%s encodes as %s %d %s, want %s %s", tc.ev.Type, env.Type, env.Seq, env.Payload, tc.typ, tc.want)
		}
	}
}
