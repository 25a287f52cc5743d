package main

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/parley-audio/parley/signaling"
	"github.com/parley-audio/parley/signaling/client"
)

func loadSpeech(t *testing.T) *client.Recording {
	t.Helper()
	dir := filepath.Join("..", "..", "testdata")
	rec, err := client.LoadRecording(filepath.Join(dir, "speech.opus"), filepath.Join(dir, "speech.wav"))
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

// warmUp sends silence from the speaker until every listener has received
// audio from it, so that the measured stream starts only once every
// PeerConnection has negotiated the speaker's track.
func warmUp(t *testing.T, ctx context.Context, speaker *person, w *client.Sender, listeners []*person) {
	t.Helper()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		ready := true
		for _, l := range listeners {
			if !l.rec.hasStream(string(speaker.id)) {
				ready = false
				break
			}
		}
		if ready {
			return
		}
		if _, err := w.Send(client.SilenceFrame, 127); err != nil {
			t.Fatalf("warm-up send: %v", err)
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			t.Fatalf("listeners never received the speaker's warm-up audio: %v", ctx.Err())
		}
	}
}

func (r *recorder) hasStream(stream string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, p := range r.packets {
		if p.stream == stream {
			return true
		}
	}
	return false
}

// sendRecording paces the recording at 20 ms a frame and returns the
// sequence number of its first packet. onFrame, if set, runs before frame i.
func sendRecording(t *testing.T, ctx context.Context, w *client.Sender, rec *client.Recording, onFrame func(i int)) uint16 {
	t.Helper()
	first := w.NextSeq()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for i, p := range rec.Packets {
		if onFrame != nil {
			onFrame(i)
		}
		if _, err := w.Send(p, rec.Levels[i]); err != nil {
			t.Fatalf("send frame %d: %v", i, err)
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			t.Fatal(ctx.Err())
		}
	}
	return first
}

// recordingOf returns, in arrival order, the packets of the stream whose
// sequence numbers fall in [first, first+n).
func recordingOf(pkts []packet, stream string, first uint16, n int) []packet {
	var out []packet
	for _, p := range pkts {
		if p.stream == stream && uint16(p.seq-first) < uint16(n) {
			out = append(out, p)
		}
	}
	return out
}

// checkExact fails unless got is the recording, byte for byte, in order.
func checkExact(t *testing.T, who string, got []packet, rec *client.Recording, first uint16) {
	t.Helper()
	if len(got) != len(rec.Packets) {
		t.Errorf("%s received %d of the %d packets", who, len(got), len(rec.Packets))
		return
	}
	for i, p := range got {
		if p.seq != first+uint16(i) {
			t.Errorf("%s: packet %d has sequence number %d, want %d (out of order or duplicated)", who, i, p.seq, first+uint16(i))
			return
		}
		if !bytes.Equal(p.data, rec.Packets[i]) {
			t.Errorf("%s: payload of packet %d differs from what the speaker sent", who, i)
			return
		}
	}
}

// expectRecording waits (up to 10 s) until the listener has the whole
// recording from the speaker, then checks it byte for byte. It only
// reports with Errorf, so it may run on any goroutine.
func expectRecording(t *testing.T, ctx context.Context, listener, speaker *person, rec *client.Recording, first uint16) {
	t.Helper()
	n := len(rec.Packets)
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	_ = listener.rec.waitFor(wctx, func(p []packet) bool { return len(recordingOf(p, string(speaker.id), first, n)) >= n })
	checkExact(t, listener.name, recordingOf(listener.rec.snapshot(), string(speaker.id), first, n), rec, first)
}

// openRoom signs in a speaker who creates a room and connects publishing,
// then the named listeners, who connect receiving only.
func openRoom(t *testing.T, ctx context.Context, ts *testServer, title string, listenerNames ...string) (*person, []*person) {
	t.Helper()
	speaker := ts.signIn(t, ctx, "Speaker")
	room, err := speaker.api.CreateRoom(ctx, title, "")
	if err != nil {
		t.Fatal(err)
	}
	speaker.connect(t, ctx, ts, room.ID, true)
	speaker.room = room.ID
	var listeners []*person
	for _, name := range listenerNames {
		l := ts.signIn(t, ctx, name)
		l.connect(t, ctx, ts, room.ID, false)
		listeners = append(listeners, l)
	}
	return speaker, listeners
}

func TestSpeechReachesEveryListenerByteIdentical(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	ts := startServer(t)
	rec := loadSpeech(t)

	speaker, listeners := openRoom(t, ctx, ts, "Audio flows", "Listener 1", "Listener 2", "Listener 3", "Listener 4", "Listener 5")
	w, err := speaker.sess.NewSender()
	if err != nil {
		t.Fatal(err)
	}
	warmUp(t, ctx, speaker, w, listeners)
	first := sendRecording(t, ctx, w, rec, nil)

	var wg sync.WaitGroup
	for _, l := range listeners {
		wg.Add(1)
		go func() { defer wg.Done(); expectRecording(t, ctx, l, speaker, rec, first) }()
	}
	wg.Wait()

	// Every participant, the speaker included, hears that the speaker
	// started and then stopped speaking.
	for _, p := range append([]*person{speaker}, listeners...) {
		for _, want := range []bool{true, false} {
			_, err := p.sess.WaitFor(ctx, func(e signaling.Envelope) bool {
				if e.Type != signaling.TypeSpeaking {
					return false
				}
				var sp signaling.SpeakingPayload
				return json.Unmarshal(e.Payload, &sp) == nil && sp.UserID == speaker.id && sp.Speaking == want
			})
			if err != nil {
				t.Errorf("%s never got speaking=%v for the speaker: %v", p.name, want, err)
			}
		}
	}
	// Nothing from a listener reached anyone: every stream received is the
	// speaker's.
	for _, l := range append([]*person{speaker}, listeners...) {
		for _, p := range l.rec.snapshot() {
			if p.stream != string(speaker.id) {
				t.Fatalf("%s received a stream from %s, who is not on stage", l.name, p.stream)
			}
		}
	}
}
