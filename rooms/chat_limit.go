package rooms

import (
	"context"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// ChatLimiter decides whether a member may send another chat message now.
// Implementations: in process (MemoryChatLimiter, one server) and in
// Redis (RedisChatLimiter, one limit across every process); both pass the
// contract suite in chat_limit_test.go.
type ChatLimiter interface {
	// Take takes one message of user's rate at now, and returns 0; or,
	// taking nothing, how long until one is free.
	Take(ctx context.Context, user UserID, now time.Time) (wait time.Duration, err error)
}

// ChatRate is how fast a member may chat: PerMinute messages a minute on
// average, and up to Burst at once.
type ChatRate struct {
	PerMinute int
	Burst     int
}

// DefaultChatRate is 30 messages a minute, 5 at once.
func DefaultChatRate() ChatRate { return ChatRate{PerMinute: 30, Burst: 5} }

// interval is the time one message's token takes to come back.
func (r ChatRate) interval() time.Duration { return time.Minute / time.Duration(r.PerMinute) }

// MemoryChatLimiter is a token bucket per member, in this process. Its
// zero value is not usable; call NewMemoryChatLimiter.
type MemoryChatLimiter struct {
	rate ChatRate

	mu      sync.Mutex // guards buckets and calls
	buckets map[UserID]*rate.Limiter
	calls   int
}

var _ ChatLimiter = (*MemoryChatLimiter)(nil)

// NewMemoryChatLimiter returns a limiter at the given rate, which must be
// positive.
func NewMemoryChatLimiter(r ChatRate) *MemoryChatLimiter {
	return &MemoryChatLimiter{rate: r, buckets: make(map[UserID]*rate.Limiter)}
}

// pruneEvery is how many calls pass between sweeps of full buckets, which
// keeps the map to the members chatting lately.
const pruneEvery = 1024

// Take implements ChatLimiter.
func (m *MemoryChatLimiter) Take(_ context.Context, user UserID, now time.Time) (time.Duration, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.calls++; m.calls%pruneEvery == 0 {
		for u, b := range m.buckets {
			// A full bucket is the same as none.
			if b.TokensAt(now) >= float64(m.rate.Burst) {
				delete(m.buckets, u)
			}
		}
	}
	b := m.buckets[user]
	if b == nil {
		b = rate.NewLimiter(rate.Every(m.rate.interval()), m.rate.Burst)
		m.buckets[user] = b
	}
	r := b.ReserveN(now, 1)
	if wait := r.DelayFrom(now); wait > 0 {
		r.CancelAt(now) // refused: it takes nothing
		return wait, nil
	}
	return 0, nil
}
