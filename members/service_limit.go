package members

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Limiter counts sign-in attempts per key (a username, a client address).
// internal/ratelimit's Memory and Redis implement it; cmd chooses.
type Limiter interface {
	// Allow takes one of key's attempts at now; with none left it takes
	// nothing and says how long until one is back.
	Allow(ctx context.Context, key string, now time.Time) (ok bool, retryAfter time.Duration, err error)
	// Give returns one attempt to key, never past the burst: an attempt
	// that turned out to be legitimate.
	Give(ctx context.Context, key string, now time.Time) error
}

// take spends one of key's attempts on l. With none left it is a
// *RateLimitError saying how long to wait; a limiter that cannot decide
// (Redis unreachable) is ErrUnavailable, and the attempt is refused.
func take(ctx context.Context, l Limiter, key string, now time.Time) error {
	ok, wait, err := l.Allow(ctx, key, now)
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("rate limit: %w", err)
	case err != nil:
		return fmt.Errorf("rate limit: %w: %w", ErrUnavailable, err)
	case !ok:
		return &RateLimitError{RetryAfter: wait}
	}
	return nil
}
