package client

import (
	"context"
	"time"
)

// pollInterval is how often WaitConnected looks at the connection state;
// Pion's state callbacks are single-subscriber, and the caller may use them.
const pollInterval = 10 * time.Millisecond

func sleepCtx(ctx context.Context) error {
	t := time.NewTimer(pollInterval)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
