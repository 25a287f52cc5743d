package members

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// RedisLimiter is a Limiter whose counts live in Redis, so that every
// process sharing that Redis enforces one limit. Each key is one string
// holding the bucket's tat (see gcraTake) in Unix milliseconds, expiring
// when the bucket is full again; one Lua script per attempt, atomic.
type RedisLimiter struct {
	client redis.Cmdable
	prefix string
	rate   Rate
}

var _ Limiter = (*RedisLimiter)(nil)

// NewRedisLimiter returns a Limiter on client, its keys under
// prefix + ":" (callers give each limit its own prefix).
func NewRedisLimiter(client redis.Cmdable, prefix string, r Rate) *RedisLimiter {
	return &RedisLimiter{client: client, prefix: prefix + ":", rate: r}
}

// limitScript is gcraTake and gcraGive in Lua.
//
// KEYS[1]: the bucket. ARGV: now (ms), interval (ms), per (ms), op
// ("take" or "give"). Returns 0 when done, or the milliseconds to wait.
var limitScript = redis.NewScript(`
local now = tonumber(ARGV[1])
local interval = tonumber(ARGV[2])
local per = tonumber(ARGV[3])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
if ARGV[4] == 'give' then
  tat = tat - interval
  if tat <= now then
    redis.call('DEL', KEYS[1])
  else
    redis.call('SET', KEYS[1], tat, 'PX', tat - now)
  end
  return 0
end
local nxt = tat + interval
local over = nxt - now - per
if over > 0 then return over end
redis.call('SET', KEYS[1], nxt, 'PX', nxt - now)
return 0
`)

func (l *RedisLimiter) run(ctx context.Context, key string, now time.Time, op string) (time.Duration, error) {
	wait, err := limitScript.Run(ctx, l.client, []string{l.prefix + key},
		now.UnixMilli(), l.rate.interval().Milliseconds(), l.rate.Per.Milliseconds(), op).Int64()
	if err != nil {
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return 0, fmt.Errorf("rate limit %s: %w", op, err)
		}
		return 0, fmt.Errorf("rate limit %s: %w: %w", op, ErrUnavailable, err)
	}
	return time.Duration(wait) * time.Millisecond, nil
}

// Take implements Limiter.
func (l *RedisLimiter) Take(ctx context.Context, key string, now time.Time) error {
	wait, err := l.run(ctx, key, now, "take")
	if err != nil {
		return err
	}
	if wait > 0 {
		return &RateLimitError{RetryAfter: wait}
	}
	return nil
}

// Give implements Limiter.
func (l *RedisLimiter) Give(ctx context.Context, key string, now time.Time) error {
	_, err := l.run(ctx, key, now, "give")
	return err
}
