package ratelimit

import (
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/parley-audio/parley/internal/testenv"
)

func TestRedisLimiterContract(t *testing.T) {
	testLimiter(t, func(t *testing.T, r Rate) Limiter {
		client, prefix := testenv.Redis(t)
		return NewRedis(client, prefix+":rl", r)
	})
}

// Two processes on one Redis share one bucket per key.
func TestRedisLimiterIsOneLimitAcrossProcesses(t *testing.T) {
	client, prefix := testenv.Redis(t)
	r := Rate{N: 3, Per: time.Minute}
	a, b := NewRedis(client, prefix+":rl", r), NewRedis(client, prefix+":rl", r)
	got := 0
	for i := range 6 {
		l := a
		if i%2 == 1 {
			l = b
		}
		if ok, _, err := l.Allow(t.Context(), "m", epoch); err != nil {
			t.Fatal(err)
		} else if ok {
			got++
		}
	}
	if got != 3 {
		t.Errorf("%d allowed across two limiters, want 3", got)
	}
}

// A key's state expires once its bucket would be full again, so idle keys
// leave nothing in Redis.
func TestRedisLimiterKeyExpires(t *testing.T) {
	client, prefix := testenv.Redis(t)
	l := NewRedis(client, prefix+":rl", Rate{N: 2, Per: time.Minute})
	now := time.Now()
	if ok, _, err := l.Allow(t.Context(), "m", now); err != nil || !ok {
		t.Fatal(ok, err)
	}
	ttl, err := client.PTTL(t.Context(), prefix+":rl:m").Result()
	if err != nil {
		t.Fatal(err)
	}
	// One token used: the bucket is full again one interval (30 s) later.
	if ttl <= 29*time.Second || ttl > 30*time.Second {
		t.Errorf("TTL = %v, want about 30s", ttl)
	}
}

// Giving back the only token taken deletes the key: a full bucket leaves
// nothing behind.
func TestRedisLimiterKeyGoesWhenGivenBackToFull(t *testing.T) {
	client, prefix := testenv.Redis(t)
	l := NewRedis(client, prefix+":rl", Rate{N: 2, Per: time.Minute})
	now := time.Now()
	if ok, _, err := l.Allow(t.Context(), "m", now); err != nil || !ok {
		t.Fatal(ok, err)
	}
	if err := l.Give(t.Context(), "m", now); err != nil {
		t.Fatal(err)
	}
	if n, err := client.Exists(t.Context(), prefix+":rl:m").Result(); err != nil || n != 0 {
		t.Errorf("EXISTS = %d, %v after giving the token back; want 0", n, err)
	}
}

func TestRedisLimiterUnreachable(t *testing.T) {
	client := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", DialTimeout: 200 * time.Millisecond, MaxRetries: -1})
	defer client.Close()
	l := NewRedis(client, "x", Rate{N: 1, Per: time.Minute})
	if ok, _, err := l.Allow(t.Context(), "k", epoch); err == nil || ok {
		t.Errorf("Allow on an unreachable Redis = %v, %v; want an error and a refusal", ok, err)
	}
	if err := l.Give(t.Context(), "k", epoch); err == nil {
		t.Error("Give on an unreachable Redis: no error")
	}
}
