package testenv

import (
	"sync"
	"time"
)

// Clock is a clock a test moves by hand: the code under test takes its
// Now (as a func() time.Time), and the test calls Advance instead of
// sleeping. It is safe for concurrent use. Its zero value reads the zero
// time; NewClock starts it elsewhere.
type Clock struct {
	mu  sync.Mutex // guards now
	now time.Time
}

// NewClock returns a clock that reads start until it is advanced.
func NewClock(start time.Time) *Clock { return &Clock{now: start} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock d forward.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}
