package rooms

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"
)

// testChatRecords is the contract of ChatRecords, part of testRecords.
func testChatRecords(t *testing.T, open func(t *testing.T) recordsUnderTest) {
	t.Run("each room numbers its messages 1, 2, 3 and they read back as sent", func(t *testing.T) {
		st := open(t)
		host := createMember(t, st, "Host", recordsEpoch)
		a := createRoom(t, st, host, "a", recordsEpoch)
		b := createRoom(t, st, host, "b", recordsEpoch)
		for i, room := range []RoomID{a.ID, a.ID, b.ID, a.ID} {
			m := addChat(t, st, room, host.ID, fmt.Sprint("hello ", i), recordsEpoch.Add(time.Duration(i)*time.Second+1500*time.Microsecond))
			want := map[int]uint64{0: 1, 1: 2, 2: 1, 3: 3}[i]
			if m.Seq != want {
				t.Errorf("message %d has seq %d, want %d", i, m.Seq, want)
			}
			got, err := st.ChatMessage(t.Context(), room, m.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got != m || got.CreatedAt.Location() != time.UTC || got.CreatedAt.Nanosecond()%int(time.Millisecond) != 0 {
				t.Errorf("read back %+v, want %+v at millisecond precision in UTC", got, m)
			}
		}
		if _, err := st.ChatMessage(t.Context(), b.ID, NewMessageID()); !errors.Is(err, ErrMessageNotFound) {
			t.Errorf("an unknown message: err = %v, want ErrMessageNotFound", err)
		}
	})

	t.Run("eight senders at once get every seq from 1 up exactly once", func(t *testing.T) {
		st := open(t)
		host := createMember(t, st, "Host", recordsEpoch)
		r := createRoom(t, st, host, "busy", recordsEpoch)
		var mu sync.Mutex
		var seqs []uint64
		var wg sync.WaitGroup
		for w := range 8 {
			wg.Go(func() {
				for i := range 10 {
					m, err := st.AddChatMessage(t.Context(), ChatMessage{ID: NewMessageID(), Room: r.ID, Author: NewUserID(), Body: fmt.Sprint(w, i), CreatedAt: recordsEpoch})
					if err != nil {
						t.Errorf("AddChatMessage: %v", err)
						return
					}
					mu.Lock()
					seqs = append(seqs, m.Seq)
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		slices.Sort(seqs)
		for i, s := range seqs {
			if s != uint64(i+1) {
				t.Fatalf("seqs %v are not 1..80", seqs)
			}
		}
	})

	t.Run("history pages back from the newest and forward from a seq, in seq order, without deleted messages", func(t *testing.T) {
		st := open(t)
		host := createMember(t, st, "Host", recordsEpoch)
		r := createRoom(t, st, host, "talk", recordsEpoch)
		var all []ChatMessage
		for i := range 10 {
			all = append(all, addChat(t, st, r.ID, host.ID, fmt.Sprint(i), recordsEpoch))
		}
		if _, err := st.DeleteChatMessage(t.Context(), r.ID, all[4].ID, host.ID, recordsEpoch); err != nil {
			t.Fatal(err)
		}
		seqsOf := func(ms []ChatMessage) []uint64 { return idsOf(ms, func(m ChatMessage) uint64 { return m.Seq }) }
		// Seq 5 is deleted: pages skip it.
		for _, c := range []struct {
			q    ChatQuery
			want []uint64
		}{
			{ChatQuery{Limit: 3}, []uint64{8, 9, 10}},
			{ChatQuery{Limit: 3, Before: 8}, []uint64{4, 6, 7}},
			{ChatQuery{Limit: 3, Before: 7}, []uint64{3, 4, 6}},
			{ChatQuery{Limit: 100}, []uint64{1, 2, 3, 4, 6, 7, 8, 9, 10}},
			{ChatQuery{Limit: 2, After: 3}, []uint64{4, 6}},
			{ChatQuery{Limit: 5, After: 9}, []uint64{10}},
			{ChatQuery{Limit: 5, After: 10}, []uint64{}},
			{ChatQuery{Limit: 5, Before: 1}, []uint64{}},
		} {
			got, err := st.ChatHistory(t.Context(), r.ID, c.q)
			if err != nil {
				t.Fatal(err)
			}
			checkIDs(t, fmt.Sprintf("ChatHistory(%+v)", c.q), seqsOf(got), c.want)
		}
		if _, err := st.ChatHistory(t.Context(), r.ID, ChatQuery{}); !errors.Is(err, ErrInvalid) {
			t.Errorf("limit 0: err = %v, want ErrInvalid", err)
		}
	})

	t.Run("chat off refuses messages until it is back on; an ended or unknown room refuses them too", func(t *testing.T) {
		st := open(t)
		host := createMember(t, st, "Host", recordsEpoch)
		r := createRoom(t, st, host, "quiet", recordsEpoch)
		addChat(t, st, r.ID, host.ID, "before", recordsEpoch)
		for i, off := range []bool{true, true, false, false} {
			changed, err := st.SetChatDisabled(t.Context(), r.ID, off)
			if err != nil || changed != (i%2 == 0) {
				t.Errorf("SetChatDisabled(%v) #%d = %v, %v; want changed %v", off, i, changed, err, i%2 == 0)
			}
			got, _ := st.Room(t.Context(), r.ID)
			if got.ChatDisabled != off {
				t.Errorf("room's ChatDisabled = %v, want %v", got.ChatDisabled, off)
			}
			if off {
				_, err := st.AddChatMessage(t.Context(), ChatMessage{ID: NewMessageID(), Room: r.ID, Author: host.ID, Body: "x", CreatedAt: recordsEpoch})
				if !errors.Is(err, ErrChatDisabled) {
					t.Errorf("a message with chat off: err = %v, want ErrChatDisabled", err)
				}
			}
		}
		if m := addChat(t, st, r.ID, host.ID, "after", recordsEpoch); m.Seq != 2 {
			t.Errorf("the refused message took a seq: the next one has %d, want 2", m.Seq)
		}
		if _, err := st.EndRoom(t.Context(), r.ID, recordsEpoch.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		for name, room := range map[string]RoomID{"ended": r.ID, "unknown": NewRoomID()} {
			want := map[string]error{"ended": ErrRoomEnded, "unknown": ErrRoomNotFound}[name]
			_, err := st.AddChatMessage(t.Context(), ChatMessage{ID: NewMessageID(), Room: room, Author: host.ID, Body: "x", CreatedAt: recordsEpoch})
			if !errors.Is(err, want) {
				t.Errorf("a message to an %s room: err = %v, want %v", name, err, want)
			}
			if _, err := st.SetChatDisabled(t.Context(), room, true); !errors.Is(err, want) {
				t.Errorf("chat off in an %s room: err = %v, want %v", name, err, want)
			}
		}
	})

	t.Run("a deleted message loses its body, keeps its first deletion and is found only in its room", func(t *testing.T) {
		st := open(t)
		host := createMember(t, st, "Host", recordsEpoch)
		r := createRoom(t, st, host, "r", recordsEpoch)
		other := createRoom(t, st, host, "other", recordsEpoch)
		m := addChat(t, st, r.ID, host.ID, "oops", recordsEpoch)
		mod := NewUserID()
		got, err := st.DeleteChatMessage(t.Context(), r.ID, m.ID, mod, recordsEpoch.Add(time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		want := m
		want.Body, want.DeletedBy, want.DeletedAt = "", mod, recordsEpoch.Add(time.Minute)
		if got != want {
			t.Errorf("deleted = %+v, want %+v", got, want)
		}
		again, err := st.DeleteChatMessage(t.Context(), r.ID, m.ID, host.ID, recordsEpoch.Add(time.Hour))
		if err != nil || again != want {
			t.Errorf("deleting again = %+v, %v; want the first deletion", again, err)
		}
		for name, c := range map[string]struct {
			room RoomID
			id   MessageID
		}{"in another room": {other.ID, m.ID}, "unknown": {r.ID, NewMessageID()}} {
			if _, err := st.DeleteChatMessage(t.Context(), c.room, c.id, mod, recordsEpoch); !errors.Is(err, ErrMessageNotFound) {
				t.Errorf("%s: err = %v, want ErrMessageNotFound", name, err)
			}
		}
	})

	t.Run("a member's messages page newest first, and can be anonymized or deleted", func(t *testing.T) {
		st := open(t)
		host := createMember(t, st, "Host", recordsEpoch)
		r1 := createRoom(t, st, host, "one", recordsEpoch)
		r2 := createRoom(t, st, host, "two", recordsEpoch)
		ann, bob := NewUserID(), NewUserID()
		var mine []ChatMessage
		for i := range 9 {
			room := []RoomID{r1.ID, r2.ID}[i%2]
			at := recordsEpoch.Add(time.Duration(i/3) * time.Second) // ties
			mine = append(mine, addChat(t, st, room, ann, fmt.Sprint("ann ", i), at))
			addChat(t, st, room, bob, fmt.Sprint("bob ", i), at)
		}
		gone := mine[3]
		if _, err := st.DeleteChatMessage(t.Context(), gone.Room, gone.ID, ann, recordsEpoch); err != nil {
			t.Fatal(err)
		}
		mine = slices.DeleteFunc(mine, func(m ChatMessage) bool { return m.ID == gone.ID })
		slices.SortFunc(mine, func(a, b ChatMessage) int { return cmp.Or(b.CreatedAt.Compare(a.CreatedAt), cmp.Compare(b.ID, a.ID)) })
		msgID := func(m ChatMessage) MessageID { return m.ID }
		for _, size := range []int{1, 2, 8, 9} {
			got := walk(t, size, ChatMessage.cursor, func(ctx context.Context, after Cursor, limit int) ([]ChatMessage, error) {
				return st.ChatBy(ctx, ann, after, limit)
			})
			checkIDs(t, fmt.Sprintf("ann's messages in pages of %d", size), idsOf(got, msgID), idsOf(mine, msgID))
		}

		n, err := st.AnonymizeChatBy(t.Context(), ann)
		if err != nil || n != 9 {
			t.Errorf("AnonymizeChatBy = %d, %v; want 9 (deleted one included)", n, err)
		}
		kept, err := st.ChatMessage(t.Context(), mine[0].Room, mine[0].ID)
		if err != nil || kept.Author != "" || kept.Body != mine[0].Body {
			t.Errorf("anonymized message = %+v, %v; want its body without an author", kept, err)
		}
		if left, _ := st.ChatBy(t.Context(), ann, Cursor{}, 10); len(left) != 0 {
			t.Errorf("%d messages still by ann after anonymizing", len(left))
		}

		n, err = st.DeleteChatBy(t.Context(), bob)
		if err != nil || n != 9 {
			t.Errorf("DeleteChatBy = %d, %v; want 9", n, err)
		}
		h, err := st.ChatHistory(t.Context(), r1.ID, ChatQuery{Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range h {
			if m.Author != "" {
				t.Errorf("message by %s left in the history", m.Author)
			}
		}
		if len(h) != 5 {
			t.Errorf("%d messages left in room one, want ann's 5", len(h))
		}
	})

	t.Run("every chat method fails with the context's error once it is cancelled", func(t *testing.T) {
		st := open(t)
		host := createMember(t, st, "Host", recordsEpoch)
		r := createRoom(t, st, host, "x", recordsEpoch)
		m := addChat(t, st, r.ID, host.ID, "x", recordsEpoch)
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		checkRefused(t, context.Canceled, map[string]func() error{
			"AddChatMessage": func() error {
				_, err := st.AddChatMessage(ctx, ChatMessage{ID: NewMessageID(), Room: r.ID, Author: host.ID, Body: "y"})
				return err
			},
			"ChatMessage":       func() error { _, err := st.ChatMessage(ctx, r.ID, m.ID); return err },
			"DeleteChatMessage": func() error { _, err := st.DeleteChatMessage(ctx, r.ID, m.ID, host.ID, recordsEpoch); return err },
			"ChatHistory":       func() error { _, err := st.ChatHistory(ctx, r.ID, ChatQuery{Limit: 1}); return err },
			"SetChatDisabled":   func() error { _, err := st.SetChatDisabled(ctx, r.ID, true); return err },
			"ChatBy":            func() error { _, err := st.ChatBy(ctx, host.ID, Cursor{}, 1); return err },
			"AnonymizeChatBy":   func() error { _, err := st.AnonymizeChatBy(ctx, host.ID); return err },
			"DeleteChatBy":      func() error { _, err := st.DeleteChatBy(ctx, host.ID); return err },
		})
	})
}

func addChat(t *testing.T, st ChatRecords, room RoomID, author UserID, body string, at time.Time) ChatMessage {
	t.Helper()
	m, err := st.AddChatMessage(t.Context(), ChatMessage{ID: NewMessageID(), Room: room, Author: author, Body: body, CreatedAt: at})
	if err != nil {
		t.Fatalf("AddChatMessage(%q): %v", body, err)
	}
	return m
}
