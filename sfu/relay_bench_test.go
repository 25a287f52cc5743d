package sfu

import (
	"slices"
	"syscall"
	"testing"
	"time"
)

// BenchmarkRelay measures what the node-to-node relay adds to a packet's
// trip: "direct" is speaker → node A → a listener on A; "relayed" is
// speaker → node A → relay → node B → a listener on B, both nodes in this
// process with their own sockets, over loopback. Each op is one packet,
// paced at 5,000 a second. Metrics: the trip's latency from the
// speaker's write to the listener's read (p50, p99), and the process's
// CPU per packet: speaker and listener clients included, so the figure
// to read is the difference between the two, the relay's own cost (A's
// write to the relay instead of a listener, B's DTLS-SRTP receive and its
// write to its listener).
//
//	go test -run '^$' -bench Relay -benchtime 20000x ./sfu
func BenchmarkRelay(b *testing.B) {
	for _, relayed := range []bool{false, true} {
		name := "direct"
		if relayed {
			name = "relayed"
		}
		b.Run(name, func(b *testing.B) { benchRelay(b, relayed) })
	}
}

func benchRelay(b *testing.B, relayed bool) {
	a := benchRoom(b)
	sp := newClient(b, a, "speaker", roleSpeaker, clientOpts{})
	sp.srv.SetPublishAllowed(true)
	sp.connect()
	var l *testClient
	if relayed {
		far := benchRoom(b)
		l = newClient(b, far, "listener", roleListener, clientOpts{})
		l.connect()
		linkRelayB(b, a, far)
	} else {
		l = newClient(b, a, "listener", roleListener, clientOpts{})
		l.connect()
	}
	// Warm up until the track is negotiated and flowing.
	waitFor(b, "warm-up audio", func() bool {
		sp.send(counterPayload(0xFF, 0), 30)
		time.Sleep(5 * time.Millisecond)
		return len(l.from(sp.id)) > 0
	})
	const tag = 0x07
	sent := make([]time.Time, b.N)
	cpu0 := rusageCPU()
	b.ResetTimer()
	tick := time.NewTicker(200 * time.Microsecond)
	for i := range b.N {
		sent[i] = time.Now()
		sp.send(counterPayload(tag, uint32(i)), 30)
		<-tick.C
	}
	tick.Stop()
	waitFor(b, "every packet", func() bool { return len(measured(l.from(sp.id), tag)) >= b.N*99/100 })
	b.StopTimer()
	cpu := rusageCPU() - cpu0
	pkts, at := l.arrivals(sp.id)
	var lat []float64
	for i, p := range pkts {
		if tg, n := payloadCounter(p.Payload); tg == tag && int(n) < b.N {
			lat = append(lat, float64(at[i].Sub(sent[n]).Microseconds()))
		}
	}
	slices.Sort(lat)
	if len(lat) > 0 {
		b.ReportMetric(lat[len(lat)/2], "p50-µs")
		b.ReportMetric(lat[len(lat)*99/100], "p99-µs")
	}
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/pkt")
}

// benchRoom is a router on an SFU of its own: a node.
func benchRoom(b *testing.B) *Router {
	s := newTestSFU(b)
	r := s.NewRouter(RouterParams{Logger: testLogger()})
	b.Cleanup(func() { _ = r.Close() })
	return r
}

func rusageCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func linkRelayB(b *testing.B, from, to *Router) { linkRelay(b, from, to, "far") }
