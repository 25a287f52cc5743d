package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// DefaultRedisURL is the test Redis used when PARLEY_TEST_REDIS_URL is not
// set.
const DefaultRedisURL = "redis://127.0.0.1:6379/0"

// RedisURL returns the test Redis's URL: PARLEY_TEST_REDIS_URL, or
// DefaultRedisURL.
func RedisURL() string { return envOr("PARLEY_TEST_REDIS_URL", DefaultRedisURL) }

// Redis returns a client of the shared test Redis (RedisURL) and a key
// prefix of the test's own: tests that run at the same time, in this
// process or others, keep their keys apart, and must never flush. When the
// test ends every key under prefix+":" is deleted and the client closed.
//
// Without a reachable Redis the test is skipped loudly, or failed under
// CI=true.
func Redis(t testing.TB) (*redis.Client, string) {
	t.Helper()
	url := RedisURL()
	opt, err := redis.ParseURL(url)
	if err != nil {
		t.Fatalf("testenv: PARLEY_TEST_REDIS_URL=%q: %v", url, err)
	}
	opt.DialTimeout = 2 * time.Second
	client := redis.NewClient(opt)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := client.Ping(ctx).Err(); err != nil {
		_ = client.Close()
		unavailable(t, "REDIS", url, "PARLEY_TEST_REDIS_URL", err)
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	prefix := "parleytest:" + hex.EncodeToString(b[:])
	t.Cleanup(func() {
		DeleteRedisKeys(t, client, prefix)
		_ = client.Close()
	})
	return client, prefix
}

// DeleteRedisKeys deletes every key under prefix+":", as a Redis that
// restarted without persistence would have lost them.
func DeleteRedisKeys(t testing.TB, client *redis.Client, prefix string) {
	t.Helper()
	// The test's own context may be done by now (Cleanup).
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	iter := client.Scan(ctx, 0, prefix+":*", 1000).Iterator()
	for iter.Next(ctx) {
		if err := client.Del(ctx, iter.Val()).Err(); err != nil {
			t.Errorf("testenv: delete Redis key %s: %v", iter.Val(), err)
			return
		}
	}
	if err := iter.Err(); err != nil {
		t.Errorf("testenv: delete Redis keys %s:*: %v", prefix, err)
	}
}

// PrivateRedis is a redis-server of the test's own, on a free loopback
// port, with no persistence: for the tests that restart or flush Redis,
// which must never do it to the shared one other tests use.
type PrivateRedis struct {
	t    testing.TB
	port int
	cmd  *exec.Cmd
}

// StartRedis starts a private redis-server, stopped when the test ends.
// Without a redis-server binary the test is skipped loudly, or failed
// under CI=true.
func StartRedis(t testing.TB) *PrivateRedis {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		unavailable(t, "REDIS-SERVER BINARY", "$PATH", "PATH", err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	_ = l.Close()
	r := &PrivateRedis{t: t, port: port}
	r.start(bin)
	t.Cleanup(r.stop)
	return r
}

// URL is the server's redis:// URL.
func (r *PrivateRedis) URL() string { return "redis://127.0.0.1:" + strconv.Itoa(r.port) + "/0" }

func (r *PrivateRedis) start(bin string) {
	r.t.Helper()
	r.cmd = exec.Command(bin, "--port", strconv.Itoa(r.port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--protected-mode", "no")
	if err := r.cmd.Start(); err != nil {
		r.t.Fatalf("testenv: start redis-server: %v", err)
	}
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:" + strconv.Itoa(r.port)})
	defer c.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := c.Ping(ctx).Err()
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("testenv: redis-server on port %d did not answer: %v", r.port, err)
		}
		time.Sleep(20 * time.Millisecond) // waiting for a process to listen
	}
}

func (r *PrivateRedis) stop() {
	if r.cmd != nil && r.cmd.Process != nil {
		_ = r.cmd.Process.Kill()
		_ = r.cmd.Wait()
		r.cmd = nil
	}
}

// FlushAndRestart empties the server and restarts it on the same port,
// as a Redis without persistence that crashed and came back does. It
// returns once the new server answers.
func (r *PrivateRedis) FlushAndRestart() error {
	r.t.Helper()
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:" + strconv.Itoa(r.port)})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := c.FlushAll(ctx).Err() // our own server: no other test uses it
	_ = c.Close()
	if err != nil {
		return fmt.Errorf("testenv: flush: %w", err)
	}
	bin := r.cmd.Path
	r.stop()
	r.start(bin)
	return nil
}
