package sfu

import (
	"strings"
	"sync/atomic"

	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"
	"github.com/pion/srtp/v3"
	"github.com/pion/webrtc/v4"
)

// downTrack carries one source's packets to one subscriber: it is the
// webrtc.TrackLocal behind one sendonly m-line of the subscriber's
// PeerConnection. Pion binds it once negotiation of that m-line completes;
// until then writes are skipped (counted as DropNotBound).
type downTrack struct {
	src *source // immutable
	sub *Peer   // immutable: the subscriber

	// binding is set by Bind and cleared by Unbind (Pion's goroutines) and
	// loaded once per packet by the source's goroutine.
	binding atomic.Pointer[binding]

	// Owned by the subscriber's negotiation goroutine.
	transceiver *webrtc.RTPTransceiver
	sender      *webrtc.RTPSender

	// Owned by the source's forwarding goroutine, the only writer of
	// packets: a scratch header rebuilt for every packet, so rewriting
	// allocates nothing, and the fast path's SRTP context.
	hdr      rtp.Header
	level    [1]byte
	failures uint64        // write errors, to sample the warning
	tx       *srtp.Context // encrypts for the fast path
	txKeys   *srtpKeys     // the keys tx was made from

	// What was sent, for our RTCP sender reports: written by the
	// forwarding goroutine, read by the router's report goroutine.
	sentPackets atomic.Uint64
	sentOctets  atomic.Uint64 // payload bytes
	lastTS      atomic.Uint32 // RTP timestamp of the last packet sent
	lastAt      atomic.Int64  // when it was sent, unix nanoseconds
}

// binding is what one negotiation decided for the m-line: the SSRC and
// payload type the subscriber expects, the audio-level extension ID on its
// connection, and where to write.
type binding struct {
	id         string // TrackLocalContext.ID, to match Unbind to Bind
	ssrc       uint32
	pt         uint8
	levelID    uint8  // 0: the subscriber did not negotiate audio levels
	levelProto uint16 // RTP header extension profile that can carry levelID
	w          webrtc.TrackLocalWriter
}

var _ webrtc.TrackLocal = (*downTrack)(nil)

func newDownTrack(src *source, sub *Peer) *downTrack {
	d := &downTrack{src: src, sub: sub}
	// Room for the one extension we forward, so SetExtension never grows
	// the slice on the packet path.
	d.hdr.Extensions = make([]rtp.Extension, 0, 1)
	return d
}

// Bind implements webrtc.TrackLocal. It records the negotiated SSRC,
// payload type and audio-level extension ID of the subscriber's connection.
func (d *downTrack) Bind(ctx webrtc.TrackLocalContext) (webrtc.RTPCodecParameters, error) {
	var codec webrtc.RTPCodecParameters
	found := false
	for _, c := range ctx.CodecParameters() {
		if strings.EqualFold(c.MimeType, webrtc.MimeTypeOpus) {
			codec, found = c, true
			break
		}
	}
	if !found {
		return webrtc.RTPCodecParameters{}, webrtc.ErrUnsupportedCodec
	}
	b := &binding{
		id:   ctx.ID(),
		ssrc: uint32(ctx.SSRC()),
		pt:   uint8(codec.PayloadType),
		w:    ctx.WriteStream(),
	}
	for _, e := range ctx.HeaderExtensions() {
		if e.URI != sdp.AudioLevelURI || e.ID < 1 || e.ID > 255 {
			continue
		}
		b.levelID = uint8(e.ID)
		b.levelProto = rtp.ExtensionProfileOneByte
		if e.ID > 14 { // one-byte headers carry IDs 1..14 only (RFC 8285)
			b.levelProto = rtp.ExtensionProfileTwoByte
		}
	}
	d.binding.Store(b)
	return codec, nil
}

// Unbind implements webrtc.TrackLocal.
func (d *downTrack) Unbind(ctx webrtc.TrackLocalContext) error {
	if b := d.binding.Load(); b != nil && b.id == ctx.ID() {
		d.binding.CompareAndSwap(b, nil)
	}
	return nil
}

// ID implements webrtc.TrackLocal. The msid is "<source peer> audio": the
// stream ID tells clients whose voice this is.
func (d *downTrack) ID() string { return "audio" }

// RID implements webrtc.TrackLocal; audio has no simulcast layers.
func (d *downTrack) RID() string { return "" }

// StreamID implements webrtc.TrackLocal: the source's PeerID.
func (d *downTrack) StreamID() string { return string(d.src.id) }

// Kind implements webrtc.TrackLocal.
func (d *downTrack) Kind() webrtc.RTPCodecType { return webrtc.RTPCodecTypeAudio }

// write forwards one packet. Sequence number, timestamp, marker, CSRCs and
// payload are kept; SSRC, payload type and the audio-level extension ID
// are rewritten to this subscriber's negotiated values, and every other
// extension is dropped (its ID means nothing on the subscriber's
// connection). level is the raw one-byte RFC 6464 value, or nil.
//
// When the subscriber's connection has a fast path (transport.go) and out
// is not nil, the packet is encrypted into out, to be sent with the rest
// of the fan-out; otherwise it goes through Pion's writer.
//
// Only the source's forwarding goroutine calls write. It allocates nothing.
func (d *downTrack) write(src *rtp.Header, payload, level []byte, out *sendBatch) (int, error) {
	b := d.binding.Load()
	if b == nil {
		return 0, errNotBound
	}
	h := &d.hdr
	h.Version = 2
	h.Padding = src.Padding
	h.PaddingSize = src.PaddingSize
	h.Marker = src.Marker
	h.PayloadType = b.pt
	h.SequenceNumber = src.SequenceNumber
	h.Timestamp = src.Timestamp
	h.SSRC = b.ssrc
	h.CSRC = src.CSRC
	h.Extension = false
	h.ExtensionProfile = 0
	h.Extensions = h.Extensions[:0]
	if len(level) == 1 && b.levelID != 0 {
		d.level[0] = level[0]
		h.Extension = true
		h.ExtensionProfile = b.levelProto
		if err := h.SetExtension(b.levelID, d.level[:]); err != nil {
			// Unreachable for a one-byte payload with a checked ID; send
			// the audio without the level rather than not at all.
			h.Extension = false
			h.Extensions = h.Extensions[:0]
		}
	}
	var n int
	var err error
	if t := d.sub.transport.Load(); t != nil && out != nil {
		n, err = d.writeFast(t, h, payload, out)
	} else {
		n, err = b.w.WriteRTP(h, payload)
	}
	if err == nil {
		d.sentPackets.Store(d.sentPackets.Load() + 1)
		d.sentOctets.Store(d.sentOctets.Load() + uint64(len(payload)))
		d.lastTS.Store(h.Timestamp)
		if out != nil {
			d.lastAt.Store(out.now)
		} else {
			d.lastAt.Store(nanotime())
		}
	}
	return n, err
}

// writeFast marshals and encrypts the packet in place into the batch's
// next buffer.
func (d *downTrack) writeFast(t *peerTransport, h *rtp.Header, payload []byte, out *sendBatch) (int, error) {
	if d.txKeys != t.keys {
		ctx, err := srtp.CreateContext(t.keys.key, t.keys.salt, t.keys.profile)
		if err != nil {
			return 0, err
		}
		d.tx, d.txKeys = ctx, t.keys
	}
	buf := out.slot(t.conn)
	n, err := h.MarshalTo(buf)
	if err != nil {
		return 0, err
	}
	if n+len(payload)+int(h.PaddingSize)+srtpOverhead > len(buf) {
		return 0, errTooLarge
	}
	n += copy(buf[n:], payload)
	if h.Padding && h.PaddingSize > 0 {
		clear(buf[n : n+int(h.PaddingSize)])
		n += int(h.PaddingSize)
		buf[n-1] = h.PaddingSize
	}
	enc, err := d.tx.EncryptRTP(buf[:n], buf[:n], &out.hdr)
	if err != nil {
		return 0, err
	}
	out.add(len(enc), t.dst)
	return len(enc), nil
}
