package rooms

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// The tests that need Redis find it the same way in every package (copy
// this file): PARLEY_TEST_REDIS_URL, or a local Redis by default. Without
// one they skip, loudly, so that `go test ./...` still runs on a laptop;
// under CI=true they fail instead, so CI never passes by skipping.

const defaultTestRedisURL = "redis://127.0.0.1:6379/0"

// testRedis returns a client of the test Redis and a key prefix of the
// test's own. When the test ends, every key under the prefix is deleted
// and the client closed.
func testRedis(t testing.TB) (*redis.Client, string) {
	t.Helper()
	url := os.Getenv("PARLEY_TEST_REDIS_URL")
	if url == "" {
		url = defaultTestRedisURL
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
		// The test's context is done by now.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		deleteRedisPrefix(ctx, t, client, prefix)
		_ = client.Close()
	})
	return client, prefix
}

// deleteRedisPrefix deletes every key under prefix.
func deleteRedisPrefix(ctx context.Context, t testing.TB, client *redis.Client, prefix string) {
	t.Helper()
	iter := client.Scan(ctx, 0, prefix+":*", 1000).Iterator()
	for iter.Next(ctx) {
		if err := client.Del(ctx, iter.Val()).Err(); err != nil {
			t.Errorf("clean up Redis key %s: %v", iter.Val(), err)
			return
		}
	}
	if err := iter.Err(); err != nil {
		t.Errorf("clean up Redis keys %s:*: %v", prefix, err)
	}
}

// redisKeys lists the keys under prefix, for tests of what stays behind.
func redisKeys(t testing.TB, client *redis.Client, prefix string) []string {
	t.Helper()
	var keys []string
	iter := client.Scan(t.Context(), 0, prefix+":*", 1000).Iterator()
	for iter.Next(t.Context()) {
		keys = append(keys, iter.Val())
	}
	if err := iter.Err(); err != nil {
		t.Fatalf("list Redis keys %s:*: %v", prefix, err)
	}
	return keys
}
