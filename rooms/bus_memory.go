package rooms

import (
	"context"
	"slices"
	"sync"
)

// MemoryBus is the in-process Bus. Each room with subscribers has a queue
// and one goroutine that delivers its events in order, so handlers run on
// the bus's goroutine and may call back into rooms without deadlocking
// whoever published. Its zero value is not usable; call NewMemoryBus.
type MemoryBus struct {
	mu     sync.Mutex // guards topics, next and closed
	topics map[RoomID]*topic
	next   uint64
	closed bool
	wg     sync.WaitGroup // one per topic goroutine
}

var _ Bus = (*MemoryBus)(nil)

type subscriber struct {
	id uint64
	fn func(Event)
}

// topic is one room's subscribers and undelivered events.
type topic struct {
	mu    sync.Mutex // guards subs and queue
	subs  []subscriber
	queue []Event
	wake  chan struct{} // capacity 1: the queue has events
	done  chan struct{} // closed when the last subscriber leaves
}

// NewMemoryBus returns a bus with no subscribers.
func NewMemoryBus() *MemoryBus {
	return &MemoryBus{topics: make(map[RoomID]*topic)}
}

// Publish implements Bus. Events of a room without subscribers are
// dropped: nobody on this process is listening.
func (b *MemoryBus) Publish(_ context.Context, ev Event) error {
	b.emit(ev.Room, ev)
	return nil
}

// emit queues events for delivery in the given order. The memory store
// calls it under its own lock, which is what orders events across callers.
func (b *MemoryBus) emit(room RoomID, evs ...Event) {
	if len(evs) == 0 {
		return
	}
	b.mu.Lock()
	t := b.topics[room]
	b.mu.Unlock()
	if t == nil {
		return
	}
	t.mu.Lock()
	t.queue = append(t.queue, evs...)
	t.mu.Unlock()
	select {
	case t.wake <- struct{}{}:
	default:
	}
}

// Subscribe implements Bus. After unsubscribe returns, fn may still be
// called once for an event already being delivered.
func (b *MemoryBus) Subscribe(room RoomID, fn func(Event)) func() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.next++
	id := b.next
	t := b.topics[room]
	if t == nil && !b.closed {
		t = &topic{wake: make(chan struct{}, 1), done: make(chan struct{})}
		b.topics[room] = t
		b.wg.Add(1)
		go func() { defer b.wg.Done(); t.run() }()
	}
	if t != nil {
		t.mu.Lock()
		t.subs = append(slices.Clip(t.subs), subscriber{id: id, fn: fn})
		t.mu.Unlock()
	}
	var once sync.Once
	return func() { once.Do(func() { b.unsubscribe(room, t, id) }) }
}

func (b *MemoryBus) unsubscribe(room RoomID, t *topic, id uint64) {
	if t == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	t.mu.Lock()
	t.subs = slices.DeleteFunc(slices.Clone(t.subs), func(s subscriber) bool { return s.id == id })
	last := len(t.subs) == 0
	t.mu.Unlock()
	if last && b.topics[room] == t {
		delete(b.topics, room)
		close(t.done)
	}
}

// run delivers the topic's events until its last subscriber leaves.
func (t *topic) run() {
	for {
		select {
		case <-t.done:
			return
		case <-t.wake:
		}
		for {
			t.mu.Lock()
			evs, subs := t.queue, t.subs
			t.queue = nil
			t.mu.Unlock()
			if len(evs) == 0 {
				break
			}
			for _, ev := range evs {
				for _, s := range subs {
					s.fn(ev)
				}
			}
		}
	}
}

// Close stops delivery and waits for the bus's goroutines. Idempotent.
func (b *MemoryBus) Close() error {
	b.mu.Lock()
	if !b.closed {
		b.closed = true
		for room, t := range b.topics {
			delete(b.topics, room)
			close(t.done)
		}
	}
	b.mu.Unlock()
	b.wg.Wait()
	return nil
}
