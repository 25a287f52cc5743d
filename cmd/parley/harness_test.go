package main

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/parley-audio/parley/internal/testenv"
	"github.com/parley-audio/parley/rooms"
	"github.com/parley-audio/parley/signaling/client"
)

// testSecret signs the test server's tokens, so tests can mint expired ones.
const testSecret = "parley-test-secret-0123456789abcdef"

// testServer is a whole Parley server (HTTP, signaling, SFU, SQLite) run in
// this process on free ports, with the embedded defaults.
type testServer struct {
	listening
	http *http.Client
	stop func()
}

// startServer starts one with the development sign-in on, which most
// tests use to make people quickly; a test of accounts turns it off.
func startServer(t *testing.T, mods ...func(*serveConfig)) *testServer {
	t.Helper()
	cfg, err := loadServeConfig([]string{
		"--http-addr", "127.0.0.1:0", "--udp-port", "0", "--rtc-loopback-only", "--dev-sign-in",
		"--data-dir", t.TempDir(), "--shutdown-timeout", "5s", "--log-level", "debug",
	}, func(string) string { return "" }, os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	cfg.TokenSecret = testSecret
	for _, m := range mods {
		m(&cfg)
	}
	logs := &testenv.Buffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ctx, cancel := context.WithCancel(context.Background())
	started := make(chan listening, 1)
	done := make(chan error, 1)
	go func() { done <- serve(ctx, cfg, log, started) }()
	var l listening
	select {
	case l = <-started:
	case err := <-done:
		cancel()
		t.Fatalf("server did not start: %v\n%s", err, logs)
	case <-time.After(30 * time.Second):
		cancel()
		t.Fatal("server did not start in 30 s")
	}
	ts := &testServer{listening: l, http: &http.Client{Transport: &http.Transport{}}}
	var once sync.Once
	ts.stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("serve returned %v", err)
			}
			ts.http.CloseIdleConnections()
		})
	}
	t.Cleanup(func() {
		ts.stop()
		if t.Failed() {
			t.Logf("server log:\n%s", tail(logs.String(), 200))
		}
	})
	return ts
}

func tail(s string, lines int) string {
	parts := strings.Split(s, "\n")
	if len(parts) > lines {
		parts = parts[len(parts)-lines:]
	}
	return strings.Join(parts, "\n")
}

// person is one signed-in member with, once connected, a session and
// what it received.
type person struct {
	name string
	api  *client.API
	id   rooms.UserID
	room rooms.RoomID // the room this person created, if any
	sess *client.Session
	rec  *recorder
}

func (ts *testServer) signIn(t *testing.T, ctx context.Context, name string) *person {
	t.Helper()
	a := &client.API{BaseURL: ts.BaseURL, HTTP: ts.http}
	res, err := a.DevSignIn(ctx, name)
	if err != nil {
		t.Fatalf("sign in %s: %v", name, err)
	}
	return &person{name: name, api: a, id: res.Member.ID, rec: newRecorder()}
}

// connect dials signaling, joins the room and starts media.
func (p *person) connect(t *testing.T, ctx context.Context, ts *testServer, room rooms.RoomID, publish bool) {
	t.Helper()
	s, err := client.Dial(ctx, ts.BaseURL, p.api.Token, client.Options{Loopback: true, OnTrack: p.rec.onTrack})
	if err != nil {
		t.Fatalf("%s dial: %v", p.name, err)
	}
	p.sess = s
	t.Cleanup(func() { _ = s.Close() })
	if _, err := s.Join(ctx, string(room)); err != nil {
		t.Fatalf("%s join: %v", p.name, err)
	}
	if err := s.StartMedia(ctx, client.MediaOptions{Publish: publish}); err != nil {
		t.Fatalf("%s start media: %v", p.name, err)
	}
	if err := s.WaitConnected(ctx); err != nil {
		t.Fatalf("%s connect media: %v", p.name, err)
	}
}

// packet is one RTP packet as a listener received it.
type packet struct {
	stream string // the msid stream: the speaker's user ID
	seq    uint16
	data   []byte
	at     time.Time // when it arrived
}

// recorder keeps every RTP packet its tracks deliver.
type recorder struct {
	mu      sync.Mutex
	packets []packet
	streams map[string]bool
	changed chan struct{}
}

func newRecorder() *recorder {
	return &recorder{streams: map[string]bool{}, changed: make(chan struct{})}
}

func (r *recorder) onTrack(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
	r.mu.Lock()
	r.streams[tr.StreamID()] = true
	r.mu.Unlock()
	go func() {
		for {
			p, _, err := tr.ReadRTP()
			if err != nil {
				return
			}
			r.mu.Lock()
			r.packets = append(r.packets, packet{stream: tr.StreamID(), seq: p.SequenceNumber, data: bytes.Clone(p.Payload), at: time.Now()})
			close(r.changed)
			r.changed = make(chan struct{})
			r.mu.Unlock()
		}
	}()
}

// waitFor waits until cond holds over the packets received so far.
func (r *recorder) waitFor(ctx context.Context, cond func([]packet) bool) error {
	for {
		r.mu.Lock()
		ok, ch := cond(r.packets), r.changed
		r.mu.Unlock()
		if ok {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (r *recorder) snapshot() []packet {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]packet(nil), r.packets...)
}
