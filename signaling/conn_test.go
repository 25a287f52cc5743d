package signaling

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"go.uber.org/goleak"
)

// fakeWriter records frames; when stall is set, Write blocks until the
// connection is dropped, like a client that stopped reading.
type fakeWriter struct {
	stall   bool
	mu      sync.Mutex
	frames  []string
	code    websocket.StatusCode
	dropped chan struct{}
	once    sync.Once
	got     chan struct{}
}

func newFakeWriter(stall bool) *fakeWriter {
	return &fakeWriter{stall: stall, dropped: make(chan struct{}), got: make(chan struct{}, 1024)}
}

func (w *fakeWriter) Write(ctx context.Context, _ websocket.MessageType, p []byte) error {
	if w.stall {
		select {
		case <-w.dropped:
			return fmt.Errorf("closed")
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	w.mu.Lock()
	w.frames = append(w.frames, string(p))
	w.mu.Unlock()
	w.got <- struct{}{}
	return nil
}

func (w *fakeWriter) Close(code websocket.StatusCode, _ string) error {
	w.mu.Lock()
	w.code = code
	w.mu.Unlock()
	w.once.Do(func() { close(w.dropped) })
	return nil
}

func (w *fakeWriter) CloseNow() error {
	w.once.Do(func() { close(w.dropped) })
	return nil
}

// One client that stops reading never delays the others: broadcasts keep
// flowing to them, and the stalled one is cut off as a slow consumer.
func TestSlowClientNeverDelaysOthers(t *testing.T) {
	defer goleak.VerifyNone(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	const queue = 8
	fast1, fast2, slow := newFakeWriter(false), newFakeWriter(false), newFakeWriter(true)
	var boxes []*outbox
	var wg sync.WaitGroup
	for _, w := range []*fakeWriter{fast1, slow, fast2} {
		o := newOutbox(w, queue, time.Minute)
		boxes = append(boxes, o)
		wg.Add(1)
		go func() { defer wg.Done(); _ = o.run(ctx) }()
	}
	const n = 100
	for i := range n {
		frame := []byte(fmt.Sprintf(`{"type":"speaking","n":%d}`, i))
		for _, o := range boxes {
			o.send(frame) // never blocks, whoever is slow
		}
		// The fast clients have this frame before the next is sent: the
		// stalled one holds nobody up. (A deadline only guards a hang.)
		for _, w := range []*fakeWriter{fast1, fast2} {
			select {
			case <-w.got:
			case <-time.After(10 * time.Second):
				t.Fatalf("frame %d did not reach a fast client", i)
			}
		}
	}
	select {
	case <-slow.dropped:
	case <-time.After(10 * time.Second):
		t.Fatal("the stalled client was never cut off")
	}
	if !boxes[1].slow.Load() || boxes[1].dropped.Load() == 0 {
		t.Fatal("the stalled client was not marked as a slow consumer")
	}
	for _, o := range []*outbox{boxes[0], boxes[2]} {
		o.close(websocket.StatusNormalClosure, "")
	}
	wg.Wait()
	for _, w := range []*fakeWriter{fast1, fast2} {
		if len(w.frames) != n || w.code != websocket.StatusNormalClosure {
			t.Fatalf("fast client got %d frames and close %d, want %d and 1000", len(w.frames), w.code, n)
		}
	}
}

// Closing flushes what is queued, goodbye last, before the close frame.
func TestOutboxFlushesBeforeClosing(t *testing.T) {
	defer goleak.VerifyNone(t)
	w := newFakeWriter(false)
	o := newOutbox(w, 16, time.Minute)
	for i := range 5 {
		o.send([]byte(fmt.Sprint(i)))
	}
	o.send([]byte("goodbye"))
	o.close(websocket.StatusGoingAway, "shutdown")
	if o.send([]byte("late")) {
		t.Fatal("accepted a frame after close")
	}
	if err := o.run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(w.frames) != 6 || w.frames[5] != "goodbye" || w.code != websocket.StatusGoingAway {
		t.Fatalf("frames %v close %d", w.frames, w.code)
	}
}
