package api

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parley-audio/parley/rooms"
)

type chatMessageOut struct {
	ID        rooms.MessageID  `json:"id"`
	RoomID    rooms.RoomID     `json:"room_id"`
	Seq       uint64           `json:"seq"`
	Author    *rooms.MemberRef `json:"author"`
	Body      string           `json:"body"`
	CreatedAt time.Time        `json:"created_at"`
}

type chatPageOut struct {
	Messages    []chatMessageOut `json:"messages"`
	NextCursor  string           `json:"next_cursor"`
	ChatEnabled bool             `json:"chat_enabled"`
}

// chatRoom is a room with its host and a listener in it, joined through
// the service (as signaling would), and a member who is not in it.
type chatRoom struct {
	e               *testEnv
	id              rooms.RoomID
	host, ann, out  string
	hostID, annID   rooms.UserID
	path            string
	hostSes, annSes rooms.SessionID
}

func newChatRoom(t *testing.T, e *testEnv) *chatRoom {
	t.Helper()
	c := &chatRoom{e: e, hostSes: rooms.NewSessionID(), annSes: rooms.NewSessionID()}
	c.host, c.hostID = e.signIn(t, "Host")
	c.ann, c.annID = e.signIn(t, "Ann")
	c.out, _ = e.signIn(t, "Out")
	c.id = e.createRoom(t, c.host, "Chat room").ID
	c.path = "/api/v1/rooms/" + string(c.id) + "/chat"
	for id, s := range map[rooms.UserID]rooms.SessionID{c.hostID: c.hostSes, c.annID: c.annSes} {
		if _, err := e.svc.Join(t.Context(), c.id, id, s); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

func (c *chatRoom) post(t *testing.T, token, body string) chatMessageOut {
	t.Helper()
	resp, got := c.e.do(t, http.MethodPost, c.path, token, `{"body":`+quote(body)+`}`)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("post %q: %d %s", body, resp.StatusCode, got)
	}
	var m chatMessageOut
	decodeStrictly(t, got, &m, true)
	return m
}

func (c *chatRoom) page(t *testing.T, query string) chatPageOut {
	t.Helper()
	resp, got := c.e.do(t, http.MethodGet, c.path+query, c.out, "")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("history%s: %d %s", query, resp.StatusCode, got)
	}
	var p chatPageOut
	decodeStrictly(t, got, &p, false)
	return p
}

func seqsOf(ms []chatMessageOut) string {
	var out []string
	for _, m := range ms {
		out = append(out, fmt.Sprint(m.Seq))
	}
	return strings.Join(out, ",")
}

func TestChatOverREST(t *testing.T) {
	e := newTestEnv(t, nil)
	c := newChatRoom(t, e)
	first := c.post(t, c.ann, "  hello, room  ")
	if first.Seq != 1 || first.Body != "hello, room" || first.Author == nil || first.Author.ID != c.annID || first.Author.DisplayName != "Ann" || first.RoomID != c.id {
		t.Errorf("first message = %+v", first)
	}
	for i := 2; i <= 5; i++ {
		c.post(t, c.host, fmt.Sprint("message ", i))
	}
	// Anyone signed in reads it, in pages back from the newest.
	p := c.page(t, "?limit=2")
	if seqsOf(p.Messages) != "4,5" || p.NextCursor == "" || !p.ChatEnabled {
		t.Fatalf("newest page = %+v", p)
	}
	p = c.page(t, "?limit=2&cursor="+p.NextCursor)
	if seqsOf(p.Messages) != "2,3" || p.NextCursor == "" {
		t.Fatalf("second page = %+v", p)
	}
	p = c.page(t, "?limit=2&cursor="+p.NextCursor)
	if seqsOf(p.Messages) != "1" || p.NextCursor != "" || p.Messages[0].Author.DisplayName != "Ann" {
		t.Fatalf("last page = %+v", p)
	}
	if p := c.page(t, "?after=3"); seqsOf(p.Messages) != "4,5" || p.NextCursor != "" {
		t.Errorf("after 3 = %+v", p)
	}

	// The listener deletes their own; the moderator deletes anyone's.
	if resp, got := e.do(t, http.MethodDelete, c.path+"/"+string(first.ID), c.ann, ""); resp.StatusCode != http.StatusNoContent {
		t.Errorf("the author deleting: %d %s", resp.StatusCode, got)
	}
	if resp, got := e.do(t, http.MethodDelete, c.path+"/"+string(first.ID), c.host, ""); resp.StatusCode != http.StatusNoContent {
		t.Errorf("deleting again: %d %s", resp.StatusCode, got)
	}
	// The moderator turns chat off: nobody posts until it is on again.
	if resp, got := e.do(t, http.MethodPut, c.path+"/settings", c.host, `{"enabled":false}`); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("chat off: %d %s", resp.StatusCode, got)
	}
	resp, got := e.do(t, http.MethodPost, c.path, c.ann, `{"body":"hello?"}`)
	wantError(t, resp, got, http.StatusConflict, codeChatDisabled)
	if p := c.page(t, ""); p.ChatEnabled || seqsOf(p.Messages) != "2,3,4,5" {
		t.Errorf("with chat off, the history reads %+v", p)
	}
	var d roomDetailOut
	_, got = e.do(t, http.MethodGet, "/api/v1/rooms/"+string(c.id), c.out, "")
	decodeStrictly(t, got, &d, true)
	if d.ChatEnabled {
		t.Error("the room says chat is on")
	}
	if resp, got := e.do(t, http.MethodPut, c.path+"/settings", c.host, `{"enabled":true}`); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("chat on: %d %s", resp.StatusCode, got)
	}
	c.post(t, c.ann, "back")
}

func TestChatRoutesRefuseBadInput(t *testing.T) {
	e := newTestEnv(t, nil)
	c := newChatRoom(t, e)
	msg := c.post(t, c.host, "the host's")
	checkBodyRefusals(t, e, http.MethodPost, c.path, c.ann, `{"body":"x"}`)
	checkBodyRefusals(t, e, http.MethodPut, c.path+"/settings", c.host, `{"enabled":true}`)
	checkAuthRefusals(t, e, http.MethodGet, c.path, "")
	checkAuthRefusals(t, e, http.MethodDelete, c.path+"/"+string(msg.ID), "")

	t.Run("bodies the service refuses name their field", func(t *testing.T) {
		for body, field := range map[string]string{
			`{}`: "body", `{"body":null}`: "body", `{"body":""}`: "body", `{"body":"  "}`: "body",
			`{"body":` + quote(strings.Repeat("x", rooms.MaxChatLen+1)) + `}`: "body", `{"body":"a\u0007b"}`: "body",
		} {
			resp, got := e.do(t, http.MethodPost, c.path, c.ann, body)
			wantInvalid(t, resp, got, field)
		}
		for _, body := range []string{`{}`, `{"enabled":null}`} {
			resp, got := e.do(t, http.MethodPut, c.path+"/settings", c.host, body)
			wantInvalid(t, resp, got, "enabled")
		}
		resp, got := e.do(t, http.MethodPost, c.path, c.ann, `{"body":5}`)
		wantError(t, resp, got, http.StatusBadRequest, codeInvalidRequest)
		resp, got = e.do(t, http.MethodPut, c.path+"/settings", c.host, `{"enabled":"no"}`)
		wantError(t, resp, got, http.StatusBadRequest, codeInvalidRequest)
	})
	t.Run("someone not in the room cannot post", func(t *testing.T) {
		resp, got := e.do(t, http.MethodPost, c.path, c.out, `{"body":"let me in"}`)
		wantError(t, resp, got, http.StatusConflict, codeNotInRoom)
	})
	t.Run("only authors and moderators delete, and only moderators switch chat", func(t *testing.T) {
		resp, got := e.do(t, http.MethodDelete, c.path+"/"+string(msg.ID), c.ann, "")
		wantError(t, resp, got, http.StatusForbidden, codeForbidden)
		resp, got = e.do(t, http.MethodPut, c.path+"/settings", c.ann, `{"enabled":false}`)
		wantError(t, resp, got, http.StatusForbidden, codeForbidden)
		resp, got = e.do(t, http.MethodDelete, c.path+"/"+string(msg.ID), c.host, `{"why":"spam"}`)
		wantError(t, resp, got, http.StatusBadRequest, codeInvalidRequest)
	})
	t.Run("unknown rooms and messages are not found", func(t *testing.T) {
		for _, room := range []string{string(rooms.NewRoomID()), "rm_nope"} {
			base := "/api/v1/rooms/" + room + "/chat"
			for _, r := range []struct{ method, path, body string }{
				{http.MethodGet, base, ""}, {http.MethodPost, base, `{"body":"x"}`},
				{http.MethodPut, base + "/settings", `{"enabled":false}`}, {http.MethodDelete, base + "/" + string(msg.ID), ""},
			} {
				resp, got := e.do(t, r.method, r.path, c.host, r.body)
				wantError(t, resp, got, http.StatusNotFound, codeRoomNotFound)
			}
		}
		for _, id := range []string{string(rooms.NewMessageID()), "msg_nope", "settings"} {
			resp, got := e.do(t, http.MethodDelete, c.path+"/"+id, c.host, "")
			wantError(t, resp, got, http.StatusNotFound, codeMessageNotFound)
		}
	})
	t.Run("bad pages are refused", func(t *testing.T) {
		for q, code := range map[string]string{
			"?limit=many": codeInvalidRequest, "?limit=0": codeValidationFailed, "?cursor=forged": codeValidationFailed,
			"?after=x": codeInvalidRequest, "?after=0": codeValidationFailed, "?after=-3": codeValidationFailed,
			"?after=2&cursor=" + chatCursorOf(t, c): codeValidationFailed,
		} {
			resp, got := e.do(t, http.MethodGet, c.path+q, c.ann, "")
			wantError(t, resp, got, http.StatusBadRequest, code)
		}
	})
	t.Run("a member who chats too fast is rate_limited", func(t *testing.T) {
		// The default burst is 5 and the test clock moves a second a
		// reading: 20 at once is well past the rate.
		var limited bool
		for i := range 20 {
			resp, got := e.do(t, http.MethodPost, c.path, c.ann, `{"body":"spam `+fmt.Sprint(i)+`"}`)
			if resp.StatusCode == http.StatusTooManyRequests {
				wantError(t, resp, got, http.StatusTooManyRequests, codeRateLimited)
				if n, err := strconv.Atoi(resp.Header.Get("Retry-After")); err != nil || n < 1 {
					t.Errorf("Retry-After = %q, want a number of seconds", resp.Header.Get("Retry-After"))
				}
				limited = true
				break
			}
		}
		if !limited {
			t.Error("20 messages at once were all taken")
		}
	})
	t.Run("an ended room takes no chat, and keeps its history", func(t *testing.T) {
		if resp, got := e.do(t, http.MethodPost, "/api/v1/rooms/"+string(c.id)+"/end", c.host, ""); resp.StatusCode != http.StatusOK {
			t.Fatalf("end: %d %s", resp.StatusCode, got)
		}
		resp, got := e.do(t, http.MethodPost, c.path, c.host, `{"body":"late"}`)
		wantError(t, resp, got, http.StatusConflict, codeRoomEnded)
		resp, got = e.do(t, http.MethodPut, c.path+"/settings", c.host, `{"enabled":false}`)
		wantError(t, resp, got, http.StatusConflict, codeRoomEnded)
		if p := c.page(t, ""); len(p.Messages) == 0 {
			t.Error("the ended room's chat is gone")
		}
	})
	e.mustStillServe(t, c.host)
}

// chatCursorOf returns a real cursor of the room's chat.
func chatCursorOf(t *testing.T, c *chatRoom) string {
	t.Helper()
	c.post(t, c.host, "one more")
	p := c.page(t, "?limit=1")
	if p.NextCursor == "" {
		t.Fatal("no cursor")
	}
	return p.NextCursor
}
