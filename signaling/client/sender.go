package client

import (
	"errors"
	"math/rand/v2"

	"github.com/pion/rtp"
)

// Sender writes Opus frames to a session's published track, one RTP packet
// per 20 ms frame, with the RFC 6464 audio level in each. It is not safe for
// concurrent use.
type Sender struct {
	s       *Session
	levelID uint8
	seq     uint16
	ts      uint32
	pkt     rtp.Packet
	ext     [1]byte
}

// NewSender returns a sender for the published track. Call it after
// StartMedia(Publish: true), once the extension is negotiated.
func (s *Session) NewSender() (*Sender, error) {
	if s.track == nil {
		return nil, errors.New("no published track: StartMedia with Publish")
	}
	// Random starting points, as RFC 3550 asks.
	return &Sender{s: s, levelID: s.AudioLevelID(), seq: uint16(rand.Uint32()), ts: rand.Uint32()}, nil
}

// NextSeq is the sequence number the next Send will use.
func (w *Sender) NextSeq() uint16 { return w.seq }

// Send writes one frame and returns its sequence number.
func (w *Sender) Send(payload []byte, level uint8) (uint16, error) {
	seq := w.seq
	w.pkt.Header = rtp.Header{Version: 2, PayloadType: 111, SequenceNumber: seq, Timestamp: w.ts, Extensions: w.pkt.Extensions[:0]}
	w.pkt.Payload = payload
	if w.levelID != 0 {
		voice := byte(0)
		if level < 127 {
			voice = 0x80
		}
		w.ext[0] = voice | level&0x7f
		if err := w.pkt.Header.SetExtension(w.levelID, w.ext[:]); err != nil {
			return seq, err
		}
	}
	w.seq++
	w.ts += FrameSamples
	return seq, w.s.track.WriteRTP(&w.pkt)
}

// SilenceFrame is an Opus frame of 20 ms of silence (CELT, TOC 0xF8).
var SilenceFrame = []byte{0xF8, 0xFF, 0xFE}
