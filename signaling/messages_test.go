package signaling

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/parley-audio/parley/rooms"
)

func TestDecodeClient(t *testing.T) {
	for _, tc := range []struct {
		name, frame, code, typ, id string
	}{
		{name: "join", frame: `{"type":"join","id":"1","payload":{"room_id":"rm_x"}}`, typ: TypeJoin, id: "1"},
		{name: "ping without payload", frame: `{"type":"ping"}`, typ: TypePing},
		{name: "ping with null payload", frame: `{"type":"ping","payload":null}`, typ: TypePing},
		{name: "candidate end", frame: `{"type":"candidate","payload":{"candidate":""}}`, typ: TypeCandidate},
		{name: "candidate full", frame: `{"type":"candidate","payload":{"candidate":"candidate:1 1 udp 1 127.0.0.1 9 typ host","sdp_mid":"0","sdp_mline_index":0,"username_fragment":"u"}}`, typ: TypeCandidate},
		{name: "whitespace around", frame: " \n{\"type\":\"leave\"}\n ", typ: TypeLeave},
		{name: "malformed", frame: `{"type":`, code: CodeInvalidJSON},
		{name: "not JSON at all", frame: `hello`, code: CodeInvalidJSON},
		{name: "array", frame: `[]`, code: CodeInvalidJSON},
		{name: "string", frame: `"join"`, code: CodeInvalidJSON},
		{name: "empty", frame: ``, code: CodeInvalidJSON},
		{name: "two objects", frame: `{"type":"ping"}{"type":"ping"}`, code: CodeInvalidJSON},
		{name: "trailing garbage", frame: `{"type":"ping"} x`, code: CodeInvalidJSON},
		{name: "no type", frame: `{"id":"3"}`, code: CodeInvalidMessage, id: "3"},
		{name: "type not a string", frame: `{"type":5}`, code: CodeInvalidMessage},
		{name: "unknown top-level field", frame: `{"type":"ping","id":"9","x":1}`, code: CodeInvalidMessage, id: "9"},
		{name: "unknown payload field", frame: `{"type":"join","payload":{"room_id":"r","x":1}}`, code: CodeInvalidMessage},
		{name: "payload wrong type", frame: `{"type":"join","payload":{"room_id":1}}`, code: CodeInvalidMessage},
		{name: "payload not an object", frame: `{"type":"offer","payload":"v=0"}`, code: CodeInvalidMessage},
		{name: "missing room", frame: `{"type":"join","payload":{}}`, code: CodeInvalidMessage},
		{name: "missing sdp", frame: `{"type":"answer","payload":{"sdp":""}}`, code: CodeInvalidMessage},
		{name: "unknown type", frame: `{"type":"dance","id":"7"}`, code: CodeUnknownType, id: "7"},
		{name: "server-only type", frame: `{"type":"welcome"}`, code: CodeUnknownType},
		{name: "client may not set reply_to", frame: `{"type":"ping","reply_to":"1"}`, code: CodeInvalidMessage},
		{name: "long id", frame: `{"type":"ping","id":"` + strings.Repeat("i", 65) + `"}`, code: CodeInvalidMessage},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, perr := decodeClient([]byte(tc.frame))
			if tc.code == "" {
				if perr != nil {
					t.Fatalf("refused: %v", perr)
				}
				if m.Type != tc.typ {
					t.Fatalf("type %q, want %q", m.Type, tc.typ)
				}
			} else if perr == nil || perr.Code != tc.code {
				t.Fatalf("got %v, want code %s", perr, tc.code)
			}
			if m.ID != tc.id {
				t.Fatalf("id %q, want %q", m.ID, tc.id)
			}
		})
	}
}

var knownCodes = map[string]bool{CodeInvalidJSON: true, CodeInvalidMessage: true, CodeUnknownType: true}

// FuzzDecodeClient: no frame panics the decoder; every refusal carries one
// of the decoding codes; everything accepted is a known type with its
// payload, and re-encodes to an equivalent message.
func FuzzDecodeClient(f *testing.F) {
	for _, s := range []string{
		`{"type":"join","id":"1","payload":{"room_id":"rm_abc"}}`, `{"type":"offer","payload":{"sdp":"v=0"}}`,
		`{"type":"candidate","payload":{"candidate":"","sdp_mline_index":0}}`, `{"type":"ping"}`, `[`, `{"type":"x"}`,
		`{"type":"chat_send","id":"2","payload":{"body":"hi"}}`, `{"type":"chat_delete","payload":{"message_id":"msg_a"}}`,
		`{"type":"set_chat","payload":{"enabled":false}}`, `{"type":"chat_send","payload":{"body":null}}`,
		`{"type":"raise_hand"}`, `{"type":"remove","payload":{"user_id":"usr_a","block":true}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, perr := decodeClient(data)
		if perr != nil {
			if !knownCodes[perr.Code] {
				t.Fatalf("unexpected code %q", perr.Code)
			}
			return
		}
		switch m.Type {
		case TypeJoin:
			if m.Join == nil || m.Join.RoomID == "" {
				t.Fatal("join without room")
			}
		case TypeOffer, TypeAnswer:
			if m.SDP == nil || m.SDP.SDP == "" {
				t.Fatal("sdp message without sdp")
			}
		case TypeCandidate:
			if m.Candidate == nil {
				t.Fatal("candidate without payload")
			}
		case TypeLeave, TypePing, TypeEndRoom:
		case TypeChatSend, TypeChatDelete, TypeSetChat:
			if m.Chat == nil || (m.Type == TypeChatDelete && m.Chat.MessageID == "") {
				t.Fatal("chat message without its payload")
			}
		default:
			if m.Action != nil && rooms.ActionKind(m.Type).Valid() {
				break
			}
			t.Fatalf("accepted unknown type %q", m.Type)
		}
		if len(m.ID) > maxIDLen {
			t.Fatal("accepted a long id")
		}
	})
}

func TestEncodeEventShapes(t *testing.T) {
	frame := encode(TypeSpeaking, "", 0, SpeakingPayload{UserID: "usr_a", Speaking: true})
	var env map[string]any
	if err := json.Unmarshal(frame, &env); err != nil {
		t.Fatal(err)
	}
	if env["type"] != "speaking" || env["seq"] != nil || env["reply_to"] != nil {
		t.Fatalf("unexpected envelope %s", frame)
	}
	if p := env["payload"].(map[string]any); p["user_id"] != "usr_a" || p["speaking"] != true {
		t.Fatalf("unexpected payload %s", frame)
	}
}
