package sfu

import (
	"fmt"
	"testing"
	"time"
)

// loudestRoom is a room forwarding its 2 loudest of 5 speakers to one
// listener, with the speaking interval driven by the test.
type loudestRoom struct {
	*room
	ticks    chan time.Time
	speakers []*testClient
	l        *testClient
	sent     uint64 // packets the speakers have sent
}

func newLoudestRoom(t *testing.T) *loudestRoom {
	lr := &loudestRoom{ticks: make(chan time.Time)}
	lr.room = newRoom(t, RouterParams{Logger: testLogger(), Ticks: lr.ticks, LoudestN: 2})
	for i := range 5 {
		lr.speakers = append(lr.speakers, lr.speaker(PeerID(fmt.Sprintf("speaker-%d", i))))
	}
	lr.l = lr.listener("listener", clientOpts{})
	// Before the first interval everyone is forwarded: bring every
	// stream up to the listener.
	for _, sp := range lr.speakers {
		warmUp(t, sp, lr.l)
	}
	return lr
}

// talk has every speaker send n packets tagged tag at its level, and
// waits until the server has read them all.
func (lr *loudestRoom) talk(tag byte, n int, levels [5]uint8) {
	lr.t.Helper()
	before := lr.sfu.Stats().PacketsIn
	for k := range n {
		for i, sp := range lr.speakers {
			sp.send(counterPayload(tag, uint32(k)), levels[i])
		}
	}
	want := before + uint64(n*len(lr.speakers))
	waitFor(lr.t, "server read every packet", func() bool { return lr.sfu.Stats().PacketsIn >= want })
}

// interval ends a speaking interval: the router chooses the loudest. The
// second tick returns only once the first has been handled.
func (lr *loudestRoom) interval() {
	lr.ticks <- time.Now()
	lr.ticks <- time.Now()
}

// heard returns how many packets tagged tag the listener got from each
// speaker.
func (lr *loudestRoom) heard(tag byte) [5]int {
	var got [5]int
	for i, sp := range lr.speakers {
		for _, p := range lr.l.from(sp.id) {
			if len(p.Payload) > 0 && p.Payload[0] == tag {
				got[i]++
			}
		}
	}
	return got
}

// With 5 speakers and N=2, the listener receives only the two loudest at
// each moment, and follows the change when others get louder.
func TestLoudestNForwardsOnlyTheLoudest(t *testing.T) {
	lr := newLoudestRoom(t)
	const n = 10
	phases := []struct {
		name    string
		levels  [5]uint8 // -dBov: lower is louder
		loudest [2]int
	}{
		{"speakers 0 and 1 loudest", [5]uint8{10, 20, 60, 70, 80}, [2]int{0, 1}},
		{"speakers 3 and 4 take over", [5]uint8{90, 90, 60, 8, 5}, [2]int{3, 4}},
		{"a close second does not displace a selected speaker", [5]uint8{90, 90, 60, 8, 6}, [2]int{3, 4}},
		{"speaker 2 starts talking and displaces the quieter one", [5]uint8{127, 127, 30, 100, 127}, [2]int{2, 3}},
	}
	for k, ph := range phases {
		t.Run(ph.name, func(t *testing.T) {
			// An interval at these levels decides; then packets at the same
			// levels show who is forwarded.
			lr.talk(byte(0x10+k), n, ph.levels)
			lr.interval()
			tag := byte(0x20 + k)
			dropsBefore := lr.sfu.Stats().Drops[DropNotLoudest]
			lr.talk(tag, n, ph.levels)
			want := [5]int{}
			for _, i := range ph.loudest {
				want[i] = n
			}
			waitFor(t, "the loudest speakers' packets", func() bool {
				got := lr.heard(tag)
				return got[ph.loudest[0]] == n && got[ph.loudest[1]] == n
			})
			if got := lr.heard(tag); got != want {
				t.Fatalf("listener got %v packets from each speaker, want %v", got, want)
			}
			if d := lr.sfu.Stats().Drops[DropNotLoudest] - dropsBefore; d != 3*n {
				t.Fatalf("%d packets dropped as not loudest, want %d", d, 3*n)
			}
		})
	}
	// Sequence numbers stay continuous across the pauses: every stream the
	// listener got has no gap.
	for i, sp := range lr.speakers {
		pkts := lr.l.from(sp.id)
		for j := 1; j < len(pkts); j++ {
			if d := pkts[j].SequenceNumber - pkts[j-1].SequenceNumber; d != 1 {
				t.Fatalf("speaker %d: sequence jumps by %d at packet %d", i, d, j)
			}
		}
	}
}

func TestLoudestNDefaultsAndOverride(t *testing.T) {
	if DefaultConfig().LoudestN != 0 {
		t.Fatal("by default every speaker is forwarded")
	}
	cfg := DefaultConfig()
	cfg.LoudestN = -1
	if err := cfg.Validate(); err == nil {
		t.Fatal("a negative LoudestN validates")
	}
	r := &Router{sfu: &SFU{cfg: Config{LoudestN: 3}}}
	if got := r.loudestN(); got != 3 {
		t.Fatalf("loudest-N %d, want the SFU default 3", got)
	}
	r.SetLoudestN(-1)
	if got := r.loudestN(); got != -1 {
		t.Fatalf("loudest-N %d after SetLoudestN(-1), want -1 (everyone)", got)
	}
	r.SetLoudestN(5)
	if got := r.loudestN(); got != 5 {
		t.Fatalf("loudest-N %d after SetLoudestN(5)", got)
	}
}
