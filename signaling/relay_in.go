package signaling

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/coder/websocket"
	"github.com/pion/webrtc/v4"

	"github.com/parley-audio/parley/rooms"
	"github.com/parley-audio/parley/sfu"
)

// hubCluster is a room's life in the cluster, on one node: it holds the
// room in the registry (saying whether audio enters here), tells the other
// nodes when audio starts entering here, and keeps one relay from every
// other node where audio of the room enters, while local members are in
// the room. Its goroutine owns the relays; wake asks it to look again.
type hubCluster struct {
	srv *Server
	h   *hub
	log *slog.Logger

	kick chan struct{} // capacity 1
	stop context.CancelFunc
	done chan struct{}
}

func newHubCluster(srv *Server, h *hub) *hubCluster {
	ctx, cancel := context.WithCancel(context.Background())
	c := &hubCluster{srv: srv, h: h, log: h.log.With("component", "cluster"), kick: make(chan struct{}, 1), stop: cancel, done: make(chan struct{})}
	go func() { defer close(c.done); c.run(ctx) }()
	return c
}

// wake asks the loop to look again soon. It never blocks.
func (c *hubCluster) wake() {
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

// close stops the loop, closes the relays and releases the room. It waits.
func (c *hubCluster) close() {
	c.stop()
	<-c.done
}

// relayIn is one relay this node keeps from another node.
type relayIn struct {
	cancel context.CancelFunc
	done   chan struct{}
}

func (c *hubCluster) run(ctx context.Context) {
	cl, cfg := c.srv.cluster, c.srv.ccfg
	t := time.NewTicker(cfg.Refresh)
	defer t.Stop()
	ins := make(map[rooms.NodeID]*relayIn)
	held, announced := false, false
	defer func() {
		for _, in := range ins {
			in.cancel()
			<-in.done
		}
		if held {
			rctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			if err := cl.ReleaseRoom(rctx, c.h.id); err != nil {
				c.log.Warn("release room", "err", err)
			}
			cancel()
		}
	}()
	for {
		members := c.h.localMembers() > 0
		publishing := members && c.h.router.LocalSources() > 0
		rctx, cancel := context.WithTimeout(ctx, cfg.Refresh*4)
		switch {
		case members:
			if err := cl.HoldRoom(rctx, c.h.id, publishing); err != nil {
				c.log.Warn("hold room", "err", err)
			} else {
				held = true
			}
		case held:
			if err := cl.ReleaseRoom(rctx, c.h.id); err == nil {
				held = false
			}
		}
		if publishing && !announced {
			// The other nodes with members relay from here at once,
			// rather than at their next refresh.
			if err := c.srv.rooms.AnnounceMediaSource(rctx, c.h.id, cl.Self()); err != nil {
				c.log.Warn("announce media source", "err", err)
			} else {
				announced = true
			}
		}
		if !publishing {
			announced = false
		}
		want := map[rooms.NodeID]string{}
		if members {
			want = c.sources(rctx)
		}
		cancel()
		for id, in := range ins {
			if _, ok := want[id]; !ok {
				in.cancel()
				<-in.done
				delete(ins, id)
				c.log.Info("relay closed", "from", id)
			}
		}
		for id, url := range want {
			if ins[id] == nil {
				ictx, icancel := context.WithCancel(ctx)
				in := &relayIn{cancel: icancel, done: make(chan struct{})}
				ins[id] = in
				go func() { defer close(in.done); c.keepRelay(ictx, id, url) }()
				c.log.Info("relay opened", "from", id)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-c.kick:
		}
	}
}

// sources returns the other live nodes where audio of the room enters,
// with their URLs. On a registry error it returns nil: relays are kept or
// dropped only on an answer.
func (c *hubCluster) sources(ctx context.Context) map[rooms.NodeID]string {
	cl := c.srv.cluster
	rn, err := cl.RoomNodes(ctx, c.h.id)
	if err != nil {
		c.log.Warn("nodes of the room", "err", err)
		return nil
	}
	nodes, err := cl.Nodes(ctx)
	if err != nil {
		c.log.Warn("nodes", "err", err)
		return nil
	}
	urls := make(map[rooms.NodeID]string, len(nodes))
	for _, n := range nodes {
		urls[n.ID] = n.URL
	}
	out := make(map[rooms.NodeID]string)
	for _, r := range rn {
		if r.Publishing && r.Node != cl.Self() && urls[r.Node] != "" {
			out[r.Node] = urls[r.Node]
		}
	}
	return out
}

// keepRelay keeps a relay from node open until ctx ends, reconnecting
// with a backoff.
func (c *hubCluster) keepRelay(ctx context.Context, node rooms.NodeID, url string) {
	backoff := 100 * time.Millisecond
	for {
		start := time.Now()
		err := c.relayOnce(ctx, node, url)
		if ctx.Err() != nil {
			return
		}
		c.log.Warn("relay ended", "from", node, "err", err)
		if time.Since(start) > 10*time.Second {
			backoff = 100 * time.Millisecond
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 2*time.Second)
	}
}

// relayOnce runs one relay connection: it dials the node's relay endpoint
// with a signed token, offers, and then answers the node's offers (one
// per change of the tracks it relays), until either side closes.
func (c *hubCluster) relayOnce(ctx context.Context, node rooms.NodeID, url string) error {
	cfg := c.srv.ccfg
	tok := sign(cfg.Key, purposeRelay, relayClaims{
		From: c.srv.cluster.Self(), To: node, Room: c.h.id, Exp: time.Now().Add(tokenTTL).Unix(),
	})
	dctx, cancel := context.WithTimeout(ctx, cfg.DialTimeout)
	ws, _, err := websocket.Dial(dctx, relayURL(url), &websocket.DialOptions{
		HTTPHeader: http.Header{"Authorization": []string{relayAuthScheme + tok}},
	})
	cancel()
	if err != nil {
		return fmt.Errorf("dial %s: %w", node, err)
	}
	ws.SetReadLimit(c.srv.cfg.HardMessageBytes)
	out := newOutbox(ws, c.srv.cfg.QueueSize, c.srv.cfg.WriteTimeout)
	ctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); _ = out.run(ctx) }()
	go func() { defer wg.Done(); keepAlive(ctx, ws, c.srv.cfg.PingInterval, c.srv.cfg.PingTimeout, stop) }()
	defer func() {
		out.close(websocket.StatusNormalClosure, "")
		stop()
		wg.Wait()
	}()

	ri, err := c.h.router.NewRelayIn(sfu.RelayInParams{
		Logger: c.log.With("from", node),
		OnCandidate: func(ci *webrtc.ICECandidateInit) {
			out.send(encode(TypeCandidate, "", 0, candidateOut(ci)))
		},
	})
	if err != nil {
		return err
	}
	defer ri.Close()
	offer, err := ri.Offer()
	if err != nil {
		return err
	}
	out.send(encode(TypeOffer, "", 0, SDPPayload{SDP: offer}))
	for {
		env, err := readEnvelope(ctx, ws)
		if err != nil {
			return err
		}
		switch env.Type {
		case TypeAnswer, TypeOffer:
			var p SDPPayload
			if err := json.Unmarshal(env.Payload, &p); err != nil {
				return fmt.Errorf("relay %s: %w", env.Type, err)
			}
			if env.Type == TypeAnswer {
				err = ri.HandleAnswer(p.SDP)
			} else {
				var answer string
				if answer, err = ri.HandleOffer(p.SDP); err == nil {
					out.send(encode(TypeAnswer, "", 0, SDPPayload{SDP: answer}))
				}
			}
			if err != nil {
				return err
			}
		case TypeCandidate:
			var p CandidatePayload
			if err := json.Unmarshal(env.Payload, &p); err != nil {
				return fmt.Errorf("relay candidate: %w", err)
			}
			if err := ri.AddICECandidate(candidateIn(&p)); err != nil {
				return err
			}
		}
	}
}

// keepAlive pings a relay connection every interval and ends it (stop)
// when a ping goes unanswered: a node that vanished without closing its
// sockets must not keep a relay, or a fan-out write, alive.
func keepAlive(ctx context.Context, ws *websocket.Conn, interval, timeout time.Duration, stop context.CancelFunc) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		pctx, cancel := context.WithTimeout(ctx, timeout)
		err := ws.Ping(pctx)
		cancel()
		if err != nil {
			stop()
			return
		}
	}
}

// readEnvelope reads one message of a relay connection.
func readEnvelope(ctx context.Context, ws *websocket.Conn) (Envelope, error) {
	typ, data, err := ws.Read(ctx)
	if err != nil {
		return Envelope{}, err
	}
	if typ != websocket.MessageText {
		return Envelope{}, errors.New("relay: binary frame")
	}
	var env Envelope
	if err := json.Unmarshal(data, &env); err != nil {
		return Envelope{}, fmt.Errorf("relay: %w", err)
	}
	return env, nil
}
