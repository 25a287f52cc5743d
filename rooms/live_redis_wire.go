package rooms

import (
	"cmp"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"
)

// The JSON shapes the Redis live store keeps and publishes. Lua writes them
// with cjson (lua/lib.lua documents the keys); Go writes speaking events
// with the same shapes. Short keys, because every record of a thousand-
// listener room goes out in each snapshot.

// redisParticipant is a participant record.
type redisParticipant struct {
	User    UserID    `json:"u"`
	Name    string    `json:"n,omitempty"`
	Role    Role      `json:"r,omitempty"`
	Joined  luaInt    `json:"j,omitempty"`
	Muted   bool      `json:"m,omitempty"`
	Invited bool      `json:"i,omitempty"`
	Hand    luaInt    `json:"h,omitempty"`
	Stage   luaInt    `json:"s,omitempty"`
	Session SessionID `json:"ses,omitempty"`
	// Order is the join order; it is not part of Participant.
	Order luaInt `json:"o,omitempty"`
}

// redisEvent is an event on a room's channel.
type redisEvent struct {
	Type         EventType         `json:"t"`
	Room         RoomID            `json:"room"`
	Seq          luaInt            `json:"seq,omitempty"`
	At           luaInt            `json:"at"`
	Participant  *redisParticipant `json:"p,omitempty"`
	Cause        Cause             `json:"cause,omitempty"`
	By           UserID            `json:"by,omitempty"`
	Speaking     bool              `json:"speaking,omitempty"`
	Reason       string            `json:"reason,omitempty"`
	Blocked      bool              `json:"blocked,omitempty"`
	HandsEnabled bool              `json:"hands_enabled,omitempty"`
	Audience     bool              `json:"aud,omitempty"`
	Node         NodeID            `json:"node,omitempty"`
	Chat         *redisChat        `json:"chat,omitempty"`
	ChatEnabled  bool              `json:"chat_enabled,omitempty"`
}

// redisChat is a chat message in a chat event. Go alone writes these.
type redisChat struct {
	ID         MessageID `json:"id"`
	Seq        uint64    `json:"seq"`
	Author     UserID    `json:"u,omitempty"`
	AuthorName string    `json:"n,omitempty"`
	Body       string    `json:"b,omitempty"`
	CreatedAt  luaInt    `json:"at,omitempty"`
}

// luaInt is an integer that cjson may have written in exponent form: it
// prints numbers with 14 significant digits, so 1e14 comes out as 1e+14.
// Unix milliseconds stay below that until the year 5138; seqs, join
// orders and hand seqs never get near it.
type luaInt int64

func (n *luaInt) UnmarshalJSON(b []byte) error {
	s := string(b)
	if v, err := strconv.ParseInt(s, 10, 64); err == nil {
		*n = luaInt(v)
		return nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f != math.Trunc(f) {
		return fmt.Errorf("not an integer: %s", s)
	}
	*n = luaInt(f)
	return nil
}

// Times travel as unix milliseconds, the zero time as 0.
func redisMillis(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func redisTime(ms luaInt) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(int64(ms)).UTC()
}

func recordOf(p Participant) *redisParticipant {
	return &redisParticipant{
		User: p.UserID, Name: p.DisplayName, Role: p.Role, Joined: luaInt(redisMillis(p.JoinedAt)),
		Muted: p.Muted, Invited: p.Invited, Hand: luaInt(p.HandSeq), Stage: luaInt(redisMillis(p.StageSince)),
		Session: p.Session,
	}
}

func (rec *redisParticipant) participant() Participant {
	return Participant{
		UserID: rec.User, DisplayName: rec.Name, Role: rec.Role, JoinedAt: redisTime(rec.Joined),
		Muted: rec.Muted, Invited: rec.Invited, HandSeq: uint64(rec.Hand), StageSince: redisTime(rec.Stage),
		Session: rec.Session,
	}
}

func (rec *redisParticipant) unmarshal(b []byte) error { return json.Unmarshal(b, rec) }

func participantsInOrder(recs []redisParticipant) []Participant {
	slices.SortFunc(recs, func(a, b redisParticipant) int { return cmp.Compare(a.Order, b.Order) })
	ps := make([]Participant, len(recs))
	for i := range recs {
		ps[i] = recs[i].participant()
	}
	return ps
}

func encodeEvent(ev Event) ([]byte, error) {
	w := redisEvent{
		Type: ev.Type, Room: ev.Room, Seq: luaInt(ev.Seq), At: luaInt(redisMillis(ev.At)), Cause: ev.Cause, By: ev.By,
		Speaking: ev.Speaking, Reason: ev.Reason, Blocked: ev.Blocked, HandsEnabled: ev.HandsEnabled, Audience: ev.Audience,
		Node: ev.Node,
	}
	if ev.Participant != (Participant{}) {
		w.Participant = recordOf(ev.Participant)
	}
	if c := ev.Chat; c != (ChatMessage{}) {
		w.Chat = &redisChat{ID: c.ID, Seq: c.Seq, Author: c.Author, AuthorName: c.AuthorName, Body: c.Body, CreatedAt: luaInt(redisMillis(c.CreatedAt))}
	}
	w.ChatEnabled = ev.ChatEnabled
	return json.Marshal(w)
}

func decodeEvent(b []byte) (Event, error) {
	var w redisEvent
	if err := json.Unmarshal(b, &w); err != nil {
		return Event{}, fmt.Errorf("decode event: %w", err)
	}
	ev := Event{
		Type: w.Type, Room: w.Room, Seq: uint64(w.Seq), At: redisTime(w.At), Cause: w.Cause, By: w.By,
		Speaking: w.Speaking, Reason: w.Reason, Blocked: w.Blocked, HandsEnabled: w.HandsEnabled, Audience: w.Audience,
		Node: w.Node,
	}
	if w.Participant != nil {
		ev.Participant = w.Participant.participant()
	}
	if c := w.Chat; c != nil {
		ev.Chat = ChatMessage{ID: c.ID, Room: w.Room, Seq: c.Seq, Author: c.Author, AuthorName: c.AuthorName, Body: c.Body, CreatedAt: redisTime(c.CreatedAt)}
	}
	ev.ChatEnabled = w.ChatEnabled
	return ev, nil
}
