package main

import (
	"bytes"
	"encoding/json"
	"io"
	"testing"

	"github.com/parley-audio/parley/internal/testenv"
	"github.com/parley-audio/parley/signaling"
)

// `parley bench` spreads its listeners over the nodes of a cluster given
// several URLs: the room and its speakers on the first node, listeners
// round-robin, the server figures the nodes' sums; the listeners on the
// second node hear the speakers through the relay.
func TestBenchSpreadsListenersOverNodes(t *testing.T) {
	redisURL, prefix := testRedis(t)
	db := testenv.Postgres(t)
	shared := func(c *serveConfig) {
		c.RedisURL, c.RedisPrefix, c.DatabaseURL = redisURL, prefix, db
		c.Cluster.Placement = signaling.PlaceLocal
	}
	a := startServer(t, shared)
	b := startServer(t, shared)
	var out, progress bytes.Buffer
	args := benchFlags(a, "--url", a.BaseURL+","+b.BaseURL, "--listeners", "4", "--json")
	if code := runBench(args, &out, &progress); code != 0 {
		t.Fatalf("exit %d\n%s", code, progress.String())
	}
	var res map[string]any
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		t.Fatalf("--json output: %v\n%s", err, out.String())
	}
	num := func(k string) float64 { v, _ := res[k].(float64); return v }
	if got := num("listeners_connected"); got != 4 {
		t.Fatalf("%v listeners connected, want 4\n%s", got, progress.String())
	}
	if loss := num("loss_pct"); loss > 1 || num("missing_streams") != 0 {
		t.Errorf("loss_pct %v, missing streams %v\n%s", loss, num("missing_streams"), progress.String())
	}
	// Two speakers on A, to each other and to two listeners there; B gets
	// both once over the relay and forwards them to its two listeners.
	fa, fb := a.Media.Stats().PacketsOut, b.Media.Stats().PacketsOut
	if fb == 0 || fa == 0 {
		t.Fatalf("packets forwarded: A %d, B %d; want listeners served on both nodes", fa, fb)
	}
	t.Logf("forwarded: A %d packets, B %d", fa, fb)
}

func TestBenchRefusesBadNodeLists(t *testing.T) {
	for _, args := range [][]string{
		{"--url", "http://127.0.0.1:8080,http://10.0.0.1:8080"},
		{"--url", ","},
		{"--server-pid", "12,x"},
	} {
		if code := runBench(args, io.Discard, io.Discard); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
}
