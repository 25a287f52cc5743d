package members

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Rate is Burst attempts per Per: a bucket of Burst attempts that gets
// one back every Per/Burst. "5/5m" is five at once, then one a minute.
type Rate struct {
	Burst int
	Per   time.Duration
}

// ParseRate reads a rate written as "N/duration", such as "5/5m".
func ParseRate(s string) (Rate, error) {
	n, d, ok := strings.Cut(strings.TrimSpace(s), "/")
	if !ok {
		return Rate{}, fmt.Errorf("rate %q: want attempts/duration, such as 5/5m", s)
	}
	burst, err := strconv.Atoi(n)
	if err != nil {
		return Rate{}, fmt.Errorf("rate %q: %q is not a whole number", s, n)
	}
	per, err := time.ParseDuration(d)
	if err != nil {
		return Rate{}, fmt.Errorf("rate %q: %w", s, err)
	}
	r := Rate{Burst: burst, Per: per}
	return r, r.validate()
}

// String writes the rate as ParseRate reads it.
func (r Rate) String() string { return strconv.Itoa(r.Burst) + "/" + r.Per.String() }

func (r Rate) validate() error {
	if r.Burst < 1 || r.Burst > 1_000_000 {
		return fmt.Errorf("rate %v: attempts must be 1 to 1000000", r)
	}
	if r.Per < time.Millisecond*time.Duration(r.Burst) {
		return fmt.Errorf("rate %v: the duration must be at least a millisecond per attempt", r)
	}
	return nil
}

// interval is how long the bucket takes to get one attempt back.
func (r Rate) interval() time.Duration { return r.Per / time.Duration(r.Burst) }

// Limiter counts attempts per key, at one Rate. Implementations: in
// process (NewMemoryLimiter) and on Redis (NewRedisLimiter), held to one
// contract suite.
type Limiter interface {
	// Take spends one of key's attempts at now. With none left it spends
	// nothing and returns a *RateLimitError (errors.Is ErrRateLimited)
	// saying how long until one is back.
	Take(ctx context.Context, key string, now time.Time) error
	// Give returns one attempt to key, never past the burst: an attempt
	// that turned out to be legitimate.
	Give(ctx context.Context, key string, now time.Time) error
}

// The buckets are kept as GCRA's "theoretical arrival time" (tat): the
// moment the bucket would be full again. A bucket is full when tat <= now,
// and a take is allowed while tat, after it, stays within Burst intervals
// of now. One timestamp per key, and nothing to do for a full bucket,
// which is simply forgotten.

// gcraTake returns the new tat, or how long to wait.
func gcraTake(tat, now time.Time, r Rate) (time.Time, time.Duration) {
	if tat.Before(now) {
		tat = now
	}
	next := tat.Add(r.interval())
	if over := next.Sub(now) - r.Per; over > 0 {
		return tat, over
	}
	return next, 0
}

// gcraGive returns the tat after giving one attempt back.
func gcraGive(tat, now time.Time, r Rate) time.Time {
	tat = tat.Add(-r.interval())
	if tat.Before(now) {
		return now
	}
	return tat
}

// MemoryLimiter is a Limiter for one process.
type MemoryLimiter struct {
	rate Rate
	mu   sync.Mutex // guards tats and takes
	tats map[string]time.Time
	// takes counts Takes since the last sweep of full buckets.
	takes int
}

var _ Limiter = (*MemoryLimiter)(nil)

// sweepEvery is how many takes pass between sweeps of the full buckets,
// which keeps the map at about the keys seen within one Per.
const sweepEvery = 1024

// NewMemoryLimiter returns a Limiter that keeps its counts in this process.
func NewMemoryLimiter(r Rate) *MemoryLimiter {
	return &MemoryLimiter{rate: r, tats: map[string]time.Time{}}
}

// Take implements Limiter.
func (l *MemoryLimiter) Take(_ context.Context, key string, now time.Time) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.takes++
	if l.takes >= sweepEvery {
		l.takes = 0
		for k, tat := range l.tats {
			if !tat.After(now) {
				delete(l.tats, k)
			}
		}
	}
	tat, wait := gcraTake(l.tats[key], now, l.rate)
	if wait > 0 {
		return &RateLimitError{RetryAfter: wait}
	}
	l.tats[key] = tat
	return nil
}

// Give implements Limiter.
func (l *MemoryLimiter) Give(_ context.Context, key string, now time.Time) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	tat, ok := l.tats[key]
	if !ok {
		return nil
	}
	if tat = gcraGive(tat, now, l.rate); tat.After(now) {
		l.tats[key] = tat
	} else {
		delete(l.tats, key)
	}
	return nil
}

// size is how many buckets are kept (tests).
func (l *MemoryLimiter) size() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.tats)
}

// retryAfter returns how long a rate-limit error asks to wait, or 0.
func retryAfter(err error) time.Duration {
	var rl *RateLimitError
	if errors.As(err, &rl) {
		return rl.RetryAfter
	}
	return 0
}
