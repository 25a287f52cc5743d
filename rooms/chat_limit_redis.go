package rooms

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// RedisChatLimiter is the chat limit of a cluster: one GCRA state per
// member in Redis (the time their next message's token is due back), so
// that every process applies one limit. Times are the caller's, as in the
// live store. Its zero value is not usable; call NewRedisChatLimiter.
type RedisChatLimiter struct {
	client redis.UniversalClient
	prefix string
	rate   ChatRate
}

var _ ChatLimiter = (*RedisChatLimiter)(nil)

// NewRedisChatLimiter returns a limiter that keeps its state under
// prefix (as the live store's, without braces).
func NewRedisChatLimiter(client redis.UniversalClient, prefix string, r ChatRate) *RedisChatLimiter {
	return &RedisChatLimiter{client: client, prefix: prefix, rate: r}
}

// chatLimitScript is GCRA: tat is when the member's bucket is full again.
// A message is allowed when, with its token taken, the bucket would not be
// emptier than Burst allows; the key lives only while the bucket refills.
// KEYS[1] the member's key   ARGV[1] now (ms)   ARGV[2] interval (ms)
// ARGV[3] burst. Returns 0 (taken), or the ms until a message is free.
var chatLimitScript = redis.NewScript(`
local now, interval, burst = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then
  tat = now
end
local next_tat = tat + interval
local over = next_tat - now - interval * burst
if over > 0 then
  return math.ceil(over)
end
redis.call('SET', KEYS[1], tostring(next_tat), 'PX', math.ceil(next_tat - now))
return 0
`)

// Take implements ChatLimiter.
func (r *RedisChatLimiter) Take(ctx context.Context, user UserID, now time.Time) (time.Duration, error) {
	interval := float64(r.rate.interval()) / float64(time.Millisecond)
	ms, err := chatLimitScript.Run(ctx, r.client, []string{r.prefix + ":chatrate:" + string(user)},
		now.UnixMilli(), interval, r.rate.Burst).Int64()
	if err != nil {
		return 0, fmt.Errorf("chat limit: %w: redis: %w", ErrUnavailable, err)
	}
	return time.Duration(ms) * time.Millisecond, nil
}
