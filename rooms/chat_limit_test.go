package rooms

import (
	"testing"
	"time"
)

// testChatLimiter is the contract of a ChatLimiter at 60 messages a
// minute (one a second), 3 at once.
func testChatLimiter(t *testing.T, lim ChatLimiter) {
	now := liveEpoch
	ann, bob := NewUserID(), NewUserID()
	allow := func(what string, u UserID, want bool) {
		t.Helper()
		wait, err := lim.Take(t.Context(), u, now)
		if err != nil {
			t.Fatal(err)
		}
		if got := wait == 0; got != want {
			t.Errorf("%s: Take waits %v, want allowed %v", what, wait, want)
		}
	}
	waits := func(what string, u UserID, want time.Duration) {
		t.Helper()
		wait, err := lim.Take(t.Context(), u, now)
		if err != nil {
			t.Fatal(err)
		}
		// Waits are told to the millisecond (Redis keeps ms; the token
		// bucket computes in floats).
		if wait.Round(time.Millisecond) != want {
			t.Errorf("%s: Take waits %v, want %v", what, wait, want)
		}
	}
	for range 3 {
		allow("within the burst", ann, true)
	}
	allow("past the burst", ann, false)
	allow("someone else", bob, true)
	waits("a refusal says how long to wait", ann, time.Second)
	now = now.Add(900 * time.Millisecond)
	waits("and, later, how long is left", ann, 100*time.Millisecond)
	now = now.Add(100 * time.Millisecond)
	allow("a second later", ann, true)
	allow("right after", ann, false)
	now = now.Add(time.Hour)
	for range 3 {
		allow("after a long pause, a whole burst", ann, true)
	}
	allow("and no more", ann, false)
}

var testChatRate = ChatRate{PerMinute: 60, Burst: 3}

func TestMemoryChatLimiter(t *testing.T) {
	testChatLimiter(t, NewMemoryChatLimiter(testChatRate))
}

func TestRedisChatLimiter(t *testing.T) {
	client, prefix := testRedis(t)
	testChatLimiter(t, NewRedisChatLimiter(client, prefix, testChatRate))
}

// A memory limiter forgets members whose bucket is full again, so it
// holds only those who chatted lately.
func TestMemoryChatLimiterForgetsIdleMembers(t *testing.T) {
	lim := NewMemoryChatLimiter(testChatRate)
	for range pruneEvery - 1 {
		if _, err := lim.Take(t.Context(), NewUserID(), liveEpoch); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := lim.Take(t.Context(), NewUserID(), liveEpoch.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	lim.mu.Lock()
	n := len(lim.buckets)
	lim.mu.Unlock()
	if n != 1 {
		t.Errorf("%d buckets kept after a minute, want only the newest", n)
	}
}
