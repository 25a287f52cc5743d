package ratelimit

import (
	"context"
	"sync"
	"time"
)

// Memory is a Limiter for one process. It keeps the same GCRA state as
// Redis (one theoretical arrival time per key, see gcra.lua), so the two
// give the same answers; a library bucket such as golang.org/x/time/rate
// cannot give a token back (Give), only cancel one reservation "as much as
// possible". Keys whose bucket has refilled are forgotten, so memory stays
// bounded by the keys active within one period. Its zero value is not
// usable; call NewMemory.
type Memory struct {
	rate Rate

	mu        sync.Mutex // guards tats and lastSweep
	tats      map[string]time.Time
	lastSweep time.Time
}

var _ Limiter = (*Memory)(nil)

// NewMemory returns a limiter that allows r per key. r must be valid.
func NewMemory(r Rate) *Memory {
	return &Memory{rate: r, tats: make(map[string]time.Time)}
}

// Allow implements Limiter.
func (m *Memory) Allow(_ context.Context, key string, now time.Time) (bool, time.Duration, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sweepLocked(now)
	tat := m.tats[key]
	if tat.Before(now) {
		tat = now
	}
	next := tat.Add(m.rate.interval())
	// The bucket holds N tokens: tat may run at most one period ahead. A
	// refusal changes nothing, so asking too early does not push the next
	// token further away.
	if wait := next.Sub(now) - m.rate.Per; wait > 0 {
		return false, wait, nil
	}
	m.tats[key] = next
	return true, 0, nil
}

// Give implements Limiter.
func (m *Memory) Give(_ context.Context, key string, now time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	tat, ok := m.tats[key]
	if !ok {
		return nil // the bucket is full
	}
	if tat = tat.Add(-m.rate.interval()); tat.After(now) {
		m.tats[key] = tat
	} else {
		delete(m.tats, key)
	}
	return nil
}

// sweepLocked forgets, once a period, the buckets that are full again: a
// new bucket would behave exactly the same.
func (m *Memory) sweepLocked(now time.Time) {
	if now.Sub(m.lastSweep) < m.rate.Per {
		return
	}
	m.lastSweep = now
	for k, tat := range m.tats {
		if !tat.After(now) {
			delete(m.tats, k)
		}
	}
}

// Len returns how many keys the limiter remembers, for tests.
func (m *Memory) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.tats)
}
