package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/parley-audio/parley/signaling/client"
)

// joinListeners connects every listener at the join rate, round-robin over
// the rooms, with at most MaxJoining joins in flight. It returns once
// every join has succeeded or failed; failures are counted, not fatal.
func (r *runner) joinListeners(ctx context.Context) error {
	total := r.cfg.Rooms * r.cfg.Listeners
	if total == 0 {
		return nil
	}
	if r.cfg.Client == "lean" {
		pool, err := newLeanPool(r.cfg.Sockets)
		if err != nil {
			return fmt.Errorf("lean listeners: %w", err)
		}
		r.lean = pool
	}
	r.listeners = make([]*listenerRx, total)
	for i := range r.listeners {
		r.listeners[i] = &listenerRx{}
	}
	slots := make(chan struct{}, r.cfg.MaxJoining)
	interval := time.Duration(float64(time.Second) / r.cfg.JoinRate)
	start := time.Now()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	var wg sync.WaitGroup
	defer wg.Wait()
	next := start
	for i := 0; i < total; i++ {
		// Pace by the schedule, not by the previous join: a slow join must
		// not slow the rate down.
		if wait := time.Until(next); wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return ctx.Err()
			case <-t.C:
			}
		}
		next = next.Add(interval)
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			return ctx.Err()
		}
		select {
		case <-tick.C:
			r.sampleAndReport(ctx, "joining")
		default:
		}
		rm := r.rooms[i%len(r.rooms)]
		rx := r.listeners[i]
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-slots }()
			jctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			defer cancel()
			c, err := r.joinOne(jctx, rm, i, rx)
			if err != nil {
				rx.failed.Store(true)
				r.mu.Lock()
				r.res.JoinErrors++
				if r.res.FirstJoinError == "" {
					r.res.FirstJoinError = err.Error()
				}
				r.mu.Unlock()
				return
			}
			r.mu.Lock()
			r.conns = append(r.conns, c)
			r.mu.Unlock()
		}()
	}
	wg.Wait()
	r.res.JoinSeconds = time.Since(start).Seconds()
	return nil
}

// joinOne signs a listener in, joins its room and brings its media up.
func (r *runner) joinOne(ctx context.Context, rm *benchRoom, i int, rx *listenerRx) (benchListener, error) {
	node := r.cfg.nodeURL(i)
	a := &client.API{BaseURL: node, HTTP: r.hc}
	if _, err := a.DevSignIn(ctx, fmt.Sprintf("Bench listener %d", i+1)); err != nil {
		return nil, fmt.Errorf("sign in: %w", err)
	}
	if r.lean != nil {
		return r.lean.join(ctx, node, a.Token, rm.id, r.hc, rx)
	}
	return joinPion(ctx, node, a.Token, rm.id, r.hc, rx)
}

// timePoint is one second of the run, for the progress line and the plot.
type timePoint struct {
	T          float64 `json:"t_s"`
	Phase      string  `json:"phase"`
	Listeners  int     `json:"listeners"`
	RxPPS      float64 `json:"rx_pps"`
	LossPct    float64 `json:"loss_pct"`
	ServerCPU  float64 `json:"server_cpu_cores"`
	ServerRSS  float64 `json:"server_rss_mb"`
	GenCPU     float64 `json:"generator_cpu_cores"`
	received   uint64
	sent       uint64
	serverCPU  float64
	genCPU     float64
	at         time.Time
	listenersN int
}

// sampleAndReport takes one sample and prints the progress line.
func (r *runner) sampleAndReport(ctx context.Context, phase string) {
	now := time.Now()
	p := timePoint{Phase: phase, at: now, genCPU: selfCPU()}
	for _, l := range r.listeners {
		if l == nil {
			continue
		}
		p.received += l.received()
		if l.joinedAt.Load() != 0 && !l.failed.Load() {
			p.listenersN++
		}
	}
	for _, s := range r.speakers {
		p.sent += s.sent.Load() * uint64(max(1, p.listenersN)) / uint64(len(r.rooms))
	}
	s := r.probe.sample(ctx)
	p.serverCPU = s.cpuSec
	p.ServerRSS = s.rssBytes / (1 << 20)
	p.Listeners = p.listenersN
	if len(r.samples) == 0 {
		r.res.startedAt = now
	}
	p.T = now.Sub(r.res.startedAt).Seconds()
	if n := len(r.samples); n > 0 {
		prev := r.samples[n-1]
		dt := now.Sub(prev.at).Seconds()
		p.RxPPS = float64(p.received-prev.received) / dt
		if p.serverCPU >= 0 && prev.serverCPU >= 0 {
			p.ServerCPU = (p.serverCPU - prev.serverCPU) / dt
		}
		p.GenCPU = (p.genCPU - prev.genCPU) / dt
		if exp := float64(p.sent - prev.sent); exp > 0 && prev.listenersN == p.listenersN {
			p.LossPct = math.Max(0, 100*(1-float64(p.received-prev.received)/exp))
		}
	}
	r.samples = append(r.samples, p)
	fmt.Fprintf(r.progress, "[%5.1fs] %-9s listeners %5d/%d  rx %8.0f pkt/s  server %4.2f cores %6.1f MB  generator %4.2f cores\n",
		p.T, phase, p.Listeners, len(r.listeners), p.RxPPS, p.ServerCPU, p.ServerRSS, p.GenCPU)
}

// measure runs the steady window: every listener joined, speakers
// talking, for the configured duration.
func (r *runner) measure(ctx context.Context) error {
	// Let the last joins' first offers settle before the window opens.
	r.sampleAndReport(ctx, "settling")
	start := r.probe.sample(ctx)
	r.res.RSSAfterJoin = start.rssBytes
	gen0 := selfCPU()
	rx0 := r.totalReceived()
	r.marks = markWindow(r.listeners)
	t0 := time.Now()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	end := time.NewTimer(r.cfg.Duration)
	defer end.Stop()
	peak := start.rssBytes
loop:
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-end.C:
			break loop
		case <-tick.C:
			r.sampleAndReport(ctx, "measuring")
			if s := r.samples[len(r.samples)-1]; s.ServerRSS*(1<<20) > peak {
				peak = s.ServerRSS * (1 << 20)
			}
		}
	}
	stop := r.probe.sample(ctx)
	elapsed := time.Since(t0).Seconds()
	rx := r.totalReceived() - rx0
	r.res.WindowSeconds = elapsed
	r.res.ReceivedPackets = rx
	r.res.ReceivedPPS = float64(rx) / elapsed
	r.res.GeneratorCPUSeconds = selfCPU() - gen0
	if rx > 0 {
		r.res.GeneratorCPUUsPerPacket = r.res.GeneratorCPUSeconds / float64(rx) * 1e6
	}
	fwd := float64(rx)
	r.res.ForwardedSource = "listeners"
	if start.packetsOut >= 0 && stop.packetsOut >= 0 {
		fwd = stop.packetsOut - start.packetsOut
		r.res.ForwardedSource = "server"
	}
	r.res.ForwardedPPS = fwd / elapsed
	if start.cpuSec >= 0 && stop.cpuSec >= 0 {
		r.res.ServerCPUSeconds = stop.cpuSec - start.cpuSec
		r.res.ServerCPUCores = r.res.ServerCPUSeconds / elapsed
		if fwd > 0 {
			r.res.ServerCPUUsPerPacket = r.res.ServerCPUSeconds / fwd * 1e6
		}
	}
	if stop.rssBytes > peak {
		peak = stop.rssBytes
	}
	if stop.hwmBytes > peak {
		peak = stop.hwmBytes
	}
	r.res.ServerRSSPeakMB = peak / (1 << 20)
	return nil
}

func (r *runner) totalReceived() uint64 {
	var n uint64
	for _, l := range r.listeners {
		n += l.received()
	}
	return n
}

// finish stops the speakers, lets the last packets arrive, stops the
// listeners and computes the figures.
func (r *runner) finish(ctx context.Context) *benchResult {
	r.stopSpeaking()
	// Packets still in flight: wait until the listeners' counts stop
	// moving (at most a second).
	last := r.totalReceived()
	for range 10 {
		t := time.NewTimer(100 * time.Millisecond)
		select {
		case <-ctx.Done():
		case <-t.C:
		}
		n := r.totalReceived()
		if n == last {
			break
		}
		last = n
	}
	r.close()

	res := &r.res
	res.Config = r.cfg
	res.Timeline = r.samples
	connected := 0
	var joins []float64
	for _, l := range r.listeners {
		if l.failed.Load() || l.joinedAt.Load() == 0 {
			continue
		}
		connected++
		if fa := l.firstAudio.Load(); fa != 0 {
			joins = append(joins, float64(fa-l.joinStart.UnixNano())/1e6)
		} else {
			res.NoAudio++
		}
	}
	res.ListenersConnected = connected
	res.JoinToAudioMs = percentiles(joins)
	loss := computeLoss(r.speakers, r.listeners, r.sentAt)
	res.RunExpectedPackets, res.RunLostPackets = loss.expected, loss.expected-min(loss.expected, loss.received)
	if loss.expected > 0 {
		res.RunLossPct = 100 * float64(res.RunLostPackets) / float64(loss.expected)
	}
	exp, got := windowLoss(r.marks)
	res.ExpectedPackets, res.LostPackets = exp, exp-min(exp, got)
	if exp > 0 {
		res.LossPct = 100 * float64(res.LostPackets) / float64(exp)
	}
	res.Duplicates, res.Reordered, res.MissingStreams = loss.dups, loss.reorder, loss.missingStreams
	res.JitterMs = percentiles(loss.jitterMs)
	if r.cfg.Listeners > 0 && res.RSSAfterJoin > 0 && res.Base > 0 && connected > 0 {
		res.RSSPerListenerKB = (res.RSSAfterJoin - res.Base) / float64(connected) / 1024
	}
	for _, s := range r.speakers {
		res.SpeakerPackets += s.sent.Load()
	}
	return res
}

// benchResult is the summary; its JSON is `parley bench --json`.
type benchResult struct {
	Config                  benchConfig `json:"config"`
	ListenersConnected      int         `json:"listeners_connected"`
	JoinErrors              int         `json:"join_errors"`
	FirstJoinError          string      `json:"first_join_error,omitempty"`
	NoAudio                 int         `json:"listeners_without_audio"`
	JoinSeconds             float64     `json:"join_phase_s"`
	WindowSeconds           float64     `json:"window_s"`
	SpeakerPackets          uint64      `json:"speaker_packets_sent"`
	ReceivedPackets         uint64      `json:"received_packets"`
	ReceivedPPS             float64     `json:"received_pps"`
	ForwardedPPS            float64     `json:"forwarded_pps"`
	ForwardedSource         string      `json:"forwarded_counted_by"`
	ExpectedPackets         uint64      `json:"expected_packets"`
	LostPackets             uint64      `json:"lost_packets"`
	LossPct                 float64     `json:"loss_pct"` // in the measuring window
	RunExpectedPackets      uint64      `json:"run_expected_packets"`
	RunLostPackets          uint64      `json:"run_lost_packets"`
	RunLossPct              float64     `json:"run_loss_pct"` // from each listener's first packet, joins included
	Duplicates              uint64      `json:"duplicates"`
	Reordered               uint64      `json:"reordered"`
	MissingStreams          int         `json:"missing_streams"`
	JitterMs                Percentiles `json:"jitter_ms"`
	JoinToAudioMs           Percentiles `json:"join_to_audio_ms"`
	ServerCPUSeconds        float64     `json:"server_cpu_s"`
	ServerCPUCores          float64     `json:"server_cpu_cores"`
	ServerCPUUsPerPacket    float64     `json:"server_cpu_us_per_packet"`
	ServerRSSPeakMB         float64     `json:"server_rss_peak_mb"`
	RSSPerListenerKB        float64     `json:"rss_per_listener_kb"`
	GeneratorCPUSeconds     float64     `json:"generator_cpu_s"`
	GeneratorCPUUsPerPacket float64     `json:"generator_cpu_us_per_packet"`
	Timeline                []timePoint `json:"timeline"`

	Base         float64 `json:"-"` // server RSS before the listeners joined, bytes
	RSSAfterJoin float64 `json:"-"` // and after, bytes
	startedAt    time.Time
}

// Percentiles of a distribution; N is the sample count.
type Percentiles struct {
	N   int     `json:"n"`
	P50 float64 `json:"p50"`
	P95 float64 `json:"p95"`
	P99 float64 `json:"p99"`
	Max float64 `json:"max"`
}

func percentiles(v []float64) Percentiles {
	if len(v) == 0 {
		return Percentiles{}
	}
	s := slices.Clone(v)
	slices.Sort(s)
	at := func(q float64) float64 { return s[min(len(s)-1, int(math.Ceil(q*float64(len(s))))-1)] }
	return Percentiles{N: len(s), P50: at(.5), P95: at(.95), P99: at(.99), Max: s[len(s)-1]}
}

func printSummary(w io.Writer, r *benchResult) {
	c := r.Config
	fmt.Fprintf(w, "\nparley bench: %d room(s) x %d speaker(s) x %d listener(s) (%s listeners), joins at %.0f/s, %.1fs measured\n",
		c.Rooms, c.Speakers, c.Listeners, c.Client, c.JoinRate, r.WindowSeconds)
	fmt.Fprintf(w, "  listeners      %d connected, %d join errors, %d without audio\n", r.ListenersConnected, r.JoinErrors, r.NoAudio)
	if r.FirstJoinError != "" {
		fmt.Fprintf(w, "  first error    %s\n", r.FirstJoinError)
	}
	fmt.Fprintf(w, "  forwarded      %.0f pkt/s (counted by the %s); listeners received %.0f pkt/s\n", r.ForwardedPPS, r.ForwardedSource, r.ReceivedPPS)
	fmt.Fprintf(w, "  loss           %.3f%% in the window (%d of %d expected); %.3f%% over the whole run, joins included (%d of %d)\n",
		r.LossPct, r.LostPackets, r.ExpectedPackets, r.RunLossPct, r.RunLostPackets, r.RunExpectedPackets)
	fmt.Fprintf(w, "                 %d duplicates, %d reordered, %d streams never received\n", r.Duplicates, r.Reordered, r.MissingStreams)
	fmt.Fprintf(w, "  jitter         p50 %.2f ms, p99 %.2f ms\n", r.JitterMs.P50, r.JitterMs.P99)
	fmt.Fprintf(w, "  join to audio  p50 %.0f ms, p95 %.0f ms, p99 %.0f ms, max %.0f ms (n=%d)\n",
		r.JoinToAudioMs.P50, r.JoinToAudioMs.P95, r.JoinToAudioMs.P99, r.JoinToAudioMs.Max, r.JoinToAudioMs.N)
	fmt.Fprintf(w, "  server         %.2f CPU s (%.2f cores), %.2f us per forwarded packet, RSS peak %.1f MB, %.0f KB per listener\n",
		r.ServerCPUSeconds, r.ServerCPUCores, r.ServerCPUUsPerPacket, r.ServerRSSPeakMB, r.RSSPerListenerKB)
	fmt.Fprintf(w, "  generator      %.2f CPU s, %.2f us per received packet\n", r.GeneratorCPUSeconds, r.GeneratorCPUUsPerPacket)
}
