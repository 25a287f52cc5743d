package sfu

import (
	"errors"
	"log/slog"
	"sync/atomic"

	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
)

// readBufferSize holds any RTP packet that fits a UDP datagram on an
// Ethernet path; Pion's own receive MTU is smaller.
const readBufferSize = 1500

// logEvery samples warnings inside packet loops: the first occurrence and
// then every logEvery-th.
const logEvery = 100

// source is one peer's upstream audio track. Its forwarding goroutine reads
// raw RTP, applies the publish permission per packet, counts voice for
// speaking detection, and writes each packet to every downtrack.
type source struct {
	id       PeerID // the publisher
	remote   bool   // relayed from the publisher's node (relay.go)
	track    *webrtc.TrackRemote
	receiver *webrtc.RTPReceiver
	log      *slog.Logger

	allowed    *atomic.Bool  // the publisher's permission, read per packet
	sfuStats   *counters     // process-wide
	peerStats  *peerCounters // the publisher's
	levelID    uint8         // negotiated audio-level extension ID; 0 = none
	voiceLevel uint8         // Config.SpeakingLevel

	downs downList
	voice atomic.Uint64 // packets at or above speaking loudness, ever
	// Loudest-N (loudest.go): the levels of this interval's packets,
	// and whether the track is left out.
	levelSum, levelCount atomic.Uint64
	muted                atomic.Bool
	ended                chan struct{} // closed when the forwarding loop has returned

	// Owned by the forwarding goroutine.
	hdr       rtp.Header
	malformed uint64
	seqShift  uint16     // packets not forwarded while muted by loudest-N
	spread    spreader   // helpers for big fan-outs (spread.go)
	out       *sendBatch // the fast path's datagrams for one packet
}

func newSource(p *Peer, track *webrtc.TrackRemote, receiver *webrtc.RTPReceiver) *source {
	s := &source{
		id:         p.id,
		track:      track,
		receiver:   receiver,
		log:        p.log.With("ssrc", uint32(track.SSRC())),
		allowed:    &p.publish,
		sfuStats:   &p.sfu.stats,
		peerStats:  &p.stats,
		voiceLevel: p.sfu.cfg.SpeakingLevel,
		ended:      make(chan struct{}),
	}
	for _, e := range receiver.GetParameters().HeaderExtensions {
		if e.URI == sdp.AudioLevelURI && e.ID > 0 && e.ID < 256 {
			s.levelID = uint8(e.ID)
		}
	}
	return s
}

// forward is the forwarding loop. It returns when the track ends: the
// client stopped sending on that m-line, or the PeerConnection closed.
func (s *source) forward() {
	defer close(s.ended)
	defer s.stopSpread()
	buf := make([]byte, readBufferSize)
	for {
		n, _, err := s.track.Read(buf)
		if err != nil {
			s.log.Debug("upstream track ended", "err", err)
			return
		}
		s.handlePacket(buf[:n])
	}
}

// isEnded reports whether the forwarding loop has returned.
func (s *source) isEnded() bool {
	select {
	case <-s.ended:
		return true
	default:
		return false
	}
}

// readRTCP drains the receiver's RTCP (the client's sender reports) so
// Pion's report interceptor sees it. It returns when the receiver stops.
func (s *source) readRTCP() {
	buf := make([]byte, readBufferSize)
	for {
		if _, _, err := s.receiver.Read(buf); err != nil {
			return
		}
	}
}

// handlePacket processes one upstream packet; buf is only valid for the
// duration of the call. It allocates nothing for well-formed packets.
func (s *source) handlePacket(buf []byte) {
	s.sfuStats.packetsIn.Add(1)
	s.sfuStats.bytesIn.Add(uint64(len(buf)))
	s.peerStats.packetsIn.Add(1)
	s.peerStats.bytesIn.Add(uint64(len(buf)))

	hdr := &s.hdr
	n, err := hdr.Unmarshal(buf)
	end := len(buf)
	hdr.PaddingSize = 0
	if err == nil && hdr.Padding {
		// The last byte counts the padding (RFC 3550 5.1). Strip it from
		// the payload; each downtrack's header re-adds it on marshal.
		pad := int(buf[end-1])
		if pad == 0 || n+pad > end {
			err = errBadPadding
		} else {
			hdr.PaddingSize = byte(pad)
			end -= pad
		}
	}
	if err != nil {
		s.sfuStats.drops[dropMalformed].Add(1)
		s.malformed++
		if s.malformed%logEvery == 1 {
			s.log.Warn("malformed rtp dropped", "err", err, "count", s.malformed)
		}
		return
	}
	payload := buf[n:end]

	// Permission is checked on every packet, so a revoked speaker goes
	// silent at once, before the renegotiation that removes their track.
	if !s.allowed.Load() {
		s.sfuStats.drops[dropNotPermitted].Add(1)
		s.peerStats.notPermitted.Add(1)
		return
	}
	s.peerStats.forwarded.Add(1)

	var level []byte
	lvl := uint64(levelSilent)
	if s.levelID != 0 {
		if raw := hdr.GetExtension(s.levelID); len(raw) >= 1 {
			level = raw[:1]
			// Low 7 bits are -dBov; the top bit is the V flag, which
			// Chrome sets on every packet and so tells us nothing.
			lvl = uint64(raw[0] & 0x7f)
			if raw[0]&0x7f <= s.voiceLevel {
				s.voice.Add(1)
			}
		}
	}
	s.levelSum.Add(lvl)
	s.levelCount.Add(1)
	if s.muted.Load() {
		s.sfuStats.drops[dropNotLoudest].Add(1)
		s.seqShift++
		return
	}
	// Listeners see a paused stream, not a gap (see loudest.go).
	hdr.SequenceNumber -= s.seqShift
	s.fanout(hdr, payload, level)
}

var errBadPadding = errors.New("sfu: bad rtp padding")

// fanout writes one packet to every downtrack. No lock is held: the list is
// an immutable snapshot, and each downtrack's scratch header belongs to the
// one goroutine writing it. A failing subscriber is counted and skipped; it
// never stops the loop, and there is no queue that could back up behind
// it. Big fan-outs are spread over the cores (spread.go).
func (s *source) fanout(hdr *rtp.Header, payload, level []byte) {
	if s.out == nil {
		s.out = newSendBatch()
		s.spread.procs = gomaxprocs()
	}
	s.out.now = nanotime()
	downs := s.downs.load()
	var sent uint64
	if k := s.spread.shares(len(downs), s.sfuStats.published.Load()); k > 1 {
		sent = s.fanoutSpread(hdr, payload, level, downs, k)
	} else {
		sent = s.fanoutRange(hdr, payload, level, downs, s.out)
	}
	s.sfuStats.packetsOut.Add(sent)
	s.sfuStats.bytesOut.Add(sent * uint64(len(payload)))
}

// fanoutRange writes the packet to downs through out and sends it; it
// returns how many writes the kernel took.
func (s *source) fanoutRange(hdr *rtp.Header, payload, level []byte, downs []*downTrack, out *sendBatch) uint64 {
	var sent uint64
	for _, d := range downs {
		if _, err := d.write(hdr, payload, level, out); err != nil {
			s.countFailure(d, err)
			continue
		}
		d.sub.stats.packetsSent.Add(1)
		d.sub.stats.bytesOut.Add(uint64(len(payload)))
		if !d.sub.heard.Load() {
			d.sub.firstAudio()
		}
		sent++
	}
	out.flush()
	if f := out.failed; f > 0 {
		// Refused by the kernel after being counted as sent: rare (an ICMP
		// error for a listener that has gone), so counted in bulk.
		out.failed = 0
		s.sfuStats.drops[dropWriteError].Add(f)
		sent -= min(sent, f)
	}
	return sent
}

func (s *source) countFailure(d *downTrack, err error) {
	if errors.Is(err, errNotBound) {
		s.sfuStats.drops[dropNotBound].Add(1)
		return
	}
	s.sfuStats.drops[dropWriteError].Add(1)
	d.sub.stats.writeErrors.Add(1)
	d.failures++
	if d.failures%logEvery == 1 {
		d.sub.log.Warn("downtrack write failed", "source", s.id, "err", err, "failures", d.failures)
	}
}
