package sfu

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"

	"net"

	"github.com/pion/interceptor"
	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"
	"github.com/pion/srtp/v3"
	"github.com/pion/webrtc/v4"
)

// fakeWriter stands in for Pion's SRTP writer: it marshals the packet into
// its own buffer, as encryption would, and keeps the last one.
type fakeWriter struct {
	buf    [1500]byte
	last   []byte
	writes int
	fail   error
}

var _ webrtc.TrackLocalWriter = (*fakeWriter)(nil)

func (w *fakeWriter) WriteRTP(h *rtp.Header, payload []byte) (int, error) {
	if w.fail != nil {
		return 0, w.fail
	}
	n, err := h.MarshalTo(w.buf[:])
	if err != nil {
		return 0, err
	}
	n += copy(w.buf[n:], payload)
	if h.Padding {
		for i := 0; i < int(h.PaddingSize); i++ {
			w.buf[n+i] = 0
		}
		n += int(h.PaddingSize)
		w.buf[n-1] = h.PaddingSize
	}
	w.last = w.buf[:n]
	w.writes++
	return n, nil
}

func (w *fakeWriter) Write(b []byte) (int, error) { return len(b), nil }

// fakeBinding is the TrackLocalContext Pion passes to Bind.
type fakeBinding struct {
	id      string
	ssrc    webrtc.SSRC
	pt      webrtc.PayloadType
	levelID int // 0: audio level not negotiated
	w       webrtc.TrackLocalWriter
}

var _ webrtc.TrackLocalContext = fakeBinding{}

func (f fakeBinding) CodecParameters() []webrtc.RTPCodecParameters {
	c := opusCodec
	c.PayloadType = f.pt
	return []webrtc.RTPCodecParameters{c}
}

func (f fakeBinding) HeaderExtensions() []webrtc.RTPHeaderExtensionParameter {
	if f.levelID == 0 {
		return nil
	}
	return []webrtc.RTPHeaderExtensionParameter{{URI: sdp.AudioLevelURI, ID: f.levelID}}
}
func (f fakeBinding) SSRC() webrtc.SSRC                       { return f.ssrc }
func (f fakeBinding) SSRCRetransmission() webrtc.SSRC         { return 0 }
func (f fakeBinding) SSRCForwardErrorCorrection() webrtc.SSRC { return 0 }
func (f fakeBinding) WriteStream() webrtc.TrackLocalWriter    { return f.w }
func (f fakeBinding) ID() string                              { return f.id }
func (f fakeBinding) RTCPReader() interceptor.RTCPReader      { return nil }

// testSource is a source with no connection behind it, fed by handlePacket.
func testSource(allowed bool) *source {
	s := &source{
		id:         "speaker",
		log:        slog.New(slog.DiscardHandler),
		allowed:    new(atomic.Bool),
		sfuStats:   new(counters),
		peerStats:  new(peerCounters),
		levelID:    3,
		voiceLevel: 50,
	}
	s.allowed.Store(allowed)
	return s
}

// subscribe adds a downtrack bound like Pion would bind it.
func subscribe(t testing.TB, src *source, b fakeBinding) *downTrack {
	t.Helper()
	d := newDownTrack(src, &Peer{id: "listener", log: slog.New(slog.DiscardHandler)})
	if _, err := d.Bind(b); err != nil {
		t.Fatal(err)
	}
	src.downs.add(d)
	return d
}

// upstreamPacket is a packet as a browser sends it: audio level at id 3,
// another extension the subscriber does not know at id 5.
func upstreamPacket(t testing.TB, level uint8, payload []byte) []byte {
	t.Helper()
	p := &rtp.Packet{
		Header: rtp.Header{
			Version: 2, PayloadType: 96, SequenceNumber: 4242, Timestamp: 123456,
			SSRC: 0xdecafbad, Marker: true, CSRC: []uint32{7},
		},
		Payload: payload,
	}
	if err := p.Header.SetExtension(3, []byte{0x80 | level}); err != nil {
		t.Fatal(err)
	}
	if err := p.Header.SetExtension(5, []byte{1, 2, 3}); err != nil {
		t.Fatal(err)
	}
	b, err := p.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDowntrackRewritesHeaderPerSubscriber(t *testing.T) {
	payload := []byte("opus frame, forwarded byte for byte")
	tests := []struct {
		name    string
		binding fakeBinding
	}{
		{"one-byte level id", fakeBinding{id: "a", ssrc: 1111, pt: 111, levelID: 1}},
		{"different payload type", fakeBinding{id: "b", ssrc: 2222, pt: 109, levelID: 9}},
		{"two-byte level id", fakeBinding{id: "c", ssrc: 3333, pt: 111, levelID: 15}},
		{"level not negotiated", fakeBinding{id: "d", ssrc: 4444, pt: 111}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src := testSource(true)
			w := &fakeWriter{}
			tc.binding.w = w
			subscribe(t, src, tc.binding)
			src.handlePacket(upstreamPacket(t, 20, payload))

			var got rtp.Packet
			if err := got.Unmarshal(w.last); err != nil {
				t.Fatalf("forwarded packet does not parse: %v", err)
			}
			h := got.Header
			if h.SSRC != uint32(tc.binding.ssrc) || h.PayloadType != uint8(tc.binding.pt) {
				t.Fatalf("ssrc/pt = %d/%d, want %d/%d", h.SSRC, h.PayloadType, tc.binding.ssrc, tc.binding.pt)
			}
			if h.SequenceNumber != 4242 || h.Timestamp != 123456 || !h.Marker || len(h.CSRC) != 1 || h.CSRC[0] != 7 {
				t.Fatalf("seq/ts/marker/csrc not preserved: %+v", h)
			}
			if !bytes.Equal(got.Payload, payload) {
				t.Fatalf("payload %q, want %q", got.Payload, payload)
			}
			if h.GetExtension(5) != nil && tc.binding.levelID != 5 {
				t.Fatal("unknown extension forwarded")
			}
			lvl := h.GetExtension(uint8(tc.binding.levelID))
			switch {
			case tc.binding.levelID == 0 && h.Extension:
				t.Fatalf("extensions sent to a subscriber without audio levels: %v", h.Extensions)
			case tc.binding.levelID != 0 && (len(lvl) != 1 || lvl[0] != 0x80|20):
				t.Fatalf("level extension at id %d = %v, want [%#x]", tc.binding.levelID, lvl, 0x80|20)
			}
		})
	}
}

func TestDowntrackKeepsPadding(t *testing.T) {
	src := testSource(true)
	w := &fakeWriter{}
	subscribe(t, src, fakeBinding{id: "a", ssrc: 1, pt: 111, levelID: 1, w: w})
	p := &rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 111, Padding: true, PaddingSize: 4}, Payload: []byte{9, 8, 7}}
	raw, err := p.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	src.handlePacket(raw)
	var got rtp.Packet
	if err := got.Unmarshal(w.last); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Payload, []byte{9, 8, 7}) || got.Header.PaddingSize != 4 {
		t.Fatalf("payload %v padding %d, want [9 8 7] 4", got.Payload, got.Header.PaddingSize)
	}
}

func TestHandlePacketDropsAndCounts(t *testing.T) {
	t.Run("not permitted: dropped before any write", func(t *testing.T) {
		src := testSource(false)
		w := &fakeWriter{}
		subscribe(t, src, fakeBinding{id: "a", ssrc: 1, pt: 111, w: w})
		src.handlePacket(upstreamPacket(t, 10, []byte("x")))
		if w.writes != 0 || src.sfuStats.drops[dropNotPermitted].Load() != 1 || src.peerStats.notPermitted.Load() != 1 {
			t.Fatalf("writes %d, drops %d", w.writes, src.sfuStats.drops[dropNotPermitted].Load())
		}
		if src.voice.Load() != 0 {
			t.Fatal("unpermitted packet counted as voice")
		}
	})
	t.Run("a failing subscriber does not stop the others", func(t *testing.T) {
		src := testSource(true)
		bad := &fakeWriter{fail: errors.New("boom")}
		good := &fakeWriter{}
		subscribe(t, src, fakeBinding{id: "a", ssrc: 1, pt: 111, w: bad})
		unbound := newDownTrack(src, &Peer{log: slog.New(slog.DiscardHandler)})
		src.downs.add(unbound)
		subscribe(t, src, fakeBinding{id: "b", ssrc: 2, pt: 111, w: good})
		src.handlePacket(upstreamPacket(t, 10, []byte("x")))
		if good.writes != 1 {
			t.Fatalf("good subscriber got %d writes", good.writes)
		}
		if src.sfuStats.drops[dropWriteError].Load() != 1 || src.sfuStats.drops[dropNotBound].Load() != 1 {
			t.Fatalf("drops: write_error %d not_bound %d", src.sfuStats.drops[dropWriteError].Load(),
				src.sfuStats.drops[dropNotBound].Load())
		}
		if src.sfuStats.packetsOut.Load() != 1 {
			t.Fatalf("packets out %d, want 1", src.sfuStats.packetsOut.Load())
		}
	})
	t.Run("voice is counted at or below the level", func(t *testing.T) {
		src := testSource(true)
		for _, lvl := range []uint8{0, 50, 51, 127} {
			src.handlePacket(upstreamPacket(t, lvl, []byte("x")))
		}
		if v := src.voice.Load(); v != 2 {
			t.Fatalf("voice packets %d, want 2 (levels 0 and 50)", v)
		}
	})
	t.Run("malformed packets are dropped", func(t *testing.T) {
		src := testSource(true)
		w := &fakeWriter{}
		subscribe(t, src, fakeBinding{id: "a", ssrc: 1, pt: 111, w: w})
		badPadding := upstreamPacket(t, 10, []byte("x"))
		badPadding[0] |= 0x20
		badPadding[len(badPadding)-1] = 200
		for _, p := range [][]byte{{0x80, 111}, badPadding} {
			src.handlePacket(p)
		}
		if w.writes != 0 || src.sfuStats.drops[dropMalformed].Load() != 2 {
			t.Fatalf("writes %d, malformed %d", w.writes, src.sfuStats.drops[dropMalformed].Load())
		}
	})
}

func TestBindUnbind(t *testing.T) {
	src := testSource(true)
	d := newDownTrack(src, &Peer{log: slog.New(slog.DiscardHandler)})
	pcmu := fakeBindingPCMU{fakeBinding{id: "x"}}
	if _, err := d.Bind(pcmu); !errors.Is(err, webrtc.ErrUnsupportedCodec) {
		t.Fatalf("Bind without Opus: err = %v", err)
	}
	b := fakeBinding{id: "a", ssrc: 1, pt: 111, w: &fakeWriter{}}
	if _, err := d.Bind(b); err != nil {
		t.Fatal(err)
	}
	_ = d.Unbind(fakeBinding{id: "other"})
	if d.binding.Load() == nil {
		t.Fatal("Unbind of another binding cleared ours")
	}
	_ = d.Unbind(b)
	if _, err := d.write(&rtp.Header{}, nil, nil, nil); !errors.Is(err, errNotBound) {
		t.Fatalf("write after Unbind: err = %v", err)
	}
	if d.StreamID() != "speaker" || d.Kind() != webrtc.RTPCodecTypeAudio || d.RID() != "" {
		t.Fatal("track identity")
	}
}

type fakeBindingPCMU struct{ fakeBinding }

func (fakeBindingPCMU) CodecParameters() []webrtc.RTPCodecParameters {
	return []webrtc.RTPCodecParameters{{
		RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypePCMU, ClockRate: 8000},
		PayloadType:        0,
	}}
}

func TestDownListCopyOnWriteUnderConcurrency(t *testing.T) {
	src := testSource(true)
	pkt := upstreamPacket(t, 10, []byte("x"))
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // the forwarding goroutine
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
				src.handlePacket(pkt)
			}
		}
	}()
	for i := range 200 {
		d := subscribe(t, src, fakeBinding{id: fmt.Sprint(i), ssrc: webrtc.SSRC(i), pt: 111, w: &nopWriter{}})
		if i%2 == 0 {
			src.downs.remove(d)
		}
	}
	close(stop)
	wg.Wait()
	if n := src.downs.len(); n != 100 {
		t.Fatalf("%d downtracks, want 100", n)
	}
}

// nopWriter is safe for concurrent use (fakeWriter keeps state).
type nopWriter struct{}

func (nopWriter) WriteRTP(*rtp.Header, []byte) (int, error) { return 0, nil }
func (nopWriter) Write(b []byte) (int, error)               { return len(b), nil }

// fanoutFixture is a source with n bound downtracks, each with its own
// negotiated SSRC and audio-level ID, and an upstream packet.
func fanoutFixture(tb testing.TB, n int) (*source, []byte) {
	src := testSource(true)
	tb.Cleanup(src.stopSpread)
	for i := range n {
		subscribe(tb, src, fakeBinding{
			id: fmt.Sprint(i), ssrc: webrtc.SSRC(1000 + i), pt: 111, levelID: 1 + i%14, w: &fakeWriter{},
		})
	}
	return src, upstreamPacket(tb, 30, bytes.Repeat([]byte{0xab}, 80))
}

// TestFanoutAllocatesNothing covers our whole per-packet path: parse,
// permission, audio level, and the rewrite and write for every subscriber,
// including the not-yet-bound and the not-permitted cases.
func TestFanoutAllocatesNothing(t *testing.T) {
	src, pkt := fanoutFixture(t, 10)
	unbound := newDownTrack(src, &Peer{log: slog.New(slog.DiscardHandler)})
	src.downs.add(unbound)
	src.handlePacket(pkt) // warm up
	if a := testing.AllocsPerRun(1000, func() { src.handlePacket(pkt) }); a != 0 {
		t.Fatalf("forwarding allocates %v times per packet", a)
	}
	src.allowed.Store(false)
	if a := testing.AllocsPerRun(1000, func() { src.handlePacket(pkt) }); a != 0 {
		t.Fatalf("dropping allocates %v times per packet", a)
	}
}

// BenchmarkFanout measures one upstream packet in, n downtrack writes out.
// The writers marshal the header and copy the payload, as SRTP would
// before encrypting.
func BenchmarkFanout(b *testing.B) {
	for _, n := range []int{1, 10, 100, 1000} {
		b.Run(fmt.Sprintf("N=%d", n), func(b *testing.B) {
			src, pkt := fanoutFixture(b, n)
			// One packet first: a big fan-out starts its helper
			// goroutines, and each downtrack sets up its SRTP context,
			// on the first packet. That is a cost of joining, paid once
			// per listener, not of forwarding.
			src.handlePacket(pkt)
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				src.handlePacket(pkt)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/write")
		})
	}
}

// fastFixture is fanoutFixture with every subscriber on the fast path:
// real AES-GCM SRTP and sendmmsg to a loopback socket nobody reads (the
// kernel drops what overflows its buffer, after the cost we measure).
func fastFixture(tb testing.TB, n int) (*source, []byte) {
	tb.Helper()
	src, pkt := fanoutFixture(tb, n)
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		tb.Fatal(err)
	}
	sink, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = conn.Close(); _ = sink.Close() })
	keys := &srtpKeys{profile: srtp.ProtectionProfileAeadAes128Gcm, key: make([]byte, 16), salt: make([]byte, 12)}
	tr := &peerTransport{keys: keys, conn: conn, dst: sink.LocalAddr().(*net.UDPAddr).AddrPort()}
	for _, d := range src.downs.load() {
		// Each subscriber its own peer, as in a room.
		d.sub = &Peer{id: d.sub.id, log: d.sub.log}
		d.sub.transport.Store(tr)
	}
	return src, pkt
}

// The fast path allocates nothing per packet either: header rewrite, SRTP
// in place into the batch, sendmmsg.
func TestFastPathAllocatesNothing(t *testing.T) {
	src, pkt := fastFixture(t, 100)
	src.handlePacket(pkt) // warm up: contexts and the batch are made once
	if a := testing.AllocsPerRun(200, func() { src.handlePacket(pkt) }); a != 0 {
		t.Fatalf("fast-path forwarding allocates %v times per packet", a)
	}
	if got := src.sfuStats.packetsOut.Load(); got != 100*202 { // AllocsPerRun runs once more
		t.Fatalf("packets out %d, want %d", got, 100*202)
	}
}

// BenchmarkFanoutFast is BenchmarkFanout on the fast path: encryption and
// the system calls included, as the server pays them.
func BenchmarkFanoutFast(b *testing.B) {
	for _, n := range []int{1, 10, 100, 1000} {
		b.Run(fmt.Sprintf("N=%d", n), func(b *testing.B) {
			src, pkt := fastFixture(b, n)
			// One packet first: a big fan-out starts its helper
			// goroutines, and each downtrack sets up its SRTP context,
			// on the first packet. That is a cost of joining, paid once
			// per listener, not of forwarding.
			src.handlePacket(pkt)
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				src.handlePacket(pkt)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/write")
		})
	}
}
