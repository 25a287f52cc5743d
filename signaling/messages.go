package signaling

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/parley-audio/parley/rooms"
)

// ProtocolVersion is the version of docs/protocol.md this package speaks.
const ProtocolVersion = 1

// Subprotocol is the WebSocket subprotocol that names ProtocolVersion.
const Subprotocol = "parley.v1"

// TokenSubprotocolPrefix marks the subprotocol that carries a browser's
// token, since browsers cannot set headers on a WebSocket.
const TokenSubprotocolPrefix = "parley-token."

// Client message types.
const (
	TypeJoin      = "join"
	TypeOffer     = "offer"
	TypeAnswer    = "answer"
	TypeCandidate = "candidate"
	TypeLeave     = "leave"
	TypePing      = "ping"
	// TypeEndRoom ends the room (moderators). The stage actions are the
	// rooms.ActionKind names: raise_hand, invite, mute, ...
	TypeEndRoom = "end_room"
	// In-room chat (chat.go).
	TypeChatSend   = "chat_send"
	TypeChatDelete = "chat_delete"
	TypeSetChat    = "set_chat"
)

// Server message types. Room events use the rooms.EventType names.
const (
	TypeWelcome = "welcome"
	TypeJoined  = "joined"
	TypeLeft    = "left"
	TypePong    = "pong"
	TypeError   = "error"
	TypeGoodbye = "goodbye"
	// TypeOK acknowledges an action.
	TypeOK = "ok"
	// TypeRedirect sends the client to another node of the cluster: in
	// reply to a join another node should serve, or unasked when this
	// node is draining.
	TypeRedirect = "redirect"
	// TypeEvents carries a batch of audience events, in seq order.
	TypeEvents             = "events"
	TypeParticipantJoined  = string(rooms.EventParticipantJoined)
	TypeParticipantUpdated = string(rooms.EventParticipantUpdated)
	TypeParticipantLeft    = string(rooms.EventParticipantLeft)
	TypeRoomUpdated        = string(rooms.EventRoomUpdated)
	TypeSpeaking           = string(rooms.EventSpeaking)
	TypeRoomEnded          = string(rooms.EventRoomEnded)
	TypeChatMessage        = string(rooms.EventChatMessage)
	TypeChatDeleted        = string(rooms.EventChatDeleted)
	TypeChatSettings       = string(rooms.EventChatSettings)
)

// Error codes sent in error messages (docs/protocol.md, "Errors").
const (
	CodeInvalidJSON      = "invalid_json"
	CodeInvalidMessage   = "invalid_message"
	CodeUnknownType      = "unknown_type"
	CodeMessageTooLarge  = "message_too_large"
	CodeRateLimited      = "rate_limited"
	CodeNotJoined        = "not_joined"
	CodeAlreadyJoined    = "already_joined"
	CodeRoomNotFound     = "room_not_found"
	CodeRoomEnded        = "room_ended"
	CodeInvalidSDP       = "invalid_sdp"
	CodeNoPendingOffer   = "no_pending_offer"
	CodeInvalidCandidate = "invalid_candidate"
	CodeUnauthorized     = "unauthorized"
	CodeTokenExpired     = "token_expired"
	CodeInternal         = "internal"
	// Stage errors (docs/stage.md).
	CodeForbidden      = "forbidden"
	CodeNotInRoom      = "not_in_room"
	CodeStageFull      = "stage_full"
	CodeHandsDisabled  = "hands_disabled"
	CodeNotInvited     = "not_invited"
	CodeAlreadyOnStage = "already_on_stage"
	CodeNotOnStage     = "not_on_stage"
	CodeBlocked        = "blocked"
	// Chat errors.
	CodeChatDisabled    = "chat_disabled"
	CodeMessageNotFound = "message_not_found"
)

// Redirect reasons.
const (
	RedirectPlacement = "placement"
	RedirectDraining  = "draining"
)

// Goodbye reasons.
const (
	ReasonServerShutdown = "server_shutdown"
	ReasonReplaced       = "replaced"
	ReasonSlowConsumer   = "slow_consumer"
	// ReasonSignedOut: the sign-in session of the connection's token was
	// signed out (the close code is 4401).
	ReasonSignedOut = "signed_out"
)

// maxIDLen bounds the client's message id, which is echoed back.
const maxIDLen = 64

// Envelope is one message on the wire, in either direction.
type Envelope struct {
	Type    string          `json:"type"`
	ID      string          `json:"id,omitempty"`
	ReplyTo string          `json:"reply_to,omitempty"`
	Seq     uint64          `json:"seq,omitempty"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

// clientEnvelope is what a client may send: no reply_to, no seq.
type clientEnvelope struct {
	Type    string          `json:"type"`
	ID      string          `json:"id,omitempty"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

// JoinPayload is the payload of join. Ticket comes from a redirect: it
// lets the join be served by the node the redirect named.
type JoinPayload struct {
	RoomID string `json:"room_id"`
	Ticket string `json:"ticket,omitempty"`
}

// RedirectPayload is the payload of redirect: connect to URL (a signaling
// WebSocket) and join RoomID there with Ticket.
type RedirectPayload struct {
	RoomID rooms.RoomID `json:"room_id"`
	URL    string       `json:"url"`
	NodeID rooms.NodeID `json:"node_id"`
	Reason string       `json:"reason"`
	Ticket string       `json:"ticket"`
}

// SDPPayload is the payload of offer and answer.
type SDPPayload struct {
	SDP string `json:"sdp"`
}

// CandidatePayload is the payload of candidate. An empty Candidate means
// the end of candidates.
type CandidatePayload struct {
	Candidate        string  `json:"candidate"`
	SDPMid           *string `json:"sdp_mid,omitempty"`
	SDPMLineIndex    *uint16 `json:"sdp_mline_index,omitempty"`
	UsernameFragment *string `json:"username_fragment,omitempty"`
}

// EmptyPayload is the payload of leave and ping.
type EmptyPayload struct{}

// ActionPayload is the payload of the stage actions. Which fields an
// action takes is checked after decoding: user_id for actions on someone,
// block with remove, enabled with set_hands.
type ActionPayload struct {
	UserID  *string `json:"user_id,omitempty"`
	Block   *bool   `json:"block,omitempty"`
	Enabled *bool   `json:"enabled,omitempty"`
}

// ErrorPayload is the payload of error.
type ErrorPayload struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// WelcomePayload is the payload of welcome.
type WelcomePayload struct {
	Protocol        int             `json:"protocol"`
	SessionID       rooms.SessionID `json:"session_id"`
	User            rooms.MemberRef `json:"user"`
	PingIntervalMS  int64           `json:"ping_interval_ms"`
	MaxMessageBytes int             `json:"max_message_bytes"`
}

// JoinedPayload is the payload of joined.
type JoinedPayload struct {
	Room         rooms.RoomJSON          `json:"room"`
	Self         rooms.ParticipantJSON   `json:"self"`
	Participants []rooms.ParticipantJSON `json:"participants"`
	Speaking     []rooms.UserID          `json:"speaking"`
	HandsEnabled bool                    `json:"hands_enabled"`
	StageCap     int                     `json:"stage_cap"`
	// ChatEnabled is whether the room's chat is on (chat.go).
	ChatEnabled bool `json:"chat_enabled"`
}

// ParticipantJoinedPayload is the payload of participant_joined.
type ParticipantJoinedPayload struct {
	Participant rooms.ParticipantJSON `json:"participant"`
}

// ParticipantUpdatedPayload is the payload of participant_updated.
type ParticipantUpdatedPayload struct {
	Participant rooms.ParticipantJSON `json:"participant"`
	Cause       rooms.Cause           `json:"cause"`
	By          rooms.UserID          `json:"by,omitempty"`
}

// ParticipantLeftPayload is the payload of participant_left.
type ParticipantLeftPayload struct {
	UserID  rooms.UserID `json:"user_id"`
	Reason  string       `json:"reason"`
	Blocked bool         `json:"blocked,omitempty"`
	By      rooms.UserID `json:"by,omitempty"`
}

// RoomUpdatedPayload is the payload of room_updated.
type RoomUpdatedPayload struct {
	HandsEnabled bool `json:"hands_enabled"`
}

// EventsPayload is the payload of events: a batch of event frames, each a
// whole message with its own type and seq.
type EventsPayload struct {
	Events []json.RawMessage `json:"events"`
}

// SpeakingPayload is the payload of speaking.
type SpeakingPayload struct {
	UserID   rooms.UserID `json:"user_id"`
	Speaking bool         `json:"speaking"`
}

// RoomEndedPayload is the payload of room_ended.
type RoomEndedPayload struct {
	RoomID rooms.RoomID `json:"room_id"`
	Reason string       `json:"reason"`
}

// LeftPayload is the payload of left.
type LeftPayload struct {
	RoomID rooms.RoomID `json:"room_id"`
}

// GoodbyePayload is the payload of goodbye.
type GoodbyePayload struct {
	Reason string `json:"reason"`
}

// ProtocolError is a client error with its protocol code. It is what the
// session sends back in an error message.
type ProtocolError struct {
	Code    string
	Message string
}

func (e *ProtocolError) Error() string { return e.Code + ": " + e.Message }

func protoErr(code, format string, args ...any) *ProtocolError {
	return &ProtocolError{Code: code, Message: fmt.Sprintf(format, args...)}
}

// clientMessage is a decoded, validated client message.
type clientMessage struct {
	Type string
	ID   string
	// Exactly one of these is set, by Type.
	Join      *JoinPayload
	SDP       *SDPPayload
	Candidate *CandidatePayload
	Action    *rooms.Action // Actor is filled in by the session
	Chat      *chatRequest
}

// decodeClient parses one client frame strictly: unknown fields, wrong
// types, trailing data and unknown message types are all refused. The id,
// when it could be read, is returned even on error so the reply can carry it.
func decodeClient(data []byte) (clientMessage, *ProtocolError) {
	var env clientEnvelope
	if err := decodeStrict(data, &env); err != nil {
		return clientMessage{ID: salvageID(data)}, err
	}
	m := clientMessage{Type: env.Type, ID: env.ID}
	if len(env.ID) > maxIDLen {
		m.ID = ""
		return m, protoErr(CodeInvalidMessage, "id must be at most %d characters", maxIDLen)
	}
	var perr *ProtocolError
	switch env.Type {
	case "":
		return m, protoErr(CodeInvalidMessage, "type is required")
	case TypeJoin:
		m.Join = new(JoinPayload)
		perr = decodePayload(env.Payload, m.Join)
		if perr == nil && m.Join.RoomID == "" {
			perr = protoErr(CodeInvalidMessage, "payload.room_id is required")
		}
	case TypeOffer, TypeAnswer:
		m.SDP = new(SDPPayload)
		perr = decodePayload(env.Payload, m.SDP)
		if perr == nil && m.SDP.SDP == "" {
			perr = protoErr(CodeInvalidMessage, "payload.sdp is required")
		}
	case TypeCandidate:
		m.Candidate = new(CandidatePayload)
		perr = decodePayload(env.Payload, m.Candidate)
	case TypeLeave, TypePing, TypeEndRoom:
		perr = decodePayload(env.Payload, &EmptyPayload{})
	case TypeChatSend, TypeChatDelete, TypeSetChat:
		m.Chat, perr = decodeChat(env.Type, env.Payload)
	default:
		if kind := rooms.ActionKind(env.Type); kind.Valid() {
			var p ActionPayload
			if perr = decodePayload(env.Payload, &p); perr == nil {
				m.Action, perr = actionOf(kind, p)
			}
			return m, perr
		}
		return m, protoErr(CodeUnknownType, "unknown message type %q", truncate(env.Type, 40))
	}
	return m, perr
}

// actionOf checks that an action's payload has exactly the fields it takes.
func actionOf(kind rooms.ActionKind, p ActionPayload) (*rooms.Action, *ProtocolError) {
	a := &rooms.Action{Kind: kind}
	takesTarget := kind.NeedsTarget() || kind == rooms.ActMute || kind == rooms.ActUnmute
	switch {
	case p.UserID != nil && !takesTarget:
		return nil, protoErr(CodeInvalidMessage, "payload.user_id does not go with %s", kind)
	case p.UserID == nil && kind.NeedsTarget():
		return nil, protoErr(CodeInvalidMessage, "payload.user_id is required for %s", kind)
	case p.Block != nil && kind != rooms.ActRemove:
		return nil, protoErr(CodeInvalidMessage, "payload.block goes only with remove")
	case (p.Enabled != nil) != (kind == rooms.ActSetHands):
		return nil, protoErr(CodeInvalidMessage, "payload.enabled goes with set_hands, and only there")
	}
	if p.UserID != nil {
		a.Target = rooms.UserID(*p.UserID)
	}
	if p.Block != nil {
		a.Block = *p.Block
	}
	if p.Enabled != nil {
		a.Enabled = *p.Enabled
	}
	return a, nil
}

func decodePayload(raw json.RawMessage, into any) *ProtocolError {
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		raw = []byte("{}")
	}
	if perr := decodeStrict(raw, into); perr != nil {
		if perr.Code == CodeInvalidJSON {
			perr.Code = CodeInvalidMessage
		}
		perr.Message = "payload: " + perr.Message
		return perr
	}
	return nil
}

func decodeStrict(data []byte, into any) *ProtocolError {
	trimmed := bytes.TrimLeft(data, " \t\r\n")
	if len(trimmed) == 0 || trimmed[0] != '{' {
		if json.Valid(data) {
			return protoErr(CodeInvalidJSON, "a message must be a JSON object")
		}
		return protoErr(CodeInvalidJSON, "malformed JSON")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(into); err != nil {
		var syn *json.SyntaxError
		var typ *json.UnmarshalTypeError
		switch {
		case errors.As(err, &syn), errors.Is(err, io.ErrUnexpectedEOF):
			return protoErr(CodeInvalidJSON, "malformed JSON")
		case errors.As(err, &typ):
			return protoErr(CodeInvalidMessage, "field %q must be %s", typ.Field, typ.Type.String())
		default:
			// DisallowUnknownFields reports `json: unknown field "x"`.
			return protoErr(CodeInvalidMessage, "%s", trimJSONPrefix(err.Error()))
		}
	}
	if _, err := dec.Token(); err != io.EOF {
		return protoErr(CodeInvalidJSON, "unexpected data after the JSON object")
	}
	return nil
}

// salvageID recovers the id of a message that failed strict decoding, so
// that the error still answers it.
func salvageID(data []byte) string {
	var probe struct {
		ID string `json:"id"`
	}
	if json.Unmarshal(data, &probe) != nil || len(probe.ID) > maxIDLen {
		return ""
	}
	return probe.ID
}

func trimJSONPrefix(s string) string {
	if len(s) > 6 && s[:6] == "json: " {
		return s[6:]
	}
	return s
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// encode builds one server frame. Payloads are our own types, so a
// marshalling failure is a programming error; it is reported as internal.
func encode(typ, replyTo string, seq uint64, payload any) []byte {
	var raw json.RawMessage
	if payload != nil {
		b, err := json.Marshal(payload)
		if err != nil {
			b, _ = json.Marshal(ErrorPayload{Code: CodeInternal, Message: "encoding failed"})
			typ = TypeError
		}
		raw = b
	}
	out, _ := json.Marshal(Envelope{Type: typ, ReplyTo: replyTo, Seq: seq, Payload: raw})
	return out
}

// encodeEvent turns a room event into its frame, or nil for events that
// are for the server only.
func encodeEvent(ev rooms.Event) []byte {
	switch ev.Type {
	case rooms.EventParticipantJoined:
		return encode(TypeParticipantJoined, "", ev.Seq, ParticipantJoinedPayload{Participant: ev.Participant.JSON()})
	case rooms.EventParticipantUpdated:
		return encode(TypeParticipantUpdated, "", ev.Seq, ParticipantUpdatedPayload{Participant: ev.Participant.JSON(), Cause: ev.Cause, By: ev.By})
	case rooms.EventParticipantLeft:
		return encode(TypeParticipantLeft, "", ev.Seq, ParticipantLeftPayload{UserID: ev.Participant.UserID, Reason: ev.Reason, Blocked: ev.Blocked, By: ev.By})
	case rooms.EventRoomUpdated:
		return encode(TypeRoomUpdated, "", ev.Seq, RoomUpdatedPayload{HandsEnabled: ev.HandsEnabled})
	case rooms.EventSpeaking:
		return encode(TypeSpeaking, "", 0, SpeakingPayload{UserID: ev.Participant.UserID, Speaking: ev.Speaking})
	case rooms.EventRoomEnded:
		return encode(TypeRoomEnded, "", ev.Seq, RoomEndedPayload{RoomID: ev.Room, Reason: ev.Reason})
	case rooms.EventChatMessage, rooms.EventChatDeleted, rooms.EventChatSettings:
		return encodeChatEvent(ev)
	default:
		return nil
	}
}
