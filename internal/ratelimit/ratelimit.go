// Package ratelimit limits how often something may happen per key (a
// member's ID, a client's address): N times per period, with bursts of up
// to N. It has two implementations of one contract: Memory, for one
// process, and Redis, which every process sharing a Redis enforces as one
// limit (so a cluster cannot be used to multiply a member's allowance).
//
// Callers pass the time (now), as the live stores do, so that one clock
// rules every limiter and tests need no sleeping.
package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Rate is N events per Per, with bursts of up to N: a bucket of N tokens
// that refills one token every Per/N.
type Rate struct {
	N   int
	Per time.Duration
}

// interval is the time one token takes to come back.
func (r Rate) interval() time.Duration { return r.Per / time.Duration(r.N) }

// String gives the rate in the form ParseRate reads: "10/1m0s".
func (r Rate) String() string { return strconv.Itoa(r.N) + "/" + r.Per.String() }

// Validate reports whether the rate can be enforced.
func (r Rate) Validate() error {
	switch {
	case r.N < 1 || r.N > 1_000_000:
		return errors.New("the count must be from 1 to 1000000")
	case r.Per < time.Millisecond || r.Per > 7*24*time.Hour:
		return errors.New("the period must be from 1ms to 168h")
	case r.interval() < time.Microsecond:
		return errors.New("the period is too short for the count")
	}
	return nil
}

// ParseRate reads "N/period", such as "10/1m" (ten a minute, in bursts of
// up to ten) or "30/1h".
func ParseRate(s string) (Rate, error) {
	n, per, ok := strings.Cut(strings.TrimSpace(s), "/")
	if !ok {
		return Rate{}, fmt.Errorf("rate %q: want N/period, such as 10/1m", s)
	}
	count, err := strconv.Atoi(strings.TrimSpace(n))
	if err != nil {
		return Rate{}, fmt.Errorf("rate %q: %q is not a whole number", s, n)
	}
	d, err := time.ParseDuration(strings.TrimSpace(per))
	if err != nil {
		return Rate{}, fmt.Errorf("rate %q: %w", s, err)
	}
	r := Rate{N: count, Per: d}
	if err := r.Validate(); err != nil {
		return Rate{}, fmt.Errorf("rate %q: %w", s, err)
	}
	return r, nil
}

// Limiter is what both implementations offer. An error means the limiter
// could not decide (Redis unreachable); callers refuse rather than let
// everything through.
type Limiter interface {
	// Allow takes one token from key's bucket at now. When there is none
	// it takes nothing and says how long until there is one.
	Allow(ctx context.Context, key string, now time.Time) (ok bool, retryAfter time.Duration, err error)
	// Give puts one token back into key's bucket, never past N: for an
	// event that turned out not to count (sign-in gives a right
	// password's attempt back).
	Give(ctx context.Context, key string, now time.Time) error
}
