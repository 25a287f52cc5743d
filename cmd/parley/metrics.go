package main

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/parley-audio/parley/rooms"
	"github.com/parley-audio/parley/sfu"
)

// roomLister is what the metrics need of rooms.Service: the live rooms
// and who is in them.
type roomLister interface {
	LiveRooms(ctx context.Context, limit int, cursor string) ([]rooms.RoomView, string, error)
	Snapshot(ctx context.Context, id rooms.RoomID) (rooms.Snapshot, error)
}

var _ roomLister = (*rooms.Service)(nil)

// mediaStats is what the metrics need of the SFU.
type mediaStats interface {
	Stats() sfu.Stats
}

var _ mediaStats = (*sfu.SFU)(nil)

// metrics is the Prometheus registry behind GET /metrics: the Go runtime
// and process collectors (go_goroutines, process_cpu_seconds_total,
// process_resident_memory_bytes), the SFU's packet counters, the live
// rooms and participants by role, and the join-to-first-audio histogram.
// Counters are read from their owners at scrape time, so nothing on the
// packet path knows about Prometheus.
type metrics struct {
	reg        *prometheus.Registry
	firstAudio prometheus.Histogram
	log        *slog.Logger

	// Set by attach once the service and the SFU exist.
	rooms roomLister
	media mediaStats
}

// maxScrapedRooms bounds the per-room work of one scrape.
const maxScrapedRooms = 1000

func newMetrics(log *slog.Logger) *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		firstAudio: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "parley_join_to_first_audio_seconds",
			Help: "Time from a participant's media joining a room to the first audio packet the server sends it.",
			// 10 ms to 10 s: joins on a LAN take tens of milliseconds,
			// and anything past a few seconds is a failure in all but name.
			Buckets: []float64{.01, .025, .05, .08, .1, .15, .2, .25, .4, .6, 1, 2.5, 5, 10},
		}),
		log: log,
	}
	m.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.firstAudio,
	)
	return m
}

// observeFirstAudio is the SFU's OnFirstAudio hook.
func (m *metrics) observeFirstAudio(d time.Duration) { m.firstAudio.Observe(d.Seconds()) }

// attach starts reporting the service's rooms and the SFU's counters.
func (m *metrics) attach(rs roomLister, media mediaStats) {
	m.rooms, m.media = rs, media
	m.reg.MustRegister(m)
}

// Handler serves the registry in the Prometheus text format.
func (m *metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

var (
	descRooms        = prometheus.NewDesc("parley_rooms", "Live rooms.", nil, nil)
	descParticipants = prometheus.NewDesc("parley_participants", "Participants in live rooms, by role.", []string{"role"}, nil)
	descPeers        = prometheus.NewDesc("parley_media_peers", "PeerConnections in the SFU.", nil, nil)
	descTracks       = prometheus.NewDesc("parley_media_published_tracks", "Upstream tracks being forwarded.", nil, nil)
	descPacketsIn    = prometheus.NewDesc("parley_media_packets_in_total", "RTP packets received from speakers.", nil, nil)
	descBytesIn      = prometheus.NewDesc("parley_media_bytes_in_total", "Bytes of RTP received from speakers, headers included.", nil, nil)
	descPacketsOut   = prometheus.NewDesc("parley_media_packets_out_total", "RTP packets forwarded to listeners.", nil, nil)
	descBytesOut     = prometheus.NewDesc("parley_media_bytes_out_total", "Payload bytes forwarded to listeners.", nil, nil)
	descDrops        = prometheus.NewDesc("parley_media_packets_dropped_total", "Packets not forwarded, by reason.", []string{"reason"}, nil)
)

// Describe implements prometheus.Collector.
func (m *metrics) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descRooms, descParticipants, descPeers, descTracks,
		descPacketsIn, descBytesIn, descPacketsOut, descBytesOut, descDrops} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (m *metrics) Collect(ch chan<- prometheus.Metric) {
	st := m.media.Stats()
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	gauge(descPeers, float64(st.Peers))
	gauge(descTracks, float64(st.PublishedTracks))
	counter(descPacketsIn, st.PacketsIn)
	counter(descBytesIn, st.BytesIn)
	counter(descPacketsOut, st.PacketsOut)
	counter(descBytesOut, st.BytesOut)
	for reason, n := range st.Drops {
		counter(descDrops, n, string(reason))
	}

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	live, roles := m.countRooms(ctx)
	gauge(descRooms, float64(live))
	for _, r := range []rooms.Role{rooms.RoleModerator, rooms.RoleSpeaker, rooms.RoleListener} {
		gauge(descParticipants, float64(roles[r]), string(r))
	}
}

// countRooms pages through the live rooms and counts their participants
// by role. A failing store is logged and reported as what was counted.
func (m *metrics) countRooms(ctx context.Context) (int, map[rooms.Role]int) {
	roles := make(map[rooms.Role]int, 3)
	live := 0
	cursor := ""
	for live < maxScrapedRooms {
		page, next, err := m.rooms.LiveRooms(ctx, rooms.MaxPageSize, cursor)
		if err != nil {
			m.log.Warn("metrics: list rooms", "err", err)
			break
		}
		for _, r := range page {
			live++
			snap, err := m.rooms.Snapshot(ctx, r.ID)
			if err != nil {
				continue // ended meanwhile
			}
			for _, p := range snap.Participants {
				roles[p.Role]++
			}
		}
		if next == "" {
			break
		}
		cursor = next
	}
	return live, roles
}
