package main

import (
	"bufio"
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parley-audio/parley/signaling/client"
)

// scrape fetches /metrics and returns every sample, keyed by its series
// as written ("name" or `name{label="v"}`).
func scrape(t *testing.T, ctx context.Context, ts *testServer) map[string]float64 {
	t.Helper()
	a := &client.API{BaseURL: ts.BaseURL, HTTP: ts.http}
	body, err := a.GetText(ctx, "/metrics")
	if err != nil {
		t.Fatalf("GET /metrics: %v", err)
	}
	out := make(map[string]float64)
	sc := bufio.NewScanner(strings.NewReader(body))
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("metrics line %q: %v", line, err)
		}
		out[line[:i]] = v
	}
	return out
}

// The key series are in the Prometheus text format, with values that
// follow what happens in the room.
func TestMetricsReportRoomsMediaAndJoins(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	ts := startServer(t)
	mod, ls := openRoom(t, ctx, ts, "Metrics", "Listener")
	w, err := mod.sess.NewSender()
	if err != nil {
		t.Fatal(err)
	}
	// Send until the listener has audio, so the join histogram has it.
	for i := 0; ; i++ {
		if _, err := w.Send([]byte{0xf8, 0xff, 0xfe}, 30); err != nil {
			t.Fatal(err)
		}
		if len(ls[0].rec.snapshot()) > 0 {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatal("the listener never heard the moderator")
		case <-time.After(20 * time.Millisecond):
		}
	}

	m := scrape(t, ctx, ts)
	want := map[string]func(float64) bool{
		"parley_rooms":                                               func(v float64) bool { return v == 1 },
		`parley_participants{role="moderator"}`:                      func(v float64) bool { return v == 1 },
		`parley_participants{role="listener"}`:                       func(v float64) bool { return v == 1 },
		`parley_participants{role="speaker"}`:                        func(v float64) bool { return v == 0 },
		"parley_media_peers":                                         func(v float64) bool { return v == 2 },
		"parley_media_packets_in_total":                              func(v float64) bool { return v >= 1 },
		"parley_media_bytes_in_total":                                func(v float64) bool { return v >= 1 },
		"parley_media_packets_out_total":                             func(v float64) bool { return v >= 1 },
		"parley_media_bytes_out_total":                               func(v float64) bool { return v >= 1 },
		`parley_media_packets_dropped_total{reason="not_permitted"}`: func(v float64) bool { return v == 0 },
		`parley_media_packets_dropped_total{reason="not_bound"}`:     func(v float64) bool { return v >= 0 },
		"parley_join_to_first_audio_seconds_count":                   func(v float64) bool { return v >= 1 },
		`parley_join_to_first_audio_seconds_bucket{le="+Inf"}`:       func(v float64) bool { return v >= 1 },
		"go_goroutines":                                              func(v float64) bool { return v > 0 },
		"process_cpu_seconds_total":                                  func(v float64) bool { return v > 0 },
		"process_resident_memory_bytes":                              func(v float64) bool { return v > 0 },
	}
	for series, ok := range want {
		v, found := m[series]
		if !found {
			t.Errorf("series %s missing", series)
			continue
		}
		if !ok(v) {
			t.Errorf("%s = %v", series, v)
		}
	}
}
