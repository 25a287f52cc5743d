package rooms

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// collector records the events a subscriber is handed.
type collector struct {
	mu      sync.Mutex // guards evs
	evs     []Event
	arrived chan struct{} // capacity 1
}

func newCollector() *collector { return &collector{arrived: make(chan struct{}, 1)} }

func (c *collector) handle(ev Event) {
	c.mu.Lock()
	c.evs = append(c.evs, ev)
	c.mu.Unlock()
	select {
	case c.arrived <- struct{}{}:
	default:
	}
}

func (c *collector) got() []Event {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.evs)
}

// waitFor waits until the collector holds n events and returns them.
func (c *collector) waitFor(t *testing.T, n int) []Event {
	t.Helper()
	deadline := time.NewTimer(10 * time.Second)
	defer deadline.Stop()
	for {
		if evs := c.got(); len(evs) >= n {
			return evs
		}
		select {
		case <-c.arrived:
		case <-deadline.C:
			t.Fatalf("%d events arrived within 10s, want %d", len(c.got()), n)
		}
	}
}

func publishSeq(t *testing.T, bus Bus, room RoomID, seq uint64) {
	t.Helper()
	if err := bus.Publish(t.Context(), Event{Type: EventRoomUpdated, Room: room, Seq: seq, HandsEnabled: true}); err != nil {
		t.Fatalf("Publish: %v", err)
	}
}

func seqsOf(evs []Event) []uint64 {
	s := make([]uint64, len(evs))
	for i, ev := range evs {
		s[i] = ev.Seq
	}
	return s
}

func TestRedisBusDeliversEveryEventInOrderAcrossProcesses(t *testing.T) {
	checkNoLeaks(t)
	a, client, prefix := newTestRedisLive(t)
	b := newRedisLiveOn(t, client, prefix)
	room := NewRoomID()
	onA, alsoOnA, onB := newCollector(), newCollector(), newCollector()
	a.Subscribe(room, onA.handle)
	a.Subscribe(room, alsoOnA.handle)
	b.Subscribe(room, onB.handle)
	const n = 1000
	for seq := range uint64(n) {
		publishSeq(t, []*RedisLive{a, b}[seq%2], room, seq+1)
	}
	want := seqsOf(onB.waitFor(t, n))
	for _, c := range []*collector{onA, alsoOnA} {
		if got := seqsOf(c.waitFor(t, n)); !slices.Equal(got, want) || !slices.IsSorted(got) {
			t.Errorf("a subscriber got seqs %v…, want 1..%d in order", got[:min(10, len(got))], n)
		}
	}

	// A speaking event comes back as it went, times to the millisecond.
	ev := Event{
		Type: EventSpeaking, Room: room, At: redisEpoch.Add(1234567 * time.Microsecond), Speaking: true,
		Participant: Participant{UserID: NewUserID(), DisplayName: "Zoë \"quoted\" ✓", Role: RoleSpeaker, JoinedAt: redisEpoch, StageSince: redisEpoch.Add(time.Second), Session: NewSessionID(), HandSeq: 7},
	}
	if err := b.Publish(t.Context(), ev); err != nil {
		t.Fatal(err)
	}
	got := onA.waitFor(t, n+1)[n]
	ev.At = ev.At.Truncate(time.Millisecond)
	if !sameEvent(got, ev) {
		t.Errorf("speaking event arrived as\n%+v\nwant\n%+v", got, ev)
	}
}

// roomChannels lists the channels of the prefix Redis has subscribers on.
func roomChannels(t *testing.T, client *redis.Client, prefix string) []string {
	t.Helper()
	chs, err := client.PubSubChannels(t.Context(), prefix+":events:*").Result()
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(chs)
	return chs
}

// eventually polls cond until it holds, for up to 10s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	deadline := time.NewTimer(10 * time.Second)
	defer deadline.Stop()
	for !cond() {
		select {
		case <-tick.C:
		case <-deadline.C:
			t.Fatalf("not within 10s: %s", what)
		}
	}
}

func TestRedisBusSubscribesARoomWhileItHasLocalSubscribers(t *testing.T) {
	checkNoLeaks(t)
	live, client, prefix := newTestRedisLive(t)
	room, other := NewRoomID(), NewRoomID()
	first, second := newCollector(), newCollector()
	unsub1 := live.Subscribe(room, first.handle)
	// Subscribe returns once Redis has the subscription: no polling here.
	if got := roomChannels(t, client, prefix); !slices.Equal(got, []string{live.channel(room)}) {
		t.Fatalf("channels after Subscribe = %v, want the room's", got)
	}
	unsub2 := live.Subscribe(room, second.handle)
	unsubOther := live.Subscribe(other, newCollector().handle)
	unsub1()
	unsub1() // idempotent
	publishSeq(t, live, room, 1)
	second.waitFor(t, 1)
	if got := first.got(); len(got) != 0 {
		t.Errorf("an unsubscribed handler got %v", got)
	}
	unsub2()
	unsubOther()
	eventually(t, "Redis drops the channels of rooms without subscribers", func() bool {
		return len(roomChannels(t, client, prefix)) == 0
	})
	// And a room can be subscribed again.
	third := newCollector()
	live.Subscribe(room, third.handle)
	publishSeq(t, live, room, 2)
	if got := seqsOf(third.waitFor(t, 1)); !slices.Equal(got, []uint64{2}) {
		t.Errorf("after subscribing again: %v, want [2]", got)
	}
}

func TestRedisBusHandlersMaySubscribeAndUnsubscribe(t *testing.T) {
	checkNoLeaks(t)
	live, _, _ := newTestRedisLive(t)
	room, next := NewRoomID(), NewRoomID()
	later := newCollector()
	var once sync.Once
	var unsub func()
	done := make(chan struct{})
	unsub = live.Subscribe(room, func(Event) {
		// On the delivery goroutine: subscribing waits for Redis, which
		// must not wait for this handler.
		once.Do(func() {
			live.Subscribe(next, later.handle)
			unsub()
			close(done)
		})
	})
	publishSeq(t, live, room, 1)
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("a handler that subscribes and unsubscribes did not return within 10s")
	}
	publishSeq(t, live, next, 1)
	later.waitFor(t, 1)
}

func TestRedisBusComesBackAfterLosingItsConnection(t *testing.T) {
	checkNoLeaks(t)
	client, prefix := testRedis(t)
	// A client of its own name, to find its pub/sub connection.
	opt := client.Options()
	opt.ClientName = strings.ReplaceAll(prefix, ":", "-")
	own := redis.NewClient(opt)
	t.Cleanup(func() { _ = own.Close() })
	live := NewRedisLive(own, prefix)
	t.Cleanup(func() { _ = live.Close() })
	room := NewRoomID()
	c := newCollector()
	live.Subscribe(room, c.handle)

	killed := 0
	list, err := client.ClientList(t.Context()).Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(list, "\n") {
		fields := make(map[string]string)
		for _, f := range strings.Fields(line) {
			k, v, _ := strings.Cut(f, "=")
			fields[k] = v
		}
		if fields["name"] == opt.ClientName && fields["sub"] != "0" {
			id, _ := strconv.ParseInt(fields["id"], 10, 64)
			if err := client.ClientKillByFilter(t.Context(), "ID", fmt.Sprint(id)).Err(); err != nil {
				t.Fatal(err)
			}
			killed++
		}
	}
	if killed != 1 {
		t.Fatalf("killed %d pub/sub connections, want the one", killed)
	}
	// What is published while the connection is down is lost; once it is
	// back (resubscribed by go-redis), events flow again.
	seq := uint64(0)
	eventually(t, "events flow again after the connection was killed", func() bool {
		seq++
		publishSeq(t, live, room, seq)
		return len(c.got()) > 0
	})
}

func TestRedisBusCloseStopsEverything(t *testing.T) {
	checkNoLeaks(t)
	live, _, _ := newTestRedisLive(t)
	room := NewRoomID()
	c := newCollector()
	live.Subscribe(room, c.handle)
	publishSeq(t, live, room, 1)
	c.waitFor(t, 1)
	if err := live.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := live.Close(); err != nil {
		t.Fatalf("a second Close: %v", err)
	}
	// After Close, subscribing does nothing and returns at once.
	unsub := live.Subscribe(room, c.handle)
	unsub()
	// The store still works; only delivery stopped.
	if err := live.Ping(t.Context()); err != nil {
		t.Fatal(err)
	}
}

func TestRedisEventJSON(t *testing.T) {
	tests := []struct {
		name string
		json string
		want Event
	}{
		{
			"cjson writes 14 significant digits, so big numbers come in exponent form",
			`{"t":"participant_updated","room":"rm_x","seq":1e+14,"at":1772388000000,"p":{"u":"usr_a","h":1.5e+14,"j":0,"s":1772388000001,"o":3,"d":false}}`,
			Event{Type: EventParticipantUpdated, Room: "rm_x", Seq: 1e14, At: redisEpoch,
				Participant: Participant{UserID: "usr_a", HandSeq: 15e13, StageSince: redisEpoch.Add(time.Millisecond)}},
		},
		{
			"a departure carries only the user and session",
			`{"t":"participant_left","room":"rm_x","seq":2,"at":1772388000000,"p":{"u":"usr_a","ses":"ses_b"},"reason":"removed","by":"usr_c","blocked":true}`,
			Event{Type: EventParticipantLeft, Room: "rm_x", Seq: 2, At: redisEpoch, Participant: Participant{UserID: "usr_a", Session: "ses_b"},
				Reason: ReasonRemoved, By: "usr_c", Blocked: true},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := decodeEvent([]byte(tt.json))
			if err != nil {
				t.Fatal(err)
			}
			if !sameEvent(got, tt.want) || got.Participant.JoinedAt != (time.Time{}) {
				t.Errorf("decoded\n%+v\nwant\n%+v", got, tt.want)
			}
			b, err := encodeEvent(got)
			if err != nil {
				t.Fatal(err)
			}
			again, err := decodeEvent(b)
			if err != nil || !sameEvent(again, got) {
				t.Errorf("round trip: %+v, %v", again, err)
			}
		})
	}
	if _, err := decodeEvent([]byte(`{"t":"room_updated","seq":1.5}`)); err == nil {
		t.Error("a fractional seq decoded")
	}
}
