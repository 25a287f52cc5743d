package sfu

import (
	"time"

	"github.com/pion/rtcp"
)

// senderReportInterval is how often every downtrack gets an RTCP sender
// report (RFC 3550 6.4.1), as Pion's report interceptor would send it.
const senderReportInterval = time.Second

// runReports is the router's second goroutine: once a second it sends a
// sender report for every downtrack that has sent packets, through the
// subscriber's SRTCP session. Pion's sender-report interceptor cannot do
// it, as the fast path's packets never pass through it.
func (r *Router) runReports() {
	t := time.NewTicker(senderReportInterval)
	defer t.Stop()
	var srcs []*source
	for {
		select {
		case <-r.quit:
			return
		case <-t.C:
		}
		srcs = r.publishedSources(srcs[:0])
		now := time.Now()
		for _, src := range srcs {
			for _, d := range src.downs.load() {
				d.sendReport(now)
			}
		}
	}
}

// publishedSources appends the published tracks to into.
func (r *Router) publishedSources(into []*source) []*source {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, src := range r.published {
		into = append(into, src)
	}
	return into
}

// sendReport sends d's sender report: its packet and octet counts, and the
// RTP time that corresponds to now, extrapolated from the last packet.
func (d *downTrack) sendReport(now time.Time) {
	b := d.binding.Load()
	pkts := d.sentPackets.Load()
	if b == nil || d.sender == nil || pkts == 0 {
		return
	}
	elapsed := now.Sub(time.Unix(0, d.lastAt.Load()))
	rtpTime := d.lastTS.Load() + uint32(elapsed.Seconds()*float64(opusCodec.ClockRate))
	sr := &rtcp.SenderReport{
		SSRC:        b.ssrc,
		NTPTime:     ntpTime(now),
		RTPTime:     rtpTime,
		PacketCount: uint32(pkts),
		OctetCount:  uint32(d.sentOctets.Load()),
	}
	if _, err := d.sender.Transport().WriteRTCP([]rtcp.Packet{sr}); err != nil {
		d.sub.log.Debug("sender report", "err", err)
	}
}

// ntpTime is t in the 64-bit NTP format (RFC 3550 4).
func ntpTime(t time.Time) uint64 {
	const ntpEpochOffset = 2208988800 // 1900 to 1970, in seconds
	secs := uint64(t.Unix()) + ntpEpochOffset
	frac := uint64(t.Nanosecond()) << 32 / 1e9
	return secs<<32 | frac
}
