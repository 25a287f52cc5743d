package rooms

import (
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// seqLog records the seqs of the events a subscriber is handed. Handlers
// run on the bus's goroutine, so it locks, and a test waits on it.
type seqLog struct {
	mu      sync.Mutex // guards seqs
	seqs    []uint64
	arrived chan struct{} // capacity 1: something was handed over
}

func newSeqLog() *seqLog { return &seqLog{arrived: make(chan struct{}, 1)} }

func (l *seqLog) handle(ev Event) {
	l.mu.Lock()
	l.seqs = append(l.seqs, ev.Seq)
	l.mu.Unlock()
	select {
	case l.arrived <- struct{}{}:
	default:
	}
}

func (l *seqLog) got() []uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.seqs)
}

// waitFor returns the seqs once there are n of them.
func (l *seqLog) waitFor(t *testing.T, n int) []uint64 {
	t.Helper()
	timeout := time.NewTimer(busWait)
	defer timeout.Stop()
	for {
		if s := l.got(); len(s) >= n {
			return s
		}
		select {
		case <-l.arrived:
		case <-timeout.C:
			t.Fatalf("waited %v for %d events, got %v", busWait, n, l.got())
		}
	}
}

func publishSeqs(t *testing.T, b Bus, room RoomID, from, to uint64) {
	t.Helper()
	for s := from; s <= to; s++ {
		if err := b.Publish(t.Context(), Event{Type: EventParticipantJoined, Room: room, Seq: s}); err != nil {
			t.Fatalf("Publish seq %d: %v", s, err)
		}
	}
}

func seqRange(from, to uint64) []uint64 {
	var s []uint64
	for i := from; i <= to; i++ {
		s = append(s, i)
	}
	return s
}

// newTestBus returns a bus that is closed when the test ends, after which
// none of the goroutines it started may be left.
func newTestBus(t *testing.T) *MemoryBus {
	t.Helper()
	before := goleak.IgnoreCurrent()
	b := NewMemoryBus()
	t.Cleanup(func() {
		if err := b.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		goleak.VerifyNone(t, before)
	})
	return b
}

// topicGoroutines counts the goroutines delivering some room's events now.
func topicGoroutines() int {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			return strings.Count(string(buf[:n]), "rooms.(*topic).run(")
		}
		buf = make([]byte, 2*len(buf))
	}
}

func TestMemoryBus(t *testing.T) {
	tests := []struct {
		name string
		run  func(t *testing.T, b *MemoryBus)
	}{
		{"every subscriber gets every event of its room in publish order", func(t *testing.T, b *MemoryBus) {
			room := NewRoomID()
			l1, l2 := newSeqLog(), newSeqLog()
			b.Subscribe(room, l1.handle)
			b.Subscribe(room, l2.handle)
			publishSeqs(t, b, room, 1, 100)
			for i, l := range []*seqLog{l1, l2} {
				if got := l.waitFor(t, 100); !slices.Equal(got, seqRange(1, 100)) {
					t.Errorf("subscriber %d got %v, want 1..100 in order", i+1, got)
				}
			}
		}},
		{"Publish does not wait for a handler", func(t *testing.T, b *MemoryBus) {
			room := NewRoomID()
			release := make(chan struct{})
			var once sync.Once
			free := func() { once.Do(func() { close(release) }) }
			defer free() // also when the test fails, so that Close can end
			l := newSeqLog()
			b.Subscribe(room, func(ev Event) {
				<-release
				l.handle(ev)
			})
			published := make(chan struct{})
			go func() {
				defer close(published)
				publishSeqs(t, b, room, 1, 3)
			}()
			select {
			case <-published:
			case <-time.After(busWait):
				t.Fatal("Publish blocked behind a handler that had not returned")
			}
			free()
			if got := l.waitFor(t, 3); !slices.Equal(got, []uint64{1, 2, 3}) {
				t.Errorf("got %v, want 1, 2, 3", got)
			}
		}},
		{"a room whose handler is slow does not hold up another room", func(t *testing.T, b *MemoryBus) {
			slow, other := NewRoomID(), NewRoomID()
			release := make(chan struct{})
			defer close(release)
			b.Subscribe(slow, func(Event) { <-release })
			l := newSeqLog()
			b.Subscribe(other, l.handle)
			publishSeqs(t, b, slow, 1, 1)
			publishSeqs(t, b, other, 1, 3)
			l.waitFor(t, 3)
		}},
		{"a subscriber hears only its own room", func(t *testing.T, b *MemoryBus) {
			a, other := NewRoomID(), NewRoomID()
			la, lother := newSeqLog(), newSeqLog()
			b.Subscribe(a, la.handle)
			b.Subscribe(other, lother.handle)
			publishSeqs(t, b, a, 1, 3)
			publishSeqs(t, b, other, 10, 11)
			// Each room's last event arrives after any stray one would.
			if got := la.waitFor(t, 3); !slices.Equal(got, []uint64{1, 2, 3}) {
				t.Errorf("room a got %v", got)
			}
			if got := lother.waitFor(t, 2); !slices.Equal(got, []uint64{10, 11}) {
				t.Errorf("the other room got %v", got)
			}
		}},
		{"an event published while nobody follows the room is dropped", func(t *testing.T, b *MemoryBus) {
			room := NewRoomID()
			publishSeqs(t, b, room, 1, 1)
			l := newSeqLog()
			b.Subscribe(room, l.handle)
			publishSeqs(t, b, room, 2, 2)
			if got := l.waitFor(t, 1); !slices.Equal(got, []uint64{2}) {
				t.Errorf("a later subscriber got %v, want only 2", got)
			}
		}},
		{"nothing arrives after unsubscribe, and unsubscribing again does nothing", func(t *testing.T, b *MemoryBus) {
			room := NewRoomID()
			witness, leaving := newSeqLog(), newSeqLog()
			b.Subscribe(room, witness.handle)
			unsubscribe := b.Subscribe(room, leaving.handle)
			publishSeqs(t, b, room, 1, 2)
			leaving.waitFor(t, 2)
			unsubscribe()
			unsubscribe()
			publishSeqs(t, b, room, 3, 4)
			if got := witness.waitFor(t, 4); !slices.Equal(got, seqRange(1, 4)) {
				t.Errorf("the witness got %v, want 1..4", got)
			}
			if got := leaving.got(); !slices.Equal(got, []uint64{1, 2}) {
				t.Errorf("the one who left got %v, want only 1 and 2", got)
			}
		}},
		{"unsubscribing removes that subscription, not every one of the same handler", func(t *testing.T, b *MemoryBus) {
			room := NewRoomID()
			l := newSeqLog()
			first := b.Subscribe(room, l.handle)
			b.Subscribe(room, l.handle)
			first()
			first()
			publishSeqs(t, b, room, 1, 2)
			if got := l.waitFor(t, 2); !slices.Equal(got, []uint64{1, 2}) {
				t.Errorf("got %v, want 1 and 2 once each, through the remaining subscription", got)
			}
		}},
		{"the room's goroutine ends with its last unsubscribe, and a new subscriber starts another", func(t *testing.T, b *MemoryBus) {
			room := NewRoomID()
			for round := range 2 {
				before := goleak.IgnoreCurrent()
				l := newSeqLog()
				u1 := b.Subscribe(room, l.handle)
				u2 := b.Subscribe(room, l.handle)
				publishSeqs(t, b, room, 1, 1)
				l.waitFor(t, 2)
				if n := topicGoroutines(); n != 1 {
					t.Errorf("round %d: %d goroutines deliver the room's events, want 1", round, n)
				}
				u1()
				if topicGoroutines() != 1 {
					t.Errorf("round %d: the room's goroutine ended while it still had a subscriber", round)
				}
				u2()
				goleak.VerifyNone(t, before)
			}
		}},
		{"a handler may publish on the same bus", func(t *testing.T, b *MemoryBus) {
			a, other := NewRoomID(), NewRoomID()
			la, lother := newSeqLog(), newSeqLog()
			b.Subscribe(other, lother.handle)
			b.Subscribe(a, func(ev Event) {
				la.handle(ev)
				if ev.Seq < 5 {
					publishSeqs(t, b, a, ev.Seq+1, ev.Seq+1)
					publishSeqs(t, b, other, ev.Seq+1, ev.Seq+1)
				}
			})
			publishSeqs(t, b, a, 1, 1)
			if got := la.waitFor(t, 5); !slices.Equal(got, seqRange(1, 5)) {
				t.Errorf("the room got %v, want 1..5", got)
			}
			if got := lother.waitFor(t, 4); !slices.Equal(got, seqRange(2, 5)) {
				t.Errorf("the other room got %v, want 2..5", got)
			}
		}},
		{"a handler may unsubscribe itself and subscribe another", func(t *testing.T, b *MemoryBus) {
			room := NewRoomID()
			self, later := newSeqLog(), newSeqLog()
			subscribed := make(chan struct{})
			var unsubscribe func()
			unsubscribe = b.Subscribe(room, func(ev Event) {
				self.handle(ev)
				unsubscribe()
				b.Subscribe(room, later.handle)
				close(subscribed)
			})
			publishSeqs(t, b, room, 1, 1)
			select {
			case <-subscribed:
			case <-time.After(busWait):
				t.Fatal("the handler did not run")
			}
			publishSeqs(t, b, room, 2, 2)
			if got := later.waitFor(t, 1); !slices.Equal(got, []uint64{2}) {
				t.Errorf("the later subscriber got %v, want [2]", got)
			}
			if got := self.got(); !slices.Equal(got, []uint64{1}) {
				t.Errorf("the handler that left got %v, want [1]", got)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.run(t, newTestBus(t)) })
	}
}

func TestMemoryBusCloseEndsEverythingAndIsIdempotent(t *testing.T) {
	before := goleak.IgnoreCurrent()
	b := NewMemoryBus()
	rooms := []RoomID{NewRoomID(), NewRoomID(), NewRoomID()}
	logs := make([]*seqLog, len(rooms))
	for i, r := range rooms {
		logs[i] = newSeqLog()
		b.Subscribe(r, logs[i].handle)
		publishSeqs(t, b, r, 1, 1)
	}
	for _, l := range logs {
		l.waitFor(t, 1)
	}
	for range 2 {
		if err := b.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		goleak.VerifyNone(t, before)
	}
	// A closed bus starts nothing and delivers nothing, without failing
	// those who still call it.
	unsubscribe := b.Subscribe(rooms[0], logs[0].handle)
	publishSeqs(t, b, rooms[0], 2, 2)
	unsubscribe()
	unsubscribe()
	goleak.VerifyNone(t, before)
	if got := logs[0].got(); !slices.Equal(got, []uint64{1}) {
		t.Errorf("after Close a subscriber got %v", got)
	}
}

func TestMemoryBusSubscribersComingAndGoingDuringPublishes(t *testing.T) {
	b, room := newTestBus(t), NewRoomID()
	const events = 2000
	steady := newSeqLog()
	b.Subscribe(room, steady.handle)

	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		defer close(done)
		publishSeqs(t, b, room, 1, events)
	})
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				l := newSeqLog()
				unsubscribe := b.Subscribe(room, l.handle)
				unsubscribe()
				// A subscription that came and went saw a run of the
				// stream, in order.
				if got := l.got(); !slices.IsSorted(got) || len(slices.Compact(got)) != len(got) {
					t.Errorf("a passing subscriber got %v out of order", got)
					return
				}
			}
		})
	}
	wg.Wait()
	if got := steady.waitFor(t, events); !slices.Equal(got, seqRange(1, events)) {
		t.Errorf("the steady subscriber got %d events, want 1..%d in order", len(got), events)
	}
}
