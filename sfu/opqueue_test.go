package sfu

import (
	"context"
	"errors"
	"testing"
)

func TestOpQueue(t *testing.T) {
	t.Run("runs ops in order", func(t *testing.T) {
		q := newOpQueue()
		go q.run()
		defer q.stop()
		var got []int
		for i := range 100 {
			q.push(func() { got = append(got, i) })
		}
		// call is queued behind the pushes, so they have all run.
		n, err := call(context.Background(), q, func() (int, error) { return len(got), nil })
		if err != nil || n != 100 {
			t.Fatalf("call = %d, %v", n, err)
		}
		for i, v := range got {
			if v != i {
				t.Fatalf("op %d ran as %d", i, v)
			}
		}
	})
	t.Run("stop waits for the running op and refuses more", func(t *testing.T) {
		q := newOpQueue()
		go q.run()
		started, release := make(chan struct{}), make(chan struct{})
		finished := false
		q.push(func() { close(started); <-release; finished = true })
		<-started
		stopped := make(chan struct{})
		go func() { q.stop(); close(stopped) }()
		close(release)
		<-stopped
		if !finished {
			t.Fatal("stop returned before the running op finished")
		}
		if q.push(func() {}) {
			t.Fatal("push accepted after stop")
		}
		if _, err := call(context.Background(), q, func() (int, error) { return 1, nil }); !errors.Is(err, ErrClosed) {
			t.Fatalf("call after stop: err = %v, want ErrClosed", err)
		}
		q.stop() // idempotent
	})
	t.Run("an op whose context ended is skipped", func(t *testing.T) {
		q := newOpQueue()
		go q.run()
		defer q.stop()
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		ran := false
		if _, err := call(ctx, q, func() (int, error) { ran = true; return 0, nil }); !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
		// Let the skipped op reach its turn before looking at ran.
		if _, err := call(context.Background(), q, func() (int, error) { return 0, nil }); err != nil {
			t.Fatal(err)
		}
		if ran {
			t.Fatal("op ran although its context had ended")
		}
	})
}
