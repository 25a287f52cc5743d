package ratelimit

import (
	"context"
	_ "embed"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

var (
	//go:embed gcra.lua
	gcraLua string
	//go:embed gcra_give.lua
	gcraGiveLua string

	gcra     = redis.NewScript(gcraLua)
	gcraGive = redis.NewScript(gcraGiveLua)
)

// Redis is a Limiter shared by every process on one Redis: the generic
// cell rate algorithm (GCRA, the token bucket kept as one timestamp per
// key) in one Lua script, so that concurrent calls from many processes
// never take more than the bucket holds. Each key is its own Redis key,
// which expires once its bucket is full again, so idle keys cost nothing.
// Its zero value is not usable; call NewRedis.
type Redis struct {
	client redis.UniversalClient
	prefix string
	rate   Rate
}

var _ Limiter = (*Redis)(nil)

// NewRedis returns a limiter that allows r per key, keeping its state
// under prefix (such as "parley:rl:joins"; one prefix per kind of limit).
// r must be valid.
func NewRedis(client redis.UniversalClient, prefix string, r Rate) *Redis {
	return &Redis{client: client, prefix: prefix, rate: r}
}

// Allow implements Limiter.
func (l *Redis) Allow(ctx context.Context, key string, now time.Time) (bool, time.Duration, error) {
	// Microseconds: an interval of a few hundred microseconds must not round
	// to zero, and Lua's numbers hold them exactly for a few centuries.
	res, err := gcra.Run(ctx, l.client, []string{l.prefix + ":" + key},
		now.UnixMicro(), l.rate.interval().Microseconds(), l.rate.Per.Microseconds()).Int64Slice()
	if err != nil {
		return false, 0, fmt.Errorf("rate limit %s: redis: %w", l.prefix, err)
	}
	if len(res) != 2 {
		return false, 0, fmt.Errorf("rate limit %s: redis: reply %v", l.prefix, res)
	}
	if res[0] == 1 {
		return true, 0, nil
	}
	return false, time.Duration(res[1]) * time.Microsecond, nil
}

// Give implements Limiter.
func (l *Redis) Give(ctx context.Context, key string, now time.Time) error {
	err := gcraGive.Run(ctx, l.client, []string{l.prefix + ":" + key},
		now.UnixMicro(), l.rate.interval().Microseconds()).Err()
	if err != nil {
		return fmt.Errorf("rate limit %s: give back: redis: %w", l.prefix, err)
	}
	return nil
}
