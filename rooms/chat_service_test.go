package rooms

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/parley-audio/parley/internal/ratelimit"
	"github.com/parley-audio/parley/internal/testenv"
)

// newDataFixture is a service with the room data features on, over the
// real SQLite store; edit changes its params.
func newDataFixture(t *testing.T, edit func(*ServiceParams)) serviceFixture {
	t.Helper()
	db := openTestSQLite(t, filepath.Join(t.TempDir(), "parley.db"))
	c := testenv.NewClock(time.Date(2026, 3, 1, 20, 0, 0, 123_456_789, time.UTC))
	bus := NewMemoryBus()
	t.Cleanup(func() { _ = bus.Close() })
	members := newMemberDirectory()
	p := ServiceParams{
		Rooms: db, Members: members, Live: NewMemoryLive(bus), Bus: bus, Limits: serviceLimits, Now: c.Now,
		Data: db, ChatRate: ChatRate{PerMinute: 600, Burst: 100},
	}
	if edit != nil {
		edit(&p)
	}
	return serviceFixture{Service: NewService(p), db: db, members: members, bus: bus, clock: c}
}

// inRoom opens a room hosted by the first name and joins everyone named.
func (f serviceFixture) inRoom(t *testing.T, names ...string) (Room, []Member) {
	t.Helper()
	ms := make([]Member, len(names))
	for i, n := range names {
		ms[i] = f.member(t, n)
	}
	r := f.room(t, ms[0], "Chatty")
	for _, m := range ms {
		f.join(t, r, m, NewSessionID())
	}
	return r, ms
}

func (f serviceFixture) say(t *testing.T, r Room, m Member, body string) ChatMessage {
	t.Helper()
	msg, err := f.SendChat(t.Context(), r.ID, m.ID, body)
	if err != nil {
		t.Fatalf("%s says %q: %v", m.DisplayName, body, err)
	}
	return msg
}

func chatSeqs(ms []ChatMessage) []uint64 {
	return idsOf(ms, func(m ChatMessage) uint64 { return m.Seq })
}

func TestChatIsOrderedAndPagesBothWays(t *testing.T) {
	f := newDataFixture(t, nil)
	r, ms := f.inRoom(t, "Host", "Ann", "Bob")
	log := f.watch(t, r)
	for i := range 7 {
		m := f.say(t, r, ms[i%3], fmt.Sprint("message ", i+1))
		if m.Seq != uint64(i+1) || m.AuthorName != ms[i%3].DisplayName || !m.CreatedAt.Equal(f.ms()) {
			t.Errorf("message %d = %+v", i+1, m)
		}
		f.clock.Advance(time.Second)
	}
	var evs []Event
	for _, ev := range log.all() {
		if ev.Type == EventChatMessage {
			evs = append(evs, ev)
		}
	}
	if len(evs) != 7 || evs[0].Chat.Body != "message 1" || evs[0].Chat.AuthorName != "Host" || evs[6].Chat.Seq != 7 || evs[6].Seq != 0 {
		t.Errorf("chat_message events = %+v; want seven, in order, with bodies and names and no room seq", evs)
	}

	page := func(q ChatPage) ChatHistoryPage {
		t.Helper()
		p, err := f.ChatHistory(t.Context(), r.ID, q)
		if err != nil {
			t.Fatal(err)
		}
		if !p.Enabled {
			t.Error("chat reads as off")
		}
		return p
	}
	// Back from the newest, three at a time.
	var back [][]uint64
	q := ChatPage{Limit: 3}
	for {
		p := page(q)
		back = append(back, chatSeqs(p.Messages))
		if p.Next == "" {
			break
		}
		q.Cursor = p.Next
	}
	if fmt.Sprint(back) != "[[5 6 7] [2 3 4] [1]]" {
		t.Errorf("paging back = %v", back)
	}
	// Forward from seq 2, catching up.
	var fwd [][]uint64
	q = ChatPage{Limit: 3, After: 2}
	for {
		p := page(q)
		fwd = append(fwd, chatSeqs(p.Messages))
		if p.Next == "" {
			break
		}
		q = ChatPage{Limit: 3, Cursor: p.Next}
	}
	if fmt.Sprint(fwd) != "[[3 4 5] [6 7]]" {
		t.Errorf("paging forward = %v", fwd)
	}
	p := page(ChatPage{Limit: 2})
	if p.Messages[1].AuthorName != "Host" || p.Messages[1].Body != "message 7" {
		t.Errorf("the newest message reads %+v", p.Messages[1])
	}

	for name, q := range map[string]ChatPage{
		"a forged cursor":      {Cursor: "bm9wZQ"},
		"a cursor and after":   {Cursor: p.Next, After: 3},
		"a limit over the max": {Limit: MaxPageSize + 1},
		"a negative limit":     {Limit: -1},
	} {
		var ve *ValidationError
		if _, err := f.ChatHistory(t.Context(), r.ID, q); !errors.As(err, &ve) {
			t.Errorf("%s: err = %v, want a ValidationError", name, err)
		}
	}
	if _, err := f.ChatHistory(t.Context(), NewRoomID(), ChatPage{}); !errors.Is(err, ErrRoomNotFound) {
		t.Errorf("an unknown room's chat: err = %v, want ErrRoomNotFound", err)
	}
}

func TestChatRefusesWhatItMust(t *testing.T) {
	f := newDataFixture(t, nil)
	r, ms := f.inRoom(t, "Host", "Ann")
	outsider := f.member(t, "Out")
	for name, c := range map[string]struct {
		who   Member
		body  string
		field string
		want  error
	}{
		"an empty message":               {ms[1], "  \n ", "body", ErrInvalid},
		"a message over the limit":       {ms[1], strings.Repeat("é", MaxChatLen+1), "body", ErrInvalid},
		"a message with a control char":  {ms[1], "bell\a", "body", ErrInvalid},
		"a message in invalid UTF-8":     {ms[1], "\xff", "body", ErrInvalid},
		"a message by someone not in it": {outsider, "hi", "", ErrNotParticipant},
	} {
		_, err := f.SendChat(t.Context(), r.ID, c.who.ID, c.body)
		var ve *ValidationError
		if !errors.Is(err, c.want) || (c.field != "" && (!errors.As(err, &ve) || ve.Field != c.field)) {
			t.Errorf("%s: err = %v, want %v on %q", name, err, c.want, c.field)
		}
	}
	if m := f.say(t, r, ms[1], strings.Repeat("é", MaxChatLen)); len([]rune(m.Body)) != MaxChatLen {
		t.Errorf("a message of exactly the limit came back %d characters long", len([]rune(m.Body)))
	}
	if m := f.say(t, r, ms[1], "  two\nlines  "); m.Body != "two\nlines" {
		t.Errorf("body = %q, want it trimmed with its newline kept", m.Body)
	}
	if _, err := f.SendChat(t.Context(), NewRoomID(), ms[0].ID, "hi"); !errors.Is(err, ErrRoomNotFound) {
		t.Errorf("a message to an unknown room: err = %v, want ErrRoomNotFound", err)
	}
	if _, err := f.EndRoom(t.Context(), ms[0].ID, r.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.SendChat(t.Context(), r.ID, ms[0].ID, "hi"); !errors.Is(err, ErrRoomEnded) {
		t.Errorf("a message to an ended room: err = %v, want ErrRoomEnded", err)
	}
	// The ended room's chat is still there to read.
	p, err := f.ChatHistory(t.Context(), r.ID, ChatPage{})
	if err != nil || len(p.Messages) != 2 {
		t.Errorf("an ended room's chat = %+v, %v; want its two messages", p, err)
	}
}

func TestChatIsRateLimitedPerMember(t *testing.T) {
	f := newDataFixture(t, func(p *ServiceParams) { p.ChatRate = ChatRate{PerMinute: 6, Burst: 2} })
	r, ms := f.inRoom(t, "Host", "Ann")
	f.say(t, r, ms[1], "one")
	f.say(t, r, ms[1], "two")
	if _, err := f.SendChat(t.Context(), r.ID, ms[1].ID, "three"); !errors.Is(err, ErrRateLimited) {
		t.Fatalf("a third message at once: err = %v, want ErrRateLimited", err)
	}
	f.say(t, r, ms[0], "someone else is not held back")
	f.clock.Advance(9 * time.Second)
	if _, err := f.SendChat(t.Context(), r.ID, ms[1].ID, "too soon"); !errors.Is(err, ErrRateLimited) {
		t.Errorf("after 9 s: err = %v, want ErrRateLimited (one message per 10 s)", err)
	}
	f.clock.Advance(time.Second)
	f.say(t, r, ms[1], "ten seconds later")
	p, _ := f.ChatHistory(t.Context(), r.ID, ChatPage{})
	if got := chatSeqs(p.Messages); !slices.Equal(got, []uint64{1, 2, 3, 4}) {
		t.Errorf("stored seqs %v: a refused message took a place", got)
	}
}

// A chat limit that cannot decide (Redis unreachable) refuses the
// message as ErrUnavailable, and stores nothing.
func TestChatWithTheLimiterUnreachableIsUnavailable(t *testing.T) {
	client := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", DialTimeout: 200 * time.Millisecond, MaxRetries: -1})
	t.Cleanup(func() { _ = client.Close() })
	f := newDataFixture(t, func(p *ServiceParams) {
		p.ChatLimiter = ratelimit.NewRedis(client, "parleytest:chat", DefaultChatRate().Rate())
	})
	r, ms := f.inRoom(t, "Host")
	if _, err := f.SendChat(t.Context(), r.ID, ms[0].ID, "hello"); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("err = %v, want ErrUnavailable", err)
	}
	if p, err := f.ChatHistory(t.Context(), r.ID, ChatPage{}); err != nil || len(p.Messages) != 0 {
		t.Errorf("history = %+v, %v; want no message stored", p, err)
	}
}

func TestChatOffRefusesEveryoneUntilOnAgain(t *testing.T) {
	f := newDataFixture(t, nil)
	r, ms := f.inRoom(t, "Host", "Ann", "Mod")
	host, ann, mod := ms[0], ms[1], ms[2]
	f.speaker(t, r, host, mod)
	f.act(t, r, Action{Kind: ActMakeModerator, Actor: host.ID, Target: mod.ID})
	f.say(t, r, ann, "listeners chat")
	log := f.watch(t, r)

	if err := f.SetChat(t.Context(), r.ID, ann.ID, false); !errors.Is(err, ErrForbidden) {
		t.Errorf("a listener turning chat off: err = %v, want ErrForbidden", err)
	}
	if err := f.SetChat(t.Context(), r.ID, mod.ID, false); err != nil {
		t.Fatal(err)
	}
	if err := f.SetChat(t.Context(), r.ID, mod.ID, false); err != nil {
		t.Errorf("turning chat off twice: %v", err)
	}
	for _, m := range []Member{ann, mod, host} {
		if _, err := f.SendChat(t.Context(), r.ID, m.ID, "hello?"); !errors.Is(err, ErrChatDisabled) {
			t.Errorf("%s chatting with chat off: err = %v, want ErrChatDisabled", m.DisplayName, err)
		}
	}
	if p, _ := f.ChatHistory(t.Context(), r.ID, ChatPage{}); p.Enabled {
		t.Error("the history says chat is on")
	}
	if v, _ := f.Room(t.Context(), r.ID); !v.ChatDisabled {
		t.Error("the room says chat is on")
	}
	if err := f.SetChat(t.Context(), r.ID, host.ID, true); err != nil {
		t.Fatal(err)
	}
	f.say(t, r, ann, "back")
	var settings []string
	for _, ev := range log.all() {
		if ev.Type == EventChatSettings {
			settings = append(settings, fmt.Sprintf("%v by %s", ev.ChatEnabled, ev.By))
		}
	}
	if want := []string{"false by " + string(mod.ID), "true by " + string(host.ID)}; !slices.Equal(settings, want) {
		t.Errorf("chat_settings events = %v, want %v (one per change)", settings, want)
	}
	if err := f.SetChat(t.Context(), NewRoomID(), host.ID, false); !errors.Is(err, ErrRoomNotFound) {
		t.Errorf("an unknown room: err = %v, want ErrRoomNotFound", err)
	}
}

func TestChatDeletion(t *testing.T) {
	f := newDataFixture(t, nil)
	r, ms := f.inRoom(t, "Host", "Ann", "Bob")
	host, ann, bob := ms[0], ms[1], ms[2]
	annMsg := f.say(t, r, ann, "ann's")
	bobMsg := f.say(t, r, bob, "bob's")
	keep := f.say(t, r, bob, "kept")
	log := f.watch(t, r)

	if _, err := f.DeleteChat(t.Context(), r.ID, bob.ID, annMsg.ID); !errors.Is(err, ErrForbidden) {
		t.Errorf("a listener deleting another's message: err = %v, want ErrForbidden", err)
	}
	if _, err := f.DeleteChat(t.Context(), r.ID, bob.ID, bobMsg.ID); err != nil {
		t.Errorf("an author deleting their own message: %v", err)
	}
	got, err := f.DeleteChat(t.Context(), r.ID, host.ID, annMsg.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Body != "" || got.DeletedBy != host.ID || !got.DeletedAt.Equal(f.ms()) {
		t.Errorf("deleted message = %+v", got)
	}
	if _, err := f.DeleteChat(t.Context(), r.ID, host.ID, annMsg.ID); err != nil {
		t.Errorf("deleting a deleted message: %v", err)
	}
	if _, err := f.DeleteChat(t.Context(), r.ID, host.ID, NewMessageID()); !errors.Is(err, ErrMessageNotFound) {
		t.Errorf("an unknown message: err = %v, want ErrMessageNotFound", err)
	}
	p, _ := f.ChatHistory(t.Context(), r.ID, ChatPage{})
	if len(p.Messages) != 1 || p.Messages[0].ID != keep.ID {
		t.Errorf("history after deletions = %+v, want only the kept message", p.Messages)
	}
	var deleted []string
	for _, ev := range log.all() {
		if ev.Type == EventChatDeleted {
			deleted = append(deleted, fmt.Sprintf("%d by %s", ev.Chat.Seq, ev.By))
		}
	}
	if want := []string{fmt.Sprintf("%d by %s", bobMsg.Seq, bob.ID), fmt.Sprintf("%d by %s", annMsg.Seq, host.ID)}; !slices.Equal(deleted, want) {
		t.Errorf("chat_deleted events = %v, want %v", deleted, want)
	}
	// Only the moderator's deletion is moderation.
	log2, _, _, err := f.ModLog(t.Context(), r.ID, host.ID, false, 0, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(log2) != 1 || log2[0].Kind != ModChatDeleted || log2[0].Target != ann.ID || log2[0].Detail != string(annMsg.ID) {
		t.Errorf("moderation log = %+v, want one chat_message_deleted of ann's message", log2)
	}
	// The creator still moderates the chat of the ended room.
	if _, err := f.EndRoom(t.Context(), host.ID, r.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.DeleteChat(t.Context(), r.ID, host.ID, keep.ID); err != nil {
		t.Errorf("the creator deleting in an ended room: %v", err)
	}
}

// A chat event crosses Redis whole.
func TestRedisChatEventJSON(t *testing.T) {
	for _, ev := range []Event{
		{Type: EventChatMessage, Room: "rm_x", At: redisEpoch, Chat: ChatMessage{ID: "msg_a", Room: "rm_x", Seq: 12, Author: "usr_a", AuthorName: "Ann", Body: "hi\nthere", CreatedAt: redisEpoch}},
		{Type: EventChatDeleted, Room: "rm_x", At: redisEpoch, By: "usr_b", Chat: ChatMessage{ID: "msg_a", Room: "rm_x", Seq: 12}},
		{Type: EventChatSettings, Room: "rm_x", At: redisEpoch, By: "usr_b", ChatEnabled: true},
		{Type: EventChatSettings, Room: "rm_x", At: redisEpoch, By: "usr_b"},
	} {
		b, err := encodeEvent(ev)
		if err != nil {
			t.Fatal(err)
		}
		got, err := decodeEvent(b)
		if err != nil {
			t.Fatal(err)
		}
		if got != ev {
			t.Errorf("round trip of %s:\n%+v\nwant\n%+v", b, got, ev)
		}
	}
}

// A guest in the room listens only: their chat is refused, and no
// message is stored.
func TestChatRefusesGuests(t *testing.T) {
	f := newDataFixture(t, func(p *ServiceParams) { p.Guests = true })
	r, _ := f.inRoom(t, "Host")
	guest := NewGuestID()
	if _, err := f.Join(t.Context(), r.ID, guest, NewSessionID()); err != nil {
		t.Fatalf("guest join: %v", err)
	}
	if _, err := f.SendChat(t.Context(), r.ID, guest, "hello"); !errors.Is(err, ErrForbidden) {
		t.Fatalf("a guest's chat: err = %v, want ErrForbidden", err)
	}
	page, err := f.ChatHistory(t.Context(), r.ID, ChatPage{})
	if err != nil || len(page.Messages) != 0 {
		t.Errorf("history after a guest's refused chat = %+v, %v; want empty", page.Messages, err)
	}
}
