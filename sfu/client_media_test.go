package sfu

import (
	"encoding/binary"
	"sync"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
)

// The test client's media side: what it receives, how it sends, and what
// its SDP says.

// received is what a client got from one source.
type received struct {
	mu       sync.Mutex
	packets  []*rtp.Packet
	arrived  []time.Time    // when each packet was read
	levelIDs map[uint8]bool // audio-level extension ID(s) seen
}

func (r *received) snapshot() []*rtp.Packet {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*rtp.Packet(nil), r.packets...)
}

func (c *testClient) onTrack(track *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.tracks++
	r := c.streams[track.StreamID()]
	if r == nil {
		r = &received{levelIDs: make(map[uint8]bool)}
		c.streams[track.StreamID()] = r
	}
	c.mu.Unlock()
	if c.opts.slow {
		return // never read: Pion's buffer fills and drops
	}
	var levelID uint8
	for _, e := range c.pc.GetTransceivers() {
		if e.Receiver() != nil && e.Receiver().Track() == track {
			for _, h := range e.Receiver().GetParameters().HeaderExtensions {
				if h.URI == sdp.AudioLevelURI {
					levelID = uint8(h.ID)
				}
			}
		}
	}
	// This runs on Pion's goroutine for the track, which ends with it.
	for {
		pkt, _, err := track.ReadRTP()
		if err != nil {
			return
		}
		r.mu.Lock()
		r.packets = append(r.packets, pkt)
		r.arrived = append(r.arrived, time.Now())
		if levelID != 0 && pkt.GetExtension(levelID) != nil {
			r.levelIDs[levelID] = true
		}
		r.mu.Unlock()
	}
}

// arrivals returns what the client received from source id so far, and
// when each packet arrived.
func (c *testClient) arrivals(id PeerID) ([]*rtp.Packet, []time.Time) {
	c.mu.Lock()
	r := c.streams[string(id)]
	c.mu.Unlock()
	if r == nil {
		return nil, nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*rtp.Packet(nil), r.packets...), append([]time.Time(nil), r.arrived...)
}

// from returns what the client received from source id so far.
func (c *testClient) from(id PeerID) []*rtp.Packet {
	c.mu.Lock()
	r := c.streams[string(id)]
	c.mu.Unlock()
	if r == nil {
		return nil
	}
	return r.snapshot()
}

// levelExtID is the audio-level extension ID negotiated for sending.
func (c *testClient) levelExtID() uint8 {
	for _, h := range c.sender.GetParameters().HeaderExtensions {
		if h.URI == sdp.AudioLevelURI {
			return uint8(h.ID)
		}
	}
	return 0
}

// send writes one packet with the given payload and RFC 6464 level.
func (c *testClient) send(payload []byte, level uint8) {
	c.t.Helper()
	c.seq++
	c.ts += 960
	pkt := &rtp.Packet{
		Header: rtp.Header{
			Version: 2, PayloadType: 111, SequenceNumber: c.seq, Timestamp: c.ts,
		},
		Payload: payload,
	}
	if id := c.levelExtID(); id != 0 {
		if err := pkt.Header.SetExtension(id, []byte{0x80 | level}); err != nil {
			c.t.Fatal(err)
		}
	}
	if err := c.track.WriteRTP(pkt); err != nil {
		c.t.Fatalf("%s: WriteRTP: %v", c.id, err)
	}
}

// counterPayload is a distinct payload: a tag byte then a counter.
func counterPayload(tag byte, n uint32) []byte {
	b := make([]byte, 40)
	b[0] = tag
	binary.BigEndian.PutUint32(b[1:], n)
	for i := 5; i < len(b); i++ {
		b[i] = byte(i) ^ byte(n)
	}
	return b
}

func payloadCounter(p []byte) (tag byte, n uint32) {
	if len(p) < 5 {
		return 0, 0
	}
	return p[0], binary.BigEndian.Uint32(p[1:])
}

// mLines counts the m-lines of the client's current remote description,
// and how many of them the server sends on.
func (c *testClient) mLines() (total, sending int) {
	d := c.pc.CurrentRemoteDescription()
	if d == nil {
		return 0, 0
	}
	parsed, err := parseDescription(d)
	if err != nil {
		c.t.Fatal(err)
	}
	for _, m := range parsed.MediaDescriptions {
		total++
		if mediaDirection(m) == webrtc.RTPTransceiverDirectionSendonly {
			sending++
		}
	}
	return total, sending
}

// remoteSDPSize is the length of the client's current remote description.
func (c *testClient) remoteSDPSize() int {
	if d := c.pc.CurrentRemoteDescription(); d != nil {
		return len(d.SDP)
	}
	return 0
}
