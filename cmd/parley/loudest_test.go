package main

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parley-audio/parley/signaling/client"
)

// levelTalker sends a frame every 20 ms at the RFC 6464 level it is set
// to, until stop is closed, as a speaker's app does.
type levelTalker struct {
	w     *client.Sender
	level atomic.Int32 // -dBov: 0 loudest, 127 silence
}

func (lt *levelTalker) run(stop <-chan struct{}, wg *sync.WaitGroup) {
	defer wg.Done()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	frame := []byte("a speaker's frame")
	for {
		select {
		case <-stop:
			return
		case <-tick.C:
			_, _ = lt.w.Send(frame, uint8(lt.level.Load()))
		}
	}
}

// heardBetween counts, per stream, the packets r received in [from, to).
func heardBetween(r *recorder, from, to time.Time) map[string]int {
	got := map[string]int{}
	for _, p := range r.snapshot() {
		if !p.at.Before(from) && p.at.Before(to) {
			got[p.stream]++
		}
	}
	return got
}

// A room created with loudest_n 2 forwards, with five people on stage,
// only the two loudest to a listener at each moment, and follows when
// others become the loudest. The whole server decides: the setting comes
// from the REST API, the levels from the speakers' RTP header extension.
func TestLoudestNRoomForwardsOnlyTheTwoLoudestOfFive(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	ts := startServer(t)
	host := ts.signIn(t, ctx, "Host")
	room, err := host.api.CreateRoomWith(ctx, client.NewRoom{Title: "Panel of five", LoudestN: 2})
	if err != nil {
		t.Fatal(err)
	}
	if room.LoudestN != 2 {
		t.Fatalf("the room says loudest_n %d, want 2", room.LoudestN)
	}
	host.connect(t, ctx, ts, room.ID, true)
	hw, err := host.sess.NewSender()
	if err != nil {
		t.Fatal(err)
	}
	speakers := []*person{host}
	talkers := []*levelTalker{{w: hw}}
	for _, name := range []string{"Ana", "Ben", "Cem", "Dee"} {
		p := ts.signIn(t, ctx, name)
		p.connect(t, ctx, ts, room.ID, false)
		talkers = append(talkers, &levelTalker{w: promote(t, ctx, host, p)})
		speakers = append(speakers, p)
	}
	listener := ts.signIn(t, ctx, "Listener")
	listener.connect(t, ctx, ts, room.ID, false)

	stop := make(chan struct{})
	var wg sync.WaitGroup
	for _, lt := range talkers {
		lt.level.Store(127)
		wg.Add(1)
		go lt.run(stop, &wg)
	}
	defer func() { close(stop); wg.Wait() }()

	phases := []struct {
		name    string
		levels  [5]int32
		loudest [2]int
	}{
		{"the host and Ana are loudest", [5]int32{10, 20, 60, 70, 80}, [2]int{0, 1}},
		{"Cem and Dee take over", [5]int32{90, 90, 60, 8, 5}, [2]int{3, 4}},
	}
	for _, ph := range phases {
		for i, lt := range talkers {
			lt.level.Store(ph.levels[i])
		}
		// The router decides every 100 ms; a second is ample for the
		// choice to settle, and the next second shows what it chose.
		select {
		case <-time.After(time.Second):
		case <-ctx.Done():
			t.Fatal(ctx.Err())
		}
		from := time.Now()
		select {
		case <-time.After(time.Second):
		case <-ctx.Done():
			t.Fatal(ctx.Err())
		}
		got := heardBetween(listener.rec, from, time.Now())
		for i, sp := range speakers {
			n := got[string(sp.id)]
			loud := i == ph.loudest[0] || i == ph.loudest[1]
			switch {
			case loud && n < 10:
				t.Errorf("%s: the listener got %d packets from %s, one of the two loudest; want a steady stream", ph.name, n, sp.name)
			case !loud && n > 0:
				t.Errorf("%s: the listener got %d packets from %s, who is not among the two loudest", ph.name, n, sp.name)
			}
		}
	}
}
