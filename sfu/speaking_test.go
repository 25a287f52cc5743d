package sfu

import (
	"sync/atomic"
	"testing"
	"time"
)

func TestSpeakingDetector(t *testing.T) {
	const (
		interval = 100 * time.Millisecond
		hangover = 500 * time.Millisecond
	)
	// Each step is one evaluation interval: how many voice packets
	// arrived in it, and the state change expected at its end ("" none).
	type step struct {
		voice uint64
		want  string
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"silence stays silent", []step{{0, ""}, {0, ""}, {0, ""}}},
		{"a single click does not start", []step{{1, ""}, {0, ""}, {1, ""}, {0, ""}}},
		{"two voice packets start", []step{{0, ""}, {2, "start"}, {5, ""}}},
		{"voice keeps a speaker going", []step{{5, "start"}, {5, ""}, {5, ""}, {5, ""}, {5, ""}, {5, ""}, {5, ""}}},
		{"single packets keep an active speaker alive", []step{
			{5, "start"}, {0, ""}, {0, ""}, {0, ""}, {1, ""}, {0, ""}, {0, ""}, {0, ""}, {0, ""}, {0, "stop"},
		}},
		{"stops exactly at the hangover", []step{{5, "start"}, {0, ""}, {0, ""}, {0, ""}, {0, ""}, {0, "stop"}}},
		{"speaks again after stopping", []step{
			{3, "start"}, {0, ""}, {0, ""}, {0, ""}, {0, ""}, {0, "stop"}, {0, ""}, {2, "start"},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := newSpeakingDetector(hangover)
			now := time.Unix(1000, 0)
			var count uint64
			for i, s := range tc.steps {
				now = now.Add(interval)
				count += s.voice
				was := d.speaking
				changed := d.update(now, count)
				got := ""
				if changed {
					got = map[bool]string{true: "start", false: "stop"}[d.speaking]
				}
				if got != s.want {
					t.Fatalf("step %d (%d voice): change %q, want %q", i, s.voice, got, s.want)
				}
				if !changed && d.speaking != was {
					t.Fatalf("step %d: state flipped without reporting a change", i)
				}
			}
		})
	}
}

func TestSpeakingDetectorCounterWraps(t *testing.T) {
	d := newSpeakingDetector(time.Second)
	d.lastCount = ^uint64(0) - 1 // two below the wrap
	if !d.update(time.Unix(1, 0), 1) {
		t.Fatal("3 voice packets across the wrap did not start speaking")
	}
}

// speakingRoom is a room whose speaking detection runs on a fake clock
// driven by the test.
type speakingRoom struct {
	*room
	clock  atomic.Int64 // unix nanoseconds
	ticks  chan time.Time
	events chan speakingEvent
}

type speakingEvent struct {
	id       PeerID
	speaking bool
}

func newSpeakingRoom(t *testing.T) *speakingRoom {
	sr := &speakingRoom{
		ticks:  make(chan time.Time),
		events: make(chan speakingEvent, 16),
	}
	sr.clock.Store(time.Unix(1000, 0).UnixNano())
	sr.room = newRoom(t, RouterParams{
		Logger: testLogger(),
		Now:    func() time.Time { return time.Unix(0, sr.clock.Load()) },
		Ticks:  sr.ticks,
		OnSpeaking: func(id PeerID, speaking bool) {
			sr.events <- speakingEvent{id, speaking}
		},
	})
	return sr
}

// tick advances the clock by d and has the router evaluate; it returns
// once the router has taken the tick, which it does only after finishing
// the previous one.
func (sr *speakingRoom) tick(d time.Duration) {
	now := sr.clock.Add(int64(d))
	select {
	case sr.ticks <- time.Unix(0, now):
	case <-time.After(waitTimeout):
		sr.t.Fatal("router did not take the tick")
	}
}

// settle waits until the router has finished evaluating the last tick: it
// takes the next tick only then. The extra tick adds no time.
func (sr *speakingRoom) settle() { sr.tick(0) }

func (sr *speakingRoom) expect(id PeerID, speaking bool) {
	sr.t.Helper()
	select {
	case e := <-sr.events:
		if e.id != id || e.speaking != speaking {
			sr.t.Fatalf("OnSpeaking(%s, %v), want (%s, %v)", e.id, e.speaking, id, speaking)
		}
	case <-time.After(waitTimeout):
		sr.t.Fatalf("no OnSpeaking(%s, %v)", id, speaking)
	}
}

func (sr *speakingRoom) expectNone() {
	sr.t.Helper()
	sr.settle()
	select {
	case e := <-sr.events:
		sr.t.Fatalf("unexpected OnSpeaking(%s, %v)", e.id, e.speaking)
	default:
	}
}

// sendCounted sends n packets at level and waits until the server has
// forwarded them all, so the next tick sees them.
func sendCounted(t *testing.T, sp *testClient, n int, level uint8) {
	t.Helper()
	before := sp.srv.Stats().PacketsForwarded
	for i := range n {
		sp.send(counterPayload(0x08, uint32(i)), level)
	}
	waitFor(t, "packets forwarded", func() bool {
		return sp.srv.Stats().PacketsForwarded >= before+uint64(n)
	})
}

func TestOnSpeakingFiresForLoudThenSilentSpeaker(t *testing.T) {
	sr := newSpeakingRoom(t)
	interval := sr.sfu.cfg.SpeakingInterval
	sp := sr.speaker("speaker")
	sr.listener("listener", clientOpts{})
	sendUntilPublished(t, sr.room, sp)
	sr.settle()

	sendCounted(t, sp, 10, maxAudioLevel) // silence
	sr.tick(interval)
	sr.expectNone()

	sendCounted(t, sp, 10, 20) // loud
	sr.tick(interval)
	sr.expect(sp.id, true)

	// Silent packets: still speaking until the hangover has passed.
	sendCounted(t, sp, 10, maxAudioLevel)
	sr.tick(sr.sfu.cfg.SpeakingHangover - interval)
	sr.expectNone()
	sr.tick(interval)
	sr.expect(sp.id, false)

	// Just quieter than the threshold is not voice.
	sendCounted(t, sp, 10, sr.sfu.cfg.SpeakingLevel+1)
	sr.tick(interval)
	sr.expectNone()

	// Closing the router stops whoever is still speaking.
	sendCounted(t, sp, 10, sr.sfu.cfg.SpeakingLevel)
	sr.tick(interval)
	sr.expect(sp.id, true)
	if err := sr.r.Close(); err != nil {
		t.Fatal(err)
	}
	sr.expect(sp.id, false)
}

func TestOnSpeakingStopsWhenASpeakerIsRevokedOrLeaves(t *testing.T) {
	sr := newSpeakingRoom(t)
	interval := sr.sfu.cfg.SpeakingInterval
	a := sr.speaker("alice")
	b := sr.speaker("bob")
	for _, sp := range []*testClient{a, b} {
		sendUntilPublished(t, sr.room, sp)
	}
	sr.settle()
	sendCounted(t, a, 5, 10)
	sendCounted(t, b, 5, 10)
	sr.tick(interval)
	got := map[PeerID]bool{}
	for range 2 {
		select {
		case e := <-sr.events:
			got[e.id] = e.speaking
		case <-time.After(waitTimeout):
			t.Fatal("missing OnSpeaking")
		}
	}
	if !got[a.id] || !got[b.id] {
		t.Fatalf("speaking events %v, want both started", got)
	}

	// No tick needed: unpublishing reports the stop at once.
	a.srv.SetPublishAllowed(false)
	sr.expect(a.id, false)
	b.close()
	sr.expect(b.id, false)
	sr.expectNone()
}

// A tick that brings no time judges nothing: the voice it sees is counted
// at the next tick, so a late evaluation cannot date speech too early.
func TestSpeakingDetectorIgnoresATickWithoutTime(t *testing.T) {
	d := newSpeakingDetector(500 * time.Millisecond)
	at := time.Unix(1000, 0)
	d.update(at, 0)
	if d.update(at, 10) {
		t.Fatal("a tick at the same time started a speaker")
	}
	if !d.update(at.Add(100*time.Millisecond), 10) || !d.lastVoice.Equal(at.Add(100*time.Millisecond)) {
		t.Fatalf("the next tick did not count the voice at its own time: speaking %v since %v", d.speaking, d.lastVoice)
	}
}
