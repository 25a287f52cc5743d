package rooms

import (
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/parley-audio/parley/internal/testenv"
)

// testRedis returns a client of the test Redis and a key prefix of the
// test's own (see testenv.Redis).
func testRedis(t testing.TB) (*redis.Client, string) {
	t.Helper()
	return testenv.Redis(t)
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
