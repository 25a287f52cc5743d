package sfu

import (
	"context"
	"sync"
)

// opQueue runs one peer's signaling work (offers, answers, candidates,
// renegotiation) on a single goroutine, in order. Serializing instead of
// locking means a Pion call never runs under one of our locks, and the
// server's offers reach OnOffer in the same order as the answers that
// HandleOffer returns, which glare handling depends on.
type opQueue struct {
	mu     sync.Mutex // guards ops and closed
	ops    []func()
	closed bool

	wake chan struct{} // capacity 1: ops is not empty
	quit chan struct{} // closed by stop
	done chan struct{} // closed when run returns
}

func newOpQueue() *opQueue {
	return &opQueue{
		wake: make(chan struct{}, 1),
		quit: make(chan struct{}),
		done: make(chan struct{}),
	}
}

// push queues f. It reports false, dropping f, once the queue is stopped.
func (q *opQueue) push(f func()) bool {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return false
	}
	q.ops = append(q.ops, f)
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
	return true
}

// run executes queued ops until stop. The owner starts it once.
func (q *opQueue) run() {
	defer close(q.done)
	for {
		select {
		case <-q.quit:
			return
		case <-q.wake:
		}
		for {
			q.mu.Lock()
			if len(q.ops) == 0 || q.closed {
				q.mu.Unlock()
				break
			}
			f := q.ops[0]
			q.ops[0] = nil
			q.ops = q.ops[1:]
			q.mu.Unlock()
			f()
		}
	}
}

// stop refuses further ops, lets the running op finish, discards the rest,
// and waits for run to return. Idempotent; must not be called from an op.
func (q *opQueue) stop() {
	q.mu.Lock()
	if !q.closed {
		q.closed = true
		q.ops = nil
		close(q.quit)
	}
	q.mu.Unlock()
	<-q.done
}

// call runs f on the queue and waits for its result. It returns ErrClosed
// if the queue stops first and ctx's error if ctx ends first; f itself is
// skipped if ctx has ended by the time its turn comes.
func call[T any](ctx context.Context, q *opQueue, f func() (T, error)) (T, error) {
	type result struct {
		v   T
		err error
	}
	var zero T
	ch := make(chan result, 1)
	ok := q.push(func() {
		if err := ctx.Err(); err != nil {
			ch <- result{err: err}
			return
		}
		v, err := f()
		ch <- result{v, err}
	})
	if !ok {
		return zero, ErrClosed
	}
	select {
	case r := <-ch:
		return r.v, r.err
	case <-ctx.Done():
		return zero, ctx.Err()
	case <-q.done:
		// The op may have completed just before the queue stopped.
		select {
		case r := <-ch:
			return r.v, r.err
		default:
			return zero, ErrClosed
		}
	}
}
