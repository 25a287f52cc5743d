package signaling

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"
	"github.com/pion/webrtc/v4"

	"github.com/parley-audio/parley/rooms"
	"github.com/parley-audio/parley/sfu"
)

// relayAuthScheme prefixes the signed token in a relay request's
// Authorization header.
const relayAuthScheme = "Parley-Relay "

// RelayHandler serves GET /internal/v1/relay: another node of the cluster
// opening a relay of one room's audio from this node. The request carries
// a token signed with the cluster key (ClusterConfig.Key) naming both
// nodes and the room; anything else is refused before the WebSocket
// opens, so only nodes of the cluster can receive audio this way. The
// connection then carries offers, answers and candidates, as signaling
// does; the audio itself flows over DTLS-SRTP between the nodes' media
// ports.
func (s *Server) RelayHandler() http.Handler { return http.HandlerFunc(s.serveRelay) }

func (s *Server) serveRelay(w http.ResponseWriter, r *http.Request) {
	if s.cluster == nil {
		writeHTTPError(w, http.StatusNotFound, "not_found", "this server is not part of a cluster")
		return
	}
	var c relayClaims
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), relayAuthScheme)
	if !ok || verify(s.ccfg.Key, purposeRelay, tok, &c) != nil || c.To != s.cluster.Self() || expired(c.Exp, time.Now()) {
		writeHTTPError(w, http.StatusUnauthorized, "unauthorized", "a relay token of this cluster, for this node, is required")
		return
	}
	room, err := rooms.ParseRoomID(string(c.Room))
	if err != nil {
		writeHTTPError(w, http.StatusBadRequest, "invalid_request", "the token names no room")
		return
	}
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		writeHTTPError(w, http.StatusServiceUnavailable, "not_ready", "the server is shutting down")
		return
	}
	s.wg.Add(1)
	s.mu.Unlock()
	defer s.wg.Done()

	ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{CompressionMode: websocket.CompressionDisabled})
	if err != nil {
		return
	}
	ws.SetReadLimit(s.cfg.HardMessageBytes)
	log := s.log.With("room", room, "relay_to", c.From)
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	s.mu.Lock()
	s.relays[ws] = cancel
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.relays, ws)
		s.mu.Unlock()
	}()

	h := s.acquireHub(room)
	defer s.releaseHub(h)
	out := newOutbox(ws, s.cfg.QueueSize, s.cfg.WriteTimeout)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); _ = out.run(ctx) }()
	go func() { defer wg.Done(); keepAlive(ctx, ws, s.cfg.PingInterval, s.cfg.PingTimeout, cancel) }()
	defer func() {
		out.close(websocket.StatusNormalClosure, "")
		cancel()
		wg.Wait()
	}()

	var gate candidateGate
	// One peer per connection: a node reconnecting gets a fresh one while
	// the old connection's peer closes on its own.
	var b [4]byte
	_, _ = rand.Read(b[:])
	peer, err := h.router.NewRelayPeer(sfu.RelayPeerID(string(c.From)+"-"+hex.EncodeToString(b[:])), sfu.PeerParams{
		Logger:  log,
		OnOffer: func(sdp string) { gate.send(out, encode(TypeOffer, "", 0, SDPPayload{SDP: sdp})) },
		OnCandidate: func(ci *webrtc.ICECandidateInit) {
			gate.send(out, encode(TypeCandidate, "", 0, candidateOut(ci)))
		},
	})
	if err != nil {
		log.Warn("relay peer", "err", err)
		return
	}
	defer peer.Close()
	log.Info("relay serving")
	for {
		env, err := readEnvelope(ctx, ws)
		if err != nil {
			log.Info("relay ended", "err", err)
			return
		}
		switch env.Type {
		case TypeOffer:
			var p SDPPayload
			if err := json.Unmarshal(env.Payload, &p); err != nil {
				return
			}
			gate.hold()
			answer, err := peer.HandleOffer(ctx, p.SDP)
			if err != nil {
				gate.release(out)
				log.Warn("relay offer", "err", err)
				return
			}
			out.send(encode(TypeAnswer, "", 0, SDPPayload{SDP: answer}))
			gate.release(out)
		case TypeAnswer:
			var p SDPPayload
			if err := json.Unmarshal(env.Payload, &p); err != nil {
				return
			}
			if err := peer.HandleAnswer(ctx, p.SDP); err != nil {
				log.Warn("relay answer", "err", err)
				return
			}
		case TypeCandidate:
			var p CandidatePayload
			if err := json.Unmarshal(env.Payload, &p); err != nil {
				return
			}
			if err := peer.AddICECandidate(candidateIn(&p)); err != nil {
				log.Warn("relay candidate", "err", err)
			}
		}
	}
}

// writeHTTPError answers with the API's one error shape.
func writeHTTPError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{"code": code, "message": msg}})
}
