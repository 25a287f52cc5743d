package main

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/parley-audio/parley/rooms"
	"github.com/parley-audio/parley/signaling/client"
)

// pionListener is a listener with a whole Pion PeerConnection, as the Go
// client gives it: one goroutine per received track. It costs the
// generator about 16 us per packet, so it suits small runs and checking
// the lean listener against a reference.
type pionListener struct {
	sess *client.Session
	wg   sync.WaitGroup // track readers
}

func joinPion(ctx context.Context, baseURL, token string, room rooms.RoomID, hc *http.Client, rx *listenerRx) (*pionListener, error) {
	l := &pionListener{}
	s, err := client.Dial(ctx, baseURL, token, client.Options{
		Loopback: true, HTTPClient: hc,
		OnTrack: func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
			st := rx.stream(tr.StreamID())
			l.wg.Add(1)
			go func() {
				defer l.wg.Done()
				buf := make([]byte, 1500)
				var p rtpHeader
				for {
					n, _, err := tr.Read(buf)
					if err != nil {
						return
					}
					if !p.parse(buf[:n]) {
						continue
					}
					now := time.Now()
					rx.gotAudio(now)
					st.observe(p.seq, p.ts, now)
				}
			}()
		},
	})
	if err != nil {
		return nil, err
	}
	rx.joinStart = time.Now()
	// A node of a cluster may send the listener to another (bench_nodes.go).
	if s, _, err = s.JoinFollowing(ctx, string(room), token); err != nil {
		return nil, err
	}
	l.sess = s
	if err := s.StartMedia(ctx, client.MediaOptions{}); err != nil {
		_ = l.Close()
		return nil, err
	}
	if err := s.WaitConnected(ctx); err != nil {
		_ = l.Close()
		return nil, err
	}
	rx.joinedAt.Store(time.Now().UnixNano())
	return l, nil
}

// Close ends the session and waits for the track readers.
func (l *pionListener) Close() error {
	err := l.sess.Close()
	l.wg.Wait()
	return err
}

// rtpHeader is the part of an RTP header the listeners measure.
type rtpHeader struct {
	seq  uint16
	ts   uint32
	ssrc uint32
}

func (h *rtpHeader) parse(b []byte) bool {
	if len(b) < 12 || b[0]>>6 != 2 {
		return false
	}
	h.seq = uint16(b[2])<<8 | uint16(b[3])
	h.ts = uint32(b[4])<<24 | uint32(b[5])<<16 | uint32(b[6])<<8 | uint32(b[7])
	h.ssrc = uint32(b[8])<<24 | uint32(b[9])<<16 | uint32(b[10])<<8 | uint32(b[11])
	return true
}
