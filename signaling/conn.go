package signaling

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// Close codes beyond RFC 6455's (docs/protocol.md, "Close codes").
const (
	closeUnauthorized websocket.StatusCode = 4401
	closeReplaced     websocket.StatusCode = 4409
	closeSlowConsumer websocket.StatusCode = 4429
)

// frameWriter is the part of a WebSocket the writer needs. It is an
// interface so tests can stand in a writer that stalls.
type frameWriter interface {
	Write(ctx context.Context, typ websocket.MessageType, p []byte) error
	Close(code websocket.StatusCode, reason string) error
	CloseNow() error
}

// outbox is a connection's bounded outgoing queue and the single goroutine
// that drains it. Enqueueing never blocks: a client that cannot keep up
// overflows its own queue and is disconnected, so no broadcast ever waits
// for it (centrifuge's writer.go and tailscale's derp sendPkt do the same).
type outbox struct {
	w            frameWriter
	queue        chan []byte
	writeTimeout time.Duration

	closeOnce sync.Once
	closing   chan struct{} // closed when the connection should end
	// code and reason are written once, before closing is closed.
	code   websocket.StatusCode
	reason string
	// slow is set when the queue overflowed; the writer then drops the
	// connection without flushing.
	slow    atomic.Bool
	dropped atomic.Uint64

	abortMu sync.Mutex // guards abort
	// abort cancels the write in flight. A slow consumer's writer is stuck
	// in a write that may never finish; cancelling it is cheap and does not
	// block, so it is safe from any goroutine, even under a hub's lock.
	abort context.CancelFunc
}

func newOutbox(w frameWriter, size int, writeTimeout time.Duration) *outbox {
	return &outbox{w: w, queue: make(chan []byte, size), writeTimeout: writeTimeout, closing: make(chan struct{})}
}

// send queues one frame. It reports false when the frame was not queued:
// the connection is closing, or its queue is full, in which case the
// connection is closed as a slow consumer.
func (o *outbox) send(frame []byte) bool {
	select {
	case <-o.closing:
		return false
	default:
	}
	select {
	case o.queue <- frame:
		return true
	default:
		o.dropped.Add(1)
		o.slow.Store(true)
		o.close(closeSlowConsumer, ReasonSlowConsumer)
		o.abortMu.Lock()
		if o.abort != nil {
			o.abort()
		}
		o.abortMu.Unlock()
		return false
	}
}

// close asks the writer to flush what is queued and close with code. Only
// the first call counts.
func (o *outbox) close(code websocket.StatusCode, reason string) {
	o.closeOnce.Do(func() {
		o.code, o.reason = code, reason
		close(o.closing)
	})
}

// done is closed when close has been called.
func (o *outbox) done() <-chan struct{} { return o.closing }

// run writes queued frames until close is called, then flushes and closes
// the WebSocket. It returns when the socket is closed; ctx ends it early.
func (o *outbox) run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	o.abortMu.Lock()
	o.abort = cancel
	o.abortMu.Unlock()
	for {
		select {
		case frame := <-o.queue:
			if err := o.write(ctx, frame); err != nil {
				o.close(websocket.StatusGoingAway, "write failed")
				_ = o.w.CloseNow()
				if o.slow.Load() {
					return errSlowConsumer
				}
				return err
			}
		case <-o.closing:
			return o.finish(ctx)
		case <-ctx.Done():
			_ = o.w.CloseNow()
			return ctx.Err()
		}
	}
}

func (o *outbox) write(ctx context.Context, frame []byte) error {
	wctx, cancel := context.WithTimeout(ctx, o.writeTimeout)
	defer cancel()
	return o.w.Write(wctx, websocket.MessageText, frame)
}

// finish flushes the frames already queued (a goodbye is usually the last)
// and closes with the code given to close. A slow consumer gets no flush:
// its queue is exactly what it could not take.
func (o *outbox) finish(ctx context.Context) error {
	if o.slow.Load() {
		_ = o.w.CloseNow()
		return errSlowConsumer
	}
	for {
		select {
		case frame := <-o.queue:
			if err := o.write(ctx, frame); err != nil {
				_ = o.w.CloseNow()
				return err
			}
		default:
			err := o.w.Close(o.code, o.reason)
			if err != nil && !isClosed(err) {
				_ = o.w.CloseNow()
				return err
			}
			return nil
		}
	}
}

var errSlowConsumer = errors.New("slow consumer: outgoing queue overflowed")

func isClosed(err error) bool {
	return websocket.CloseStatus(err) != -1 || errors.Is(err, context.Canceled)
}
