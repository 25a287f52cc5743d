package client

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
)

// Recording is a speech recording ready to send: Opus packets of 20 ms and
// the RFC 6464 audio level of each.
type Recording struct {
	Packets [][]byte
	// Levels holds -dBov, 0 (loud) to 127 (silent), one per packet.
	Levels []uint8
}

// FrameSamples is one 20 ms Opus frame at 48 kHz, the RTP timestamp step.
const FrameSamples = 960

// LoadRecording reads an Ogg Opus file and the WAV it was encoded from.
// Levels come from the WAV, since Parley never decodes Opus.
func LoadRecording(oggPath, wavPath string) (*Recording, error) {
	ogg, err := os.ReadFile(oggPath)
	if err != nil {
		return nil, err
	}
	pkts, err := OggOpusPackets(ogg)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", oggPath, err)
	}
	wav, err := os.ReadFile(wavPath)
	if err != nil {
		return nil, err
	}
	levels, err := WAVLevels(wav, FrameSamples)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", wavPath, err)
	}
	r := &Recording{Packets: pkts, Levels: make([]uint8, len(pkts))}
	for i := range r.Levels {
		r.Levels[i] = 127
		if i < len(levels) {
			r.Levels[i] = levels[i]
		}
	}
	return r, nil
}

// ErrBadOgg means the data is not a well-formed Ogg Opus stream.
var ErrBadOgg = errors.New("malformed Ogg Opus stream")

// OggOpusPackets returns the Opus audio packets of an Ogg stream, without
// the OpusHead and OpusTags header packets. Packets are rebuilt from the
// page lacing values, because one Ogg page holds many packets.
func OggOpusPackets(data []byte) ([][]byte, error) {
	var pkts [][]byte
	var cur []byte
	for len(data) > 0 {
		if len(data) < 27 || !bytes.Equal(data[:4], []byte("OggS")) {
			return nil, fmt.Errorf("%w: bad page header", ErrBadOgg)
		}
		nseg := int(data[26])
		if len(data) < 27+nseg {
			return nil, fmt.Errorf("%w: truncated segment table", ErrBadOgg)
		}
		table := data[27 : 27+nseg]
		body := data[27+nseg:]
		for _, l := range table {
			if len(body) < int(l) {
				return nil, fmt.Errorf("%w: truncated page", ErrBadOgg)
			}
			cur = append(cur, body[:l]...)
			body = body[l:]
			if l < 255 {
				pkts = append(pkts, cur)
				cur = nil
			}
		}
		data = body
	}
	if len(pkts) < 2 || !bytes.HasPrefix(pkts[0], []byte("OpusHead")) || !bytes.HasPrefix(pkts[1], []byte("OpusTags")) {
		return nil, fmt.Errorf("%w: no OpusHead/OpusTags", ErrBadOgg)
	}
	return pkts[2:], nil
}

// ErrBadWAV means the data is not 16-bit PCM WAV.
var ErrBadWAV = errors.New("not a 16-bit PCM WAV")

// WAVLevels returns the RFC 6464 level (-dBov, 0..127) of each frame of
// frame samples of the first channel of a 16-bit PCM WAV.
func WAVLevels(data []byte, frame int) ([]uint8, error) {
	if len(data) < 12 || string(data[:4]) != "RIFF" || string(data[8:12]) != "WAVE" || frame <= 0 {
		return nil, ErrBadWAV
	}
	var channels, bits int
	var pcm []byte
	for p := data[12:]; len(p) >= 8; {
		id, size := string(p[:4]), int(binary.LittleEndian.Uint32(p[4:8]))
		if size < 0 || size > len(p)-8 {
			size = len(p) - 8 // tools write 0 or too large for streams
		}
		body := p[8 : 8+size]
		switch id {
		case "fmt ":
			if len(body) < 16 || binary.LittleEndian.Uint16(body[0:2]) != 1 {
				return nil, ErrBadWAV
			}
			channels = int(binary.LittleEndian.Uint16(body[2:4]))
			bits = int(binary.LittleEndian.Uint16(body[14:16]))
		case "data":
			pcm = body
		}
		p = p[8+size:]
		if size%2 == 1 && len(p) > 0 {
			p = p[1:]
		}
	}
	if bits != 16 || channels < 1 || pcm == nil {
		return nil, ErrBadWAV
	}
	stride := 2 * channels
	n := len(pcm) / stride
	var out []uint8
	for start := 0; start < n; start += frame {
		end := min(start+frame, n)
		var sum float64
		for i := start; i < end; i++ {
			v := float64(int16(binary.LittleEndian.Uint16(pcm[i*stride:]))) / 32768
			sum += v * v
		}
		out = append(out, levelOf(math.Sqrt(sum/float64(end-start))))
	}
	return out, nil
}

func levelOf(rms float64) uint8 {
	if rms <= 0 {
		return 127
	}
	db := -20 * math.Log10(rms)
	switch {
	case db < 0:
		return 0
	case db > 127:
		return 127
	}
	return uint8(math.Round(db))
}
