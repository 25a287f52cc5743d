package ratelimit

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

var epoch = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

// testLimiter is the contract of every Limiter. open returns a new limiter
// allowing r, with no key used yet.
func testLimiter(t *testing.T, open func(t *testing.T, r Rate) Limiter) {
	five := Rate{N: 5, Per: time.Minute} // a token every 12 s

	allow := func(t *testing.T, l Limiter, key string, at time.Time) (bool, time.Duration) {
		t.Helper()
		ok, wait, err := l.Allow(t.Context(), key, at)
		if err != nil {
			t.Fatalf("Allow(%q, %v): %v", key, at, err)
		}
		return ok, wait
	}

	t.Run("a burst of N is allowed and the next waits one interval", func(t *testing.T) {
		l := open(t, five)
		for i := range 5 {
			if ok, _ := allow(t, l, "a", epoch); !ok {
				t.Fatalf("event %d of the burst refused", i+1)
			}
		}
		ok, wait := allow(t, l, "a", epoch)
		if ok {
			t.Fatal("the sixth event at once was allowed")
		}
		if wait != 12*time.Second {
			t.Errorf("retry after %v, want 12s", wait)
		}
	})

	t.Run("a token comes back after one interval, not before", func(t *testing.T) {
		l := open(t, five)
		for range 5 {
			allow(t, l, "a", epoch)
		}
		if ok, wait := allow(t, l, "a", epoch.Add(11*time.Second)); ok || wait != time.Second {
			t.Errorf("after 11 s: ok %v, retry after %v; want refused, 1s", ok, wait)
		}
		if ok, _ := allow(t, l, "a", epoch.Add(12*time.Second)); !ok {
			t.Error("after 12 s the token is not back")
		}
		if ok, _ := allow(t, l, "a", epoch.Add(12*time.Second)); ok {
			t.Error("after 12 s two tokens were taken")
		}
	})

	t.Run("asking too early, again and again, does not push the next token away", func(t *testing.T) {
		l := open(t, five)
		for range 5 {
			allow(t, l, "a", epoch)
		}
		for i := range 10 {
			if ok, _ := allow(t, l, "a", epoch.Add(time.Duration(i)*time.Second)); ok {
				t.Fatalf("allowed at +%ds", i)
			}
		}
		if ok, _ := allow(t, l, "a", epoch.Add(12*time.Second)); !ok {
			t.Error("refusals delayed the next token")
		}
	})

	t.Run("a whole period refills the bucket", func(t *testing.T) {
		l := open(t, five)
		for range 5 {
			allow(t, l, "a", epoch)
		}
		later := epoch.Add(time.Minute)
		for i := range 5 {
			if ok, _ := allow(t, l, "a", later); !ok {
				t.Fatalf("event %d after a period refused", i+1)
			}
		}
		if ok, _ := allow(t, l, "a", later); ok {
			t.Error("the bucket holds more than N after a long pause")
		}
	})

	t.Run("keys are independent", func(t *testing.T) {
		l := open(t, five)
		for range 5 {
			allow(t, l, "a", epoch)
		}
		if ok, _ := allow(t, l, "b", epoch); !ok {
			t.Error("b was refused because a used its bucket")
		}
	})

	t.Run("concurrent callers together get exactly N", func(t *testing.T) {
		l := open(t, Rate{N: 7, Per: time.Hour})
		var wg sync.WaitGroup
		var allowed atomic.Int32
		for range 40 {
			wg.Go(func() {
				ok, _, err := l.Allow(t.Context(), "crowd", epoch)
				if err != nil {
					t.Error(err)
				}
				if ok {
					allowed.Add(1)
				}
			})
		}
		wg.Wait()
		if n := allowed.Load(); n != 7 {
			t.Errorf("%d of 40 concurrent events allowed, want 7", n)
		}
	})

	give := func(t *testing.T, l Limiter, key string, at time.Time) {
		t.Helper()
		if err := l.Give(t.Context(), key, at); err != nil {
			t.Fatalf("Give(%q, %v): %v", key, at, err)
		}
	}

	t.Run("a token given back can be taken again at once", func(t *testing.T) {
		l := open(t, five)
		for range 5 {
			allow(t, l, "a", epoch)
		}
		give(t, l, "a", epoch.Add(time.Second))
		if ok, _ := allow(t, l, "a", epoch.Add(time.Second)); !ok {
			t.Fatal("the token given back was not there")
		}
		if ok, wait := allow(t, l, "a", epoch.Add(time.Second)); ok || wait != 11*time.Second {
			t.Errorf("after taking it again: ok %v, retry after %v; want refused, 11s", ok, wait)
		}
	})

	t.Run("giving back never fills the bucket past N", func(t *testing.T) {
		l := open(t, Rate{N: 2, Per: 2 * time.Hour})
		for range 5 {
			give(t, l, "a", epoch) // nothing taken yet
		}
		allow(t, l, "a", epoch)
		give(t, l, "a", epoch)
		give(t, l, "a", epoch) // one more than was taken
		for i := range 2 {
			if ok, _ := allow(t, l, "a", epoch); !ok {
				t.Fatalf("event %d refused", i+1)
			}
		}
		if ok, wait := allow(t, l, "a", epoch); ok || wait != time.Hour {
			t.Errorf("third event: ok %v, retry after %v; want refused for an hour: gives must not raise N", ok, wait)
		}
	})

	t.Run("giving back to one key leaves the others alone", func(t *testing.T) {
		l := open(t, Rate{N: 1, Per: time.Hour})
		allow(t, l, "a", epoch)
		allow(t, l, "b", epoch)
		give(t, l, "a", epoch)
		if ok, _ := allow(t, l, "b", epoch); ok {
			t.Error("b got a token that was given to a")
		}
		if ok, _ := allow(t, l, "a", epoch); !ok {
			t.Error("a did not get its token back")
		}
	})

	t.Run("a rate of one a day allows one and says when the next is", func(t *testing.T) {
		l := open(t, Rate{N: 1, Per: 24 * time.Hour})
		if ok, _ := allow(t, l, "k", epoch); !ok {
			t.Fatal("first refused")
		}
		if ok, wait := allow(t, l, "k", epoch.Add(time.Hour)); ok || wait != 23*time.Hour {
			t.Errorf("ok %v, retry after %v; want refused, 23h", ok, wait)
		}
	})
}

func TestMemoryLimiterContract(t *testing.T) {
	testLimiter(t, func(_ *testing.T, r Rate) Limiter { return NewMemory(r) })
}

func TestMemoryLimiterForgetsFullBuckets(t *testing.T) {
	m := NewMemory(Rate{N: 2, Per: time.Minute})
	for i := range 100 {
		if ok, _, _ := m.Allow(t.Context(), string(rune('a'+i%26))+string(rune('a'+i/26)), epoch); !ok {
			t.Fatal("refused a new key")
		}
	}
	if m.Len() != 100 {
		t.Fatalf("Len = %d, want 100", m.Len())
	}
	// A period later every bucket is full again; the next call sweeps them.
	if ok, _, _ := m.Allow(t.Context(), "new", epoch.Add(time.Minute)); !ok {
		t.Fatal("refused")
	}
	if m.Len() != 1 {
		t.Errorf("Len = %d after a period, want 1 (only the new key)", m.Len())
	}
}

func TestMemoryLimiterForgetsABucketGivenBackToFull(t *testing.T) {
	m := NewMemory(Rate{N: 2, Per: time.Minute})
	if ok, _, _ := m.Allow(t.Context(), "a", epoch); !ok {
		t.Fatal("refused")
	}
	if err := m.Give(t.Context(), "a", epoch); err != nil {
		t.Fatal(err)
	}
	if m.Len() != 0 {
		t.Errorf("Len = %d after the only token came back, want 0", m.Len())
	}
}

func TestParseRate(t *testing.T) {
	good := map[string]Rate{
		"10/1m":     {10, time.Minute},
		" 3 / 30s ": {3, 30 * time.Second},
		"1/168h":    {1, 168 * time.Hour},
		"1000/1s":   {1000, time.Second},
	}
	for s, want := range good {
		got, err := ParseRate(s)
		if err != nil || got != want {
			t.Errorf("ParseRate(%q) = %v, %v; want %v", s, got, err, want)
		}
		if back, err := ParseRate(got.String()); err != nil || back != got {
			t.Errorf("ParseRate(%q.String() = %q) = %v, %v", s, got.String(), back, err)
		}
	}
	for _, s := range []string{"", "10", "10/", "/1m", "ten/1m", "0/1m", "-1/1m", "10/0s", "10/-1m", "10/1y", "10/200h", "2000000/1s", "1000000/1ms", "1.5/1m"} {
		if r, err := ParseRate(s); err == nil {
			t.Errorf("ParseRate(%q) = %v, want an error", s, r)
		}
	}
}
