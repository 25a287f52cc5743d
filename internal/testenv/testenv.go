// Package testenv gives the tests of every package the real services they
// run against: an isolated Postgres schema (Postgres) and a private key
// prefix on the shared Redis (Redis), each cleaned up when the test ends.
//
// The services are found through the environment, with local defaults:
//
//	PARLEY_TEST_DATABASE_URL  postgres://postgres@127.0.0.1:5432/test?sslmode=disable
//	PARLEY_TEST_REDIS_URL     redis://127.0.0.1:6379/0
//
// A test that cannot reach one is skipped with a loud message, so that
// `go test ./...` still runs on a laptop without them; under CI=true it
// fails instead, so that CI never passes by skipping.
//
// StartRedis also runs a private redis-server, for the tests that must
// restart or flush one. Clock and Buffer are the small helpers that
// several packages' tests share: a clock moved by hand, and a log buffer
// safe for concurrent use.
//
// Only tests may import this package.
package testenv

import (
	"os"
	"testing"
)

// unavailable skips t, loudly, or fails it under CI=true: a service the
// test needs cannot be reached.
func unavailable(t testing.TB, service, url, envVar string, err error) {
	t.Helper()
	msg := "NO " + service + " at " + url + " (" + err.Error() + "): start one or set " + envVar
	if os.Getenv("CI") == "true" {
		t.Fatal(msg + "; CI=true, so this fails instead of skipping")
	}
	t.Skip("!!!!! SKIPPING a " + service + " test: " + msg + " !!!!!")
}

// envOr returns the environment variable key, or def when it is empty.
func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}
