package testenv

import (
	"context"
	"fmt"
	"net"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

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
