package client

import (
	"os"
	"path/filepath"
	"testing"
)

func TestLoadRecordingReadsTheCommittedSpeech(t *testing.T) {
	dir := filepath.Join("..", "..", "testdata")
	r, err := LoadRecording(filepath.Join(dir, "speech.opus"), filepath.Join(dir, "speech.wav"))
	if err != nil {
		t.Fatal(err)
	}
	// About 5.75 s of 20 ms frames.
	if n := len(r.Packets); n < 270 || n > 300 {
		t.Fatalf("got %d packets, want about 288", n)
	}
	var loud, silent int
	for i, p := range r.Packets {
		if len(p) == 0 {
			t.Fatalf("packet %d is empty", i)
		}
		switch l := r.Levels[i]; {
		case l <= 30:
			loud++
		case l >= 90:
			silent++
		}
	}
	// Speech with a pause before and after: both kinds of frames occur.
	if loud < 50 || silent < 5 {
		t.Fatalf("loud=%d silent=%d frames: levels do not look like speech", loud, silent)
	}
}

func TestOggOpusPacketsRefusesGarbage(t *testing.T) {
	for name, data := range map[string][]byte{
		"empty":          {},
		"not ogg":        []byte("RIFF...."),
		"truncated page": []byte("OggS\x00\x02\x00\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x05"),
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := OggOpusPackets(data); err == nil {
				t.Fatal("accepted garbage")
			}
		})
	}
}

func FuzzOggOpusPackets(f *testing.F) {
	if b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "speech.opus")); err == nil {
		f.Add(b[:min(len(b), 4096)])
	}
	f.Add([]byte("OggS"))
	f.Fuzz(func(t *testing.T, data []byte) {
		pkts, err := OggOpusPackets(data)
		if err == nil && pkts == nil && len(data) == 0 {
			t.Fatal("empty input accepted")
		}
	})
}

func FuzzWAVLevels(f *testing.F) {
	f.Add([]byte("RIFF\x24\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00\x80\xbb\x00\x00\x00\x77\x01\x00\x02\x00\x10\x00data\x04\x00\x00\x00\x00\x10\x00\xf0"), 960)
	f.Fuzz(func(t *testing.T, data []byte, frame int) {
		levels, err := WAVLevels(data, frame)
		if err != nil {
			return
		}
		for _, l := range levels {
			if l > 127 {
				t.Fatalf("level %d out of range", l)
			}
		}
	})
}
