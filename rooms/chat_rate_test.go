package rooms

import (
	"testing"
	"time"

	"github.com/parley-audio/parley/internal/ratelimit"
)

// A chat rate of 60 a minute, 3 at once: a burst of three, then one a
// second. (internal/ratelimit holds its limiters, memory and Redis, to one
// contract; this checks what the chat rate asks of them.)
func TestChatRateIsABurstThenPerMinute(t *testing.T) {
	r := ChatRate{PerMinute: 60, Burst: 3}.Rate()
	if err := r.Validate(); err != nil {
		t.Fatal(err)
	}
	lim := ratelimit.NewMemory(r)
	now := liveEpoch
	allow := func(what string, want bool) time.Duration {
		t.Helper()
		ok, wait, err := lim.Allow(t.Context(), "ann", now)
		if err != nil {
			t.Fatal(err)
		}
		if ok != want {
			t.Errorf("%s: allowed %v, want %v", what, ok, want)
		}
		return wait
	}
	for range 3 {
		allow("within the burst", true)
	}
	if wait := allow("past the burst", false); wait != time.Second {
		t.Errorf("past the burst: wait %v, want 1s", wait)
	}
	now = now.Add(time.Second)
	allow("a second later", true)
	allow("right after", false)
}

// Every rate the --chat-rate and --chat-burst flags accept (1 to 6000 a
// minute, bursts of 1 to 1000) is one the limiters can enforce.
func TestEveryChatRateTheFlagsAcceptIsValid(t *testing.T) {
	for _, c := range []ChatRate{{1, 1}, {1, 1000}, {6000, 1}, {6000, 1000}, {7, 3}, DefaultChatRate()} {
		if err := c.Rate().Validate(); err != nil {
			t.Errorf("%+v: %v", c, err)
		}
	}
}
