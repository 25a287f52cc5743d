package ratelimit

import (
	"context"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Memory is a Limiter for one process: a token bucket per key, from
// golang.org/x/time/rate. Keys whose bucket has refilled are forgotten, so
// memory stays bounded by the keys active within one period. Its zero value
// is not usable; call NewMemory.
type Memory struct {
	rate Rate

	mu        sync.Mutex // guards buckets and lastSweep
	buckets   map[string]*rate.Limiter
	lastSweep time.Time
}

var _ Limiter = (*Memory)(nil)

// NewMemory returns a limiter that allows r per key. r must be valid.
func NewMemory(r Rate) *Memory {
	return &Memory{rate: r, buckets: make(map[string]*rate.Limiter)}
}

// Allow implements Limiter.
func (m *Memory) Allow(_ context.Context, key string, now time.Time) (bool, time.Duration, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sweepLocked(now)
	b := m.buckets[key]
	if b == nil {
		b = rate.NewLimiter(rate.Every(m.rate.interval()), m.rate.N)
		m.buckets[key] = b
	}
	res := b.ReserveN(now, 1)
	if wait := res.DelayFrom(now); wait > 0 {
		// Not now: give the token back, so that asking again too early
		// does not push the next one further away.
		res.CancelAt(now)
		return false, wait, nil
	}
	return true, 0, nil
}

// sweepLocked forgets, once a period, the buckets that are full again: a
// new bucket would behave exactly the same.
func (m *Memory) sweepLocked(now time.Time) {
	if now.Sub(m.lastSweep) < m.rate.Per {
		return
	}
	m.lastSweep = now
	for k, b := range m.buckets {
		if b.TokensAt(now) >= float64(m.rate.N) {
			delete(m.buckets, k)
		}
	}
}

// Len returns how many keys the limiter remembers, for tests.
func (m *Memory) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.buckets)
}
