package main

import (
	"archive/zip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley-audio/parley/internal/testenv"
	"github.com/parley-audio/parley/members"
	"github.com/parley-audio/parley/rooms"
)

// exportFixture is a durable store with one member who wrote many chat
// messages, and the server's exporter over it.
type exportFixture struct {
	d        *durable
	exporter *members.Exporter
	user     rooms.UserID
	n        int
}

// chatWords are what chatBody's messages are made of.
var chatWords = strings.Fields(`the a we you it is was and or but so if then ship launch hiring remote team
	product roadmap customers pricing design review latency audio rooms stage speaker listener question answer
	thanks great agree disagree maybe tomorrow today next week quarter budget metrics growth churn onboarding`)

// chatBody is message i: 260 characters of words drawn at random (seeded
// by i, so the same every time), compressible as real text is, no more.
func chatBody(i int) string {
	r := rand.New(rand.NewPCG(uint64(i), 7))
	var b strings.Builder
	fmt.Fprintf(&b, "message %d:", i)
	for b.Len() < 260 {
		b.WriteByte(' ')
		b.WriteString(chatWords[r.IntN(len(chatWords))])
	}
	return b.String()[:260]
}

// newExportFixture opens the durable stores cfg names and has one member
// write n chat messages in a room of theirs: through the chat store, one
// message at a time, or, with bulk, straight into its table in one
// transaction, the same rows (the race detector makes 20,000 calls of
// the store take most of a minute, too slow for every run of the suite).
func newExportFixture(tb testing.TB, cfg serveConfig, n int, bulk bool) *exportFixture {
	tb.Helper()
	ctx := context.Background()
	d, err := openDurable(ctx, cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = d.close() })
	at := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	m := rooms.Member{ID: rooms.NewUserID(), DisplayName: "Talker", CreatedAt: at}
	if err := d.members.CreateMember(ctx, m); err != nil {
		tb.Fatal(err)
	}
	room := rooms.Room{ID: rooms.NewRoomID(), Title: "Long talk", CreatedBy: m.ID, CreatedAt: at}
	if err := d.rooms.CreateRoom(ctx, room); err != nil {
		tb.Fatal(err)
	}
	start := time.Now()
	msg := func(i int) rooms.ChatMessage {
		return rooms.ChatMessage{ID: rooms.NewMessageID(), Room: room.ID, Author: m.ID, Body: chatBody(i),
			CreatedAt: at.Add(time.Duration(i) * time.Millisecond)}
	}
	if bulk {
		seedChatBulk(tb, ctx, d, room.ID, n, msg)
	} else {
		for i := range n {
			if _, err := d.rooms.AddChatMessage(ctx, msg(i)); err != nil {
				tb.Fatal(err)
			}
		}
	}
	tb.Logf("seeded %d chat messages in %v", n, time.Since(start).Round(time.Millisecond))
	ex, err := newExporter(d, nil)
	if err != nil {
		tb.Fatal(err)
	}
	return &exportFixture{d: d, exporter: ex, user: m.ID, n: n}
}

// seedChatBulk writes the rows AddChatMessage would, seq 1 to n, and the
// room's counter, in one transaction.
func seedChatBulk(tb testing.TB, ctx context.Context, d *durable, room rooms.RoomID, n int, msg func(int) rooms.ChatMessage) {
	tb.Helper()
	tx, err := d.roomsDB.W.BeginTx(ctx, nil)
	if err != nil {
		tb.Fatal(err)
	}
	defer func() { _ = tx.Rollback() }()
	ins, err := tx.PrepareContext(ctx, `INSERT INTO chat_messages (id, room_id, seq, author_id, body, created_at)
		VALUES ($1, $2, $3, $4, $5, $6)`)
	if err != nil {
		tb.Fatal(err)
	}
	for i := range n {
		m := msg(i)
		if _, err := ins.ExecContext(ctx, string(m.ID), string(room), i+1, string(m.Author), m.Body, m.CreatedAt.UnixMilli()); err != nil {
			tb.Fatal(err)
		}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE rooms SET chat_seq = $1 WHERE id = $2`, n, string(room)); err != nil {
		tb.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		tb.Fatal(err)
	}
}

// countingWriter counts what is written and keeps none of it, as a
// client on the other end of a download would, for the server.
type countingWriter struct{ n int64 }

func (w *countingWriter) Write(p []byte) (int, error) {
	w.n += int64(len(p))
	return len(p), nil
}

// heapWatch samples the Go heap while something runs and keeps its peak.
// ReadMemStats stops the world for microseconds; every 2 ms that costs
// the export little and catches the peaks that matter (a page of
// messages held at once), though not each instant's.
type heapWatch struct {
	stop chan struct{}
	wg   sync.WaitGroup

	mu        sync.Mutex // guards the peaks
	peakInuse uint64
	peakAlloc uint64
}

func watchHeap() *heapWatch {
	h := &heapWatch{stop: make(chan struct{})}
	h.sample()
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		t := time.NewTicker(2 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-h.stop:
				return
			case <-t.C:
				h.sample()
			}
		}
	}()
	return h
}

func (h *heapWatch) sample() {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	h.mu.Lock()
	defer h.mu.Unlock()
	h.peakInuse = max(h.peakInuse, ms.HeapInuse)
	h.peakAlloc = max(h.peakAlloc, ms.HeapAlloc)
}

// done stops the watch and returns the peaks of HeapInuse and HeapAlloc.
func (h *heapWatch) done() (inuse, alloc uint64) {
	h.sample()
	close(h.stop)
	h.wg.Wait()
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.peakInuse, h.peakAlloc
}

// heapInuse is the heap in use after a collection: what is live.
func heapInuse() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse
}

const mib = 1 << 20

// BenchmarkExportChat exports a member who wrote 10,000 and then 100,000
// chat messages, on SQLite, and on Postgres too with
// PARLEY_BENCH_POSTGRES=1 (the test database of PARLEY_TEST_DATABASE_URL).
// Besides time and allocations (-benchmem), it reports the peak of the
// Go heap in use while an export runs, above what was live before it
// (peak-heap-MiB), and the archive's size. The messages are seeded once
// per size, through the chat store:
//
//	go test -run '^$' -bench BenchmarkExportChat -benchmem -benchtime 3x ./cmd/parley/
func BenchmarkExportChat(b *testing.B) {
	engines := []struct {
		name string
		cfg  func(b *testing.B) serveConfig
	}{
		{"sqlite", func(b *testing.B) serveConfig { return serveConfig{DataDir: b.TempDir()} }},
		{"postgres", func(b *testing.B) serveConfig {
			if os.Getenv("PARLEY_BENCH_POSTGRES") == "" {
				b.Skip("set PARLEY_BENCH_POSTGRES=1 to export from Postgres too")
			}
			return serveConfig{DataDir: b.TempDir(), DatabaseURL: testenv.Postgres(b)}
		}},
	}
	for _, e := range engines {
		b.Run(e.name, func(b *testing.B) {
			for _, n := range []int{10_000, 100_000} {
				b.Run(fmt.Sprintf("%dk", n/1000), func(b *testing.B) {
					f := newExportFixture(b, e.cfg(b), n, false)
					benchExport(b, f)
				})
			}
		})
	}
}

func benchExport(b *testing.B, f *exportFixture) {
	ctx := context.Background()
	base := heapInuse()
	var peak, size uint64
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		var w countingWriter
		h := watchHeap()
		err := f.exporter.Export(ctx, f.user, &w)
		inuse, _ := h.done()
		if err != nil {
			b.Fatal(err)
		}
		peak = max(peak, inuse-min(inuse, base))
		size = uint64(w.n)
	}
	b.ReportMetric(float64(peak)/mib, "peak-heap-MiB")
	b.ReportMetric(float64(base)/mib, "heap-before-MiB")
	b.ReportMetric(float64(size)/mib, "archive-MiB")
	b.ReportMetric(float64(f.n)*float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

// exportPeakBound is the most the Go heap in use may grow while one
// export runs, with the collector kept tight (GOGC=20): the export holds
// a page of messages (500, about 0.3 MiB), the JSON and zip buffers
// (a few hundred KiB), and garbage the collector has not reached yet.
// 20,000 messages of 260 characters held at once would take several
// times as much (their bodies alone are 5 MiB).
const exportPeakBound = 4 * mib

// The export streams: a member with 20,000 chat messages exports with the
// Go heap growing by less than exportPeakBound, whatever the count, and
// the archive holds every message.
func TestExportOfManyMessagesStaysInBoundedMemory(t *testing.T) {
	const n = 20_000
	f := newExportFixture(t, serveConfig{DataDir: t.TempDir()}, n, true)
	ctx := t.Context()
	old := debug.SetGCPercent(20)
	defer debug.SetGCPercent(old)

	base := heapInuse()
	h := watchHeap()
	var w countingWriter
	err := f.exporter.Export(ctx, f.user, &w)
	inuse, alloc := h.done()
	if err != nil {
		t.Fatal(err)
	}
	grew := inuse - min(inuse, base)
	t.Logf("export of %d messages: %.1f MiB archive; heap in use %.1f MiB before, peak %.1f MiB (+%.1f MiB), peak allocated %.1f MiB",
		n, float64(w.n)/mib, float64(base)/mib, float64(inuse)/mib, float64(grew)/mib, float64(alloc)/mib)
	if grew > exportPeakBound {
		t.Errorf("the export grew the heap in use by %.1f MiB, over the bound of %.1f MiB: is it still streamed?",
			float64(grew)/mib, float64(exportPeakBound)/mib)
	}

	// And nothing is missing: every message is in chat_messages.json.
	path := filepath.Join(t.TempDir(), "export.zip")
	out, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.exporter.Export(ctx, f.user, out); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	for _, zf := range zr.File {
		if zf.Name != "chat_messages.json" {
			continue
		}
		rc, err := zf.Open()
		if err != nil {
			t.Fatal(err)
		}
		dec := json.NewDecoder(rc)
		if _, err := dec.Token(); err != nil { // [
			t.Fatal(err)
		}
		count := 0
		for dec.More() {
			var m struct {
				Body string `json:"body"`
			}
			if err := dec.Decode(&m); err != nil {
				t.Fatal(err)
			}
			if want := chatBody(n - 1 - count); m.Body != want { // latest first
				t.Fatalf("message %d = %q, want %q", count, m.Body, want)
			}
			count++
		}
		_, _ = io.Copy(io.Discard, rc)
		rc.Close()
		if count != n {
			t.Errorf("chat_messages.json holds %d messages, want %d", count, n)
		}
		return
	}
	t.Error("the archive has no chat_messages.json")
}
