package main

import (
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
)

// --debug-addr serves Go's profiler on a listener of its own, and stop
// closes it.
func TestDebugListenerServesTheProfiler(t *testing.T) {
	addr, stop, err := serveDebug("127.0.0.1:0", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + addr.String()
	resp, err := http.Get(base + "/debug/pprof/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "goroutine") {
		t.Fatalf("GET /debug/pprof/ = %d %.80q", resp.StatusCode, body)
	}
	resp, err = http.Get(base + "/debug/pprof/heap?debug=1")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("heap profile: %v %v", resp, err)
	}
	resp.Body.Close()
	stop()
	if _, err := http.Get(base + "/debug/pprof/"); err == nil {
		t.Error("the profiler still answers after stop")
	}
	if _, _, err := serveDebug("127.0.0.1:notaport", slog.New(slog.DiscardHandler)); err == nil {
		t.Error("serveDebug on a bad address succeeded")
	}
}
