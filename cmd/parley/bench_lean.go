package main

import (
	"context"
	"net/http"
	"time"

	"github.com/parley-audio/parley/cmd/parley/internal/lean"
	"github.com/parley-audio/parley/rooms"
)

// leanPool runs the lean listeners (package lean): shared sockets,
// batched reads, SRTP decrypted into reused buffers.
type leanPool struct{ p *lean.Pool }

func newLeanPool(sockets int) (*leanPool, error) {
	p, err := lean.NewPool(sockets)
	if err != nil {
		return nil, err
	}
	return &leanPool{p: p}, nil
}

func (p *leanPool) join(ctx context.Context, baseURL, token string, room rooms.RoomID, hc *http.Client, rx *listenerRx) (benchListener, error) {
	l, err := p.p.Join(ctx, lean.Params{
		BaseURL: baseURL, Token: token, RoomID: string(room), HTTP: hc,
		OnJoin: func() { rx.joinStart = time.Now() },
		Stream: func(speaker string) lean.Receiver { return leanStream{rx: rx, st: rx.stream(speaker)} },
	})
	if err != nil {
		return nil, err
	}
	rx.joinedAt.Store(time.Now().UnixNano())
	return l, nil
}

func (p *leanPool) Close() error { return p.p.Close() }

// leanStream feeds one stream's packets to the listener's statistics.
type leanStream struct {
	rx *listenerRx
	st *streamRx
}

func (s leanStream) Observe(seq uint16, ts uint32, at time.Time) {
	s.rx.gotAudio(at)
	s.st.observe(seq, ts, at)
}
