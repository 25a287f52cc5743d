package rooms

import (
	"time"

	"github.com/parley-audio/parley/internal/ratelimit"
)

// ChatRate is how fast a member may chat: PerMinute messages a minute on
// average, and up to Burst at once.
type ChatRate struct {
	PerMinute int
	Burst     int
}

// DefaultChatRate is 30 messages a minute, 5 at once.
func DefaultChatRate() ChatRate { return ChatRate{PerMinute: 30, Burst: 5} }

// Rate is the chat rate as a rate limit: a bucket of Burst messages, one
// of which comes back every minute/PerMinute. Both must be positive.
func (r ChatRate) Rate() ratelimit.Rate {
	interval := time.Minute / time.Duration(r.PerMinute)
	return ratelimit.Rate{N: r.Burst, Per: interval * time.Duration(r.Burst)}
}
