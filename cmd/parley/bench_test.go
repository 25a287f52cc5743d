package main

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// benchFlags are a short run against ts: a few listeners, two seconds.
func benchFlags(ts *testServer, extra ...string) []string {
	return append([]string{
		"--url", ts.BaseURL, "--rooms", "1", "--speakers", "2", "--listeners", "3",
		"--join-rate", "20", "--duration", "2s", "--recording", "../../testdata/speech.opus",
		"--server-pid", "0",
	}, extra...)
}

// A short run of `parley bench` against an in-process server, so the tool
// cannot rot: every listener connects and hears both speakers without
// loss, and the JSON has the documented fields.
func TestBenchShortRun(t *testing.T) {
	for _, impl := range []string{"pion", "lean"} {
		t.Run(impl+" listeners", func(t *testing.T) {
			ts := startServer(t)
			plot := filepath.Join(t.TempDir(), "bench.svg")
			var out, progress bytes.Buffer
			code := runBench(benchFlags(ts, "--client", impl, "--json", "--plot", plot), &out, &progress)
			if code != 0 {
				t.Fatalf("exit %d\n%s", code, progress.String())
			}
			var res map[string]any
			if err := json.Unmarshal(out.Bytes(), &res); err != nil {
				t.Fatalf("--json output: %v\n%s", err, out.String())
			}
			for _, k := range []string{"forwarded_pps", "loss_pct", "join_to_audio_ms", "server_cpu_s",
				"server_cpu_us_per_packet", "server_rss_peak_mb", "rss_per_listener_kb", "generator_cpu_us_per_packet"} {
				if _, ok := res[k]; !ok {
					t.Errorf("JSON lacks %s", k)
				}
			}
			num := func(k string) float64 { v, _ := res[k].(float64); return v }
			if got := num("listeners_connected"); got != 3 {
				t.Fatalf("%v listeners connected, want 3\n%s", got, progress.String())
			}
			// Two speakers, to three listeners and to each other: of every
			// four packets the server forwards, the listeners get three.
			// A ratio, not a rate: a loaded machine slows the speakers,
			// which changes both counts alike.
			fwd, rx := num("forwarded_pps"), num("received_pps")
			if fwd <= 0 || rx <= 0 || fwd/rx < 1.15 || fwd/rx > 1.55 {
				t.Errorf("forwarded_pps %v against received_pps %v, want 4 forwarded for 3 received", fwd, rx)
			}
			if loss := num("loss_pct"); loss > 1 {
				t.Errorf("loss_pct = %v", loss)
			}
			if num("missing_streams") != 0 || num("duplicates") != 0 {
				t.Errorf("missing streams %v, duplicates %v", num("missing_streams"), num("duplicates"))
			}
			j, _ := res["join_to_audio_ms"].(map[string]any)
			if n, _ := j["n"].(float64); n != 3 {
				t.Errorf("join_to_audio_ms over %v listeners, want 3: %v", n, j)
			}
			if num("server_cpu_s") <= 0 || num("server_rss_peak_mb") <= 0 {
				t.Errorf("server figures missing from /metrics: cpu %v rss %v", num("server_cpu_s"), num("server_rss_peak_mb"))
			}
			svg, err := os.ReadFile(plot)
			if err != nil || !strings.HasPrefix(string(svg), "<svg") {
				t.Errorf("plot: %v %.40q", err, svg)
			}
			if !strings.Contains(progress.String(), "measuring") {
				t.Errorf("no progress line:\n%s", progress.String())
			}
		})
	}
}

func TestBenchRefusesBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"--url", "http://10.0.0.1:8080"},
		{"--url", "ftp://127.0.0.1"},
		{"--rooms", "0"},
		{"--client", "chrome"},
		{"--duration", "0s"},
	} {
		if code := runBench(args, io.Discard, io.Discard); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
}
