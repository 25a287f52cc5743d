package members

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

func contextWithCancel(t *testing.T) (context.Context, context.CancelFunc) {
	return context.WithCancel(t.Context())
}

func TestParseRate(t *testing.T) {
	for in, want := range map[string]Rate{
		"5/5m":   {Burst: 5, Per: 5 * time.Minute},
		" 20/1m": {Burst: 20, Per: time.Minute},
		"1/1s":   {Burst: 1, Per: time.Second},
	} {
		got, err := ParseRate(in)
		if err != nil || got != want {
			t.Errorf("ParseRate(%q) = %v, %v; want %v", in, got, err, want)
		}
		if back, err := ParseRate(got.String()); err != nil || back != got {
			t.Errorf("ParseRate(%q.String()) = %v, %v", in, back, err)
		}
	}
	for _, bad := range []string{"", "5", "5/", "/5m", "x/5m", "5/soon", "0/1m", "-1/1m", "5/-1m", "10/5ms", "2000000/1h"} {
		if r, err := ParseRate(bad); err == nil {
			t.Errorf("ParseRate(%q) = %v, want an error", bad, r)
		}
	}
}

func TestMemoryLimiterContract(t *testing.T) {
	testLimiter(t, func(t *testing.T, r Rate) Limiter { return NewMemoryLimiter(r) })
}

func TestRedisLimiterContract(t *testing.T) {
	testLimiter(t, func(t *testing.T, r Rate) Limiter {
		client, prefix := testRedis(t)
		return NewRedisLimiter(client, prefix, r)
	})
}

func testLimiter(t *testing.T, open func(*testing.T, Rate) Limiter) {
	ctx := context.Background()
	t.Run("a burst, then one attempt per interval", func(t *testing.T) {
		l := open(t, Rate{Burst: 3, Per: 3 * time.Minute})
		for i := range 3 {
			if err := l.Take(ctx, "k", epoch); err != nil {
				t.Fatalf("take %d: %v", i+1, err)
			}
		}
		err := l.Take(ctx, "k", epoch)
		if wait := retryAfter(err); !errors.Is(err, ErrRateLimited) || wait != time.Minute {
			t.Fatalf("fourth take: err = %v (retry after %v), want rate limited for a minute", err, wait)
		}
		// Another key is not touched.
		if err := l.Take(ctx, "other", epoch); err != nil {
			t.Errorf("another key: %v", err)
		}
		if err := l.Take(ctx, "k", epoch.Add(59*time.Second)); retryAfter(err) != time.Second {
			t.Errorf("a second early: err = %v, want one second to wait", err)
		}
		if err := l.Take(ctx, "k", epoch.Add(time.Minute)); err != nil {
			t.Errorf("after a minute: %v", err)
		}
		if err := l.Take(ctx, "k", epoch.Add(time.Minute)); !errors.Is(err, ErrRateLimited) {
			t.Errorf("the minute's attempt is spent: err = %v", err)
		}
		// A full refill after the whole period.
		for i := range 3 {
			if err := l.Take(ctx, "k", epoch.Add(5*time.Minute)); err != nil {
				t.Fatalf("after a full refill, take %d: %v", i+1, err)
			}
		}
	})
	t.Run("giving back returns one attempt, never past the burst", func(t *testing.T) {
		l := open(t, Rate{Burst: 2, Per: 2 * time.Hour})
		for range 5 {
			if err := l.Give(ctx, "k", epoch); err != nil {
				t.Fatal(err)
			}
		}
		for i := range 2 {
			if err := l.Take(ctx, "k", epoch); err != nil {
				t.Fatalf("take %d: %v", i+1, err)
			}
		}
		if err := l.Take(ctx, "k", epoch); !errors.Is(err, ErrRateLimited) {
			t.Fatalf("third take: %v; gives before any take must not raise the burst", err)
		}
		if err := l.Give(ctx, "k", epoch); err != nil {
			t.Fatal(err)
		}
		if err := l.Take(ctx, "k", epoch); err != nil {
			t.Errorf("take after a give: %v", err)
		}
	})
}

func TestMemoryLimiterForgetsFullBuckets(t *testing.T) {
	l := NewMemoryLimiter(Rate{Burst: 2, Per: time.Minute})
	for i := range sweepEvery - 1 {
		_ = l.Take(context.Background(), fmt.Sprint("k", i), epoch)
	}
	if l.size() != sweepEvery-1 {
		t.Fatalf("%d buckets, want %d", l.size(), sweepEvery-1)
	}
	// A minute later every bucket is full again, and the next sweep drops
	// them.
	_ = l.Take(context.Background(), "late", epoch.Add(time.Minute))
	if n := l.size(); n != 1 {
		t.Errorf("%d buckets after the sweep, want 1", n)
	}
}

// The tests that need Redis find it as rooms' tests do (a copy of
// rooms/redis_test_helper_test.go's testRedis): PARLEY_TEST_REDIS_URL,
// else a local Redis; skipped loudly without one, failed under CI=true.
func testRedis(t testing.TB) (*redis.Client, string) {
	t.Helper()
	url := os.Getenv("PARLEY_TEST_REDIS_URL")
	if url == "" {
		url = "redis://127.0.0.1:6379/0"
	}
	opt, err := redis.ParseURL(url)
	if err != nil {
		t.Fatalf("PARLEY_TEST_REDIS_URL=%q: %v", url, err)
	}
	opt.DialTimeout = 2 * time.Second
	client := redis.NewClient(opt)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := client.Ping(ctx).Err(); err != nil {
		_ = client.Close()
		msg := "NO REDIS at " + url + " (" + err.Error() + "): start one (redis-server) or set PARLEY_TEST_REDIS_URL"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg + "; CI=true, so this fails instead of skipping")
		}
		t.Skip("!!!!! SKIPPING a Redis test: " + msg + " !!!!!")
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	prefix := "parleytest:" + hex.EncodeToString(b[:])
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		var cursor uint64
		for {
			keys, next, err := client.Scan(ctx, cursor, prefix+":*", 1000).Result()
			if err != nil {
				t.Errorf("clean up redis keys: %v", err)
				break
			}
			if len(keys) > 0 {
				client.Del(ctx, keys...)
			}
			if cursor = next; cursor == 0 {
				break
			}
		}
		_ = client.Close()
	})
	return client, prefix
}
