package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/coder/websocket"
	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"

	"github.com/parley-audio/parley/signaling"
)

// ProtocolError is an error message from the server.
type ProtocolError struct {
	Code    string
	Message string
}

func (e *ProtocolError) Error() string { return e.Code + ": " + e.Message }

// Options tune a Session.
type Options struct {
	// Loopback keeps ICE on 127.0.0.1 (tests on a machine with no other
	// network).
	Loopback bool
	// OnTrack is called for every track the server sends.
	OnTrack func(*webrtc.TrackRemote, *webrtc.RTPReceiver)
	// Header adds headers to the WebSocket handshake.
	Header http.Header
	// Subprotocols replaces the default ["parley.v1"].
	Subprotocols []string
	// HTTPClient makes the WebSocket handshake (for example with a TLS
	// configuration); nil means http.DefaultClient.
	HTTPClient *http.Client
}

// Session is one signaling connection with its PeerConnection.
type Session struct {
	ws      *websocket.Conn
	opts    Options
	Welcome signaling.WelcomePayload

	nextID atomic.Uint64
	frames atomic.Uint64

	mu      sync.Mutex // guards log and the fields below
	log     []signaling.Envelope
	changed chan struct{} // closed and replaced on every append
	closed  error

	pcMu       sync.Mutex // serializes PeerConnection changes
	api        *webrtc.API
	pc         *webrtc.PeerConnection
	track      *webrtc.TrackLocalStaticRTP
	sender     *webrtc.RTPSender
	remoteSet  bool
	candidates []webrtc.ICECandidateInit

	readerDone chan struct{}
}

// Dial connects to the signaling endpoint of the server at baseURL
// (http:// or https://) with a token, and waits for welcome.
func Dial(ctx context.Context, baseURL, token string, opts Options) (*Session, error) {
	return DialURL(ctx, strings.Replace(strings.TrimRight(baseURL, "/"), "http", "ws", 1)+"/api/v1/signal", token, opts)
}

// DialURL connects to a signaling WebSocket by its URL (ws:// or wss://),
// such as a redirect names, and waits for welcome.
func DialURL(ctx context.Context, u, token string, opts Options) (*Session, error) {
	h := http.Header{}
	for k, v := range opts.Header {
		h[k] = v
	}
	if token != "" {
		h.Set("Authorization", "Bearer "+token)
	}
	protos := opts.Subprotocols
	if protos == nil {
		protos = []string{signaling.Subprotocol}
	}
	ws, _, err := websocket.Dial(ctx, u, &websocket.DialOptions{HTTPHeader: h, Subprotocols: protos, HTTPClient: opts.HTTPClient})
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", u, err)
	}
	ws.SetReadLimit(8 << 20)
	s := &Session{ws: ws, opts: opts, changed: make(chan struct{}), readerDone: make(chan struct{})}
	go s.read()
	env, err := s.WaitFor(ctx, func(e signaling.Envelope) bool {
		return e.Type == signaling.TypeWelcome || e.Type == signaling.TypeError
	})
	if err != nil {
		_ = s.Close()
		return nil, err
	}
	if env.Type == signaling.TypeError {
		_ = s.Close()
		return nil, decodeError(env)
	}
	if err := json.Unmarshal(env.Payload, &s.Welcome); err != nil {
		_ = s.Close()
		return nil, err
	}
	return s, nil
}

func decodeError(env signaling.Envelope) error {
	var p signaling.ErrorPayload
	_ = json.Unmarshal(env.Payload, &p)
	return &ProtocolError{Code: p.Code, Message: p.Message}
}

// read records every frame and handles the media ones itself.
func (s *Session) read() {
	defer close(s.readerDone)
	ctx := context.Background()
	for {
		_, data, err := s.ws.Read(ctx)
		if err != nil {
			s.mu.Lock()
			s.closed = err
			close(s.changed)
			s.changed = make(chan struct{})
			s.mu.Unlock()
			return
		}
		s.frames.Add(1)
		var env signaling.Envelope
		if err := json.Unmarshal(data, &env); err != nil {
			continue
		}
		switch env.Type {
		case signaling.TypeOffer:
			s.onServerOffer(env)
		case signaling.TypeCandidate:
			s.onCandidate(env)
		}
		// A batch of audience events goes into the log as its events, in
		// order: what a client acts on is events, not how they were framed.
		envs := []signaling.Envelope{env}
		if env.Type == signaling.TypeEvents {
			envs = envs[:0]
			var b struct {
				Events []signaling.Envelope `json:"events"`
			}
			_ = json.Unmarshal(env.Payload, &b)
			envs = append(envs, b.Events...)
		}
		s.mu.Lock()
		s.log = append(s.log, envs...)
		close(s.changed)
		s.changed = make(chan struct{})
		s.mu.Unlock()
	}
}

// Frames returns how many WebSocket messages the session has received
// (a batch counts once).
func (s *Session) Frames() uint64 { return s.frames.Load() }

// Events returns a copy of every message received so far, in order, with
// batches unpacked into their events.
func (s *Session) Events() []signaling.Envelope {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]signaling.Envelope(nil), s.log...)
}

// WaitFor waits until a frame matching pred has been received (including
// frames received before the call) and returns the first such frame.
func (s *Session) WaitFor(ctx context.Context, pred func(signaling.Envelope) bool) (signaling.Envelope, error) {
	seen := 0
	for {
		s.mu.Lock()
		for ; seen < len(s.log); seen++ {
			if pred(s.log[seen]) {
				env := s.log[seen]
				s.mu.Unlock()
				return env, nil
			}
		}
		ch, closed := s.changed, s.closed
		s.mu.Unlock()
		if closed != nil {
			return signaling.Envelope{}, fmt.Errorf("connection closed: %w", closed)
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return signaling.Envelope{}, ctx.Err()
		}
	}
}

// Send sends one message and returns its id.
func (s *Session) Send(ctx context.Context, typ string, payload any) (string, error) {
	id := strconv.FormatUint(s.nextID.Add(1), 10)
	raw, err := json.Marshal(payload)
	if err != nil {
		return "", err
	}
	b, err := json.Marshal(signaling.Envelope{Type: typ, ID: id, Payload: raw})
	if err != nil {
		return "", err
	}
	return id, s.ws.Write(ctx, websocket.MessageText, b)
}

// SendRaw sends bytes as they are, for tests of bad input.
func (s *Session) SendRaw(ctx context.Context, typ websocket.MessageType, b []byte) error {
	return s.ws.Write(ctx, typ, b)
}

// Request sends a message and waits for the reply to it, returning an
// error message as a *ProtocolError.
func (s *Session) Request(ctx context.Context, typ string, payload any) (signaling.Envelope, error) {
	id, err := s.Send(ctx, typ, payload)
	if err != nil {
		return signaling.Envelope{}, err
	}
	env, err := s.WaitFor(ctx, func(e signaling.Envelope) bool { return e.ReplyTo == id })
	if err != nil {
		return env, err
	}
	if env.Type == signaling.TypeError {
		return env, decodeError(env)
	}
	return env, nil
}

// Join joins a room and returns the snapshot. When another node of a
// cluster should serve the join, it returns a *RedirectError.
func (s *Session) Join(ctx context.Context, roomID string) (signaling.JoinedPayload, error) {
	return s.JoinWithTicket(ctx, roomID, "")
}

// JoinWithTicket joins a room with the ticket of a redirect.
func (s *Session) JoinWithTicket(ctx context.Context, roomID, ticket string) (signaling.JoinedPayload, error) {
	var out signaling.JoinedPayload
	env, err := s.Request(ctx, signaling.TypeJoin, signaling.JoinPayload{RoomID: roomID, Ticket: ticket})
	if err != nil {
		return out, err
	}
	if env.Type == signaling.TypeRedirect {
		r := &RedirectError{}
		if err := json.Unmarshal(env.Payload, &r.Redirect); err != nil {
			return out, err
		}
		return out, r
	}
	return out, json.Unmarshal(env.Payload, &out)
}

// Close closes the PeerConnection and the WebSocket.
func (s *Session) Close() error {
	s.pcMu.Lock()
	pc := s.pc
	s.pcMu.Unlock()
	if pc != nil {
		_ = pc.Close()
	}
	err := s.ws.Close(websocket.StatusNormalClosure, "")
	<-s.readerDone
	return err
}

// CloseNow drops the connection without a close handshake, as a crashed
// client would.
func (s *Session) CloseNow() {
	s.pcMu.Lock()
	pc := s.pc
	s.pcMu.Unlock()
	if pc != nil {
		_ = pc.Close()
	}
	_ = s.ws.CloseNow()
	<-s.readerDone
}

// newAPI builds a Pion API with the codecs and settings Parley uses.
func newAPI(loopback bool) (*webrtc.API, error) {
	m := &webrtc.MediaEngine{}
	if err := m.RegisterCodec(webrtc.RTPCodecParameters{
		RTPCodecCapability: OpusCapability, PayloadType: 111,
	}, webrtc.RTPCodecTypeAudio); err != nil {
		return nil, err
	}
	if err := m.RegisterHeaderExtension(webrtc.RTPHeaderExtensionCapability{URI: sdp.AudioLevelURI}, webrtc.RTPCodecTypeAudio); err != nil {
		return nil, err
	}
	ir := &interceptor.Registry{}
	if err := webrtc.ConfigureRTCPReports(ir); err != nil {
		return nil, err
	}
	se := webrtc.SettingEngine{}
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	if loopback {
		se.SetIncludeLoopbackCandidate(true)
		se.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
		se.SetRemoteIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
		se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	}
	return webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(ir), webrtc.WithSettingEngine(se)), nil
}

// OpusCapability is the codec Parley speaks.
var OpusCapability = webrtc.RTPCodecCapability{
	MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2, SDPFmtpLine: "minptime=10;useinbandfec=1",
}

// MediaOptions say what the PeerConnection offers.
type MediaOptions struct {
	// Publish adds an Opus track to send (sendrecv); otherwise the client
	// offers to receive only.
	Publish bool
}

// StartMedia creates the PeerConnection, sends the first offer and applies
// the answer. Server offers that follow are answered automatically.
func (s *Session) StartMedia(ctx context.Context, mo MediaOptions) error {
	api, err := newAPI(s.opts.Loopback)
	if err != nil {
		return err
	}
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return err
	}
	pc.OnICECandidate(func(c *webrtc.ICECandidate) {
		p := signaling.CandidatePayload{}
		if c != nil {
			init := c.ToJSON()
			p = signaling.CandidatePayload{Candidate: init.Candidate, SDPMid: init.SDPMid, SDPMLineIndex: init.SDPMLineIndex, UsernameFragment: init.UsernameFragment}
		}
		_, _ = s.Send(context.Background(), signaling.TypeCandidate, p)
	})
	if s.opts.OnTrack != nil {
		pc.OnTrack(s.opts.OnTrack)
	}
	if mo.Publish {
		track, err := webrtc.NewTrackLocalStaticRTP(OpusCapability, "audio", "parley-client")
		if err != nil {
			return err
		}
		sender, err := pc.AddTrack(track)
		if err != nil {
			return err
		}
		s.track, s.sender = track, sender
		go drainRTCP(sender)
	} else if _, err := pc.AddTransceiverFromKind(webrtc.RTPCodecTypeAudio, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}); err != nil {
		return err
	}
	s.pcMu.Lock()
	s.pc, s.api = pc, api
	s.pcMu.Unlock()
	return s.Offer(ctx)
}

// Publish starts sending on the first audio m-line of the existing
// PeerConnection, as a listener invited on stage does (docs/protocol.md,
// "Going on stage"), and renegotiates. Use NewSender afterwards.
func (s *Session) Publish(ctx context.Context) error {
	s.pcMu.Lock()
	if s.pc == nil {
		s.pcMu.Unlock()
		return errors.New("no PeerConnection: call StartMedia first")
	}
	if s.track != nil {
		s.pcMu.Unlock()
		return nil
	}
	track, err := webrtc.NewTrackLocalStaticRTP(OpusCapability, "audio", "parley-client")
	var sender *webrtc.RTPSender
	if err == nil {
		sender, err = s.api.NewRTPSender(track, s.pc.SCTP().Transport())
	}
	if err == nil {
		err = s.pc.GetTransceivers()[0].SetSender(sender, track)
	}
	if err == nil {
		s.track, s.sender = track, sender
		go drainRTCP(sender)
	}
	s.pcMu.Unlock()
	if err != nil {
		return fmt.Errorf("publish: %w", err)
	}
	return s.Offer(ctx)
}

// Act sends a stage action (docs/stage.md) and waits for ok or an error.
func (s *Session) Act(ctx context.Context, kind string, payload any) error {
	if payload == nil {
		payload = struct{}{}
	}
	_, err := s.Request(ctx, kind, payload)
	return err
}

// Offer sends a client offer (the first one, or a renegotiation) and
// applies the server's answer.
func (s *Session) Offer(ctx context.Context) error {
	s.pcMu.Lock()
	offer, err := s.pc.CreateOffer(nil)
	if err == nil {
		err = s.pc.SetLocalDescription(offer)
	}
	s.pcMu.Unlock()
	if err != nil {
		return err
	}
	env, err := s.Request(ctx, signaling.TypeOffer, signaling.SDPPayload{SDP: offer.SDP})
	if err != nil {
		return err
	}
	var ans signaling.SDPPayload
	if err := json.Unmarshal(env.Payload, &ans); err != nil {
		return err
	}
	s.pcMu.Lock()
	defer s.pcMu.Unlock()
	if err := s.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: ans.SDP}); err != nil {
		return err
	}
	s.applyCandidatesLocked()
	return nil
}

func (s *Session) onServerOffer(env signaling.Envelope) {
	var p signaling.SDPPayload
	if json.Unmarshal(env.Payload, &p) != nil {
		return
	}
	s.pcMu.Lock()
	pc := s.pc
	// Glare: while our own offer is out, we are the impolite side and the
	// server yields (docs/protocol.md), so its offer is ignored.
	if pc == nil || pc.SignalingState() == webrtc.SignalingStateHaveLocalOffer {
		s.pcMu.Unlock()
		return
	}
	err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: p.SDP})
	var answer webrtc.SessionDescription
	if err == nil {
		s.applyCandidatesLocked()
		answer, err = pc.CreateAnswer(nil)
	}
	if err == nil {
		err = pc.SetLocalDescription(answer)
	}
	s.pcMu.Unlock()
	if err == nil {
		_, _ = s.Send(context.Background(), signaling.TypeAnswer, signaling.SDPPayload{SDP: answer.SDP})
	}
}

func (s *Session) onCandidate(env signaling.Envelope) {
	var p signaling.CandidatePayload
	if json.Unmarshal(env.Payload, &p) != nil || p.Candidate == "" {
		return
	}
	c := webrtc.ICECandidateInit{Candidate: p.Candidate, SDPMid: p.SDPMid, SDPMLineIndex: p.SDPMLineIndex, UsernameFragment: p.UsernameFragment}
	s.pcMu.Lock()
	defer s.pcMu.Unlock()
	if s.pc == nil || s.pc.RemoteDescription() == nil {
		s.candidates = append(s.candidates, c)
		return
	}
	_ = s.pc.AddICECandidate(c)
}

func (s *Session) applyCandidatesLocked() {
	for _, c := range s.candidates {
		_ = s.pc.AddICECandidate(c)
	}
	s.candidates = nil
}

func drainRTCP(sender *webrtc.RTPSender) {
	buf := make([]byte, 1500)
	for {
		if _, _, err := sender.Read(buf); err != nil {
			return
		}
	}
}

// PeerConnection returns the session's PeerConnection, nil before
// StartMedia.
func (s *Session) PeerConnection() *webrtc.PeerConnection {
	s.pcMu.Lock()
	defer s.pcMu.Unlock()
	return s.pc
}

// Track returns the published track, nil unless MediaOptions.Publish.
func (s *Session) Track() *webrtc.TrackLocalStaticRTP { return s.track }

// AudioLevelID returns the negotiated id of the audio-level header
// extension on the published track, or 0.
func (s *Session) AudioLevelID() uint8 {
	if s.sender == nil {
		return 0
	}
	for _, e := range s.sender.GetParameters().HeaderExtensions {
		if e.URI == sdp.AudioLevelURI {
			return uint8(e.ID)
		}
	}
	return 0
}

// WaitConnected waits until the PeerConnection is connected.
func (s *Session) WaitConnected(ctx context.Context) error {
	pc := s.PeerConnection()
	if pc == nil {
		return errors.New("no PeerConnection: call StartMedia first")
	}
	for pc.ConnectionState() != webrtc.PeerConnectionStateConnected {
		if st := pc.ConnectionState(); st == webrtc.PeerConnectionStateFailed || st == webrtc.PeerConnectionStateClosed {
			return fmt.Errorf("PeerConnection %s", st)
		}
		if err := sleepCtx(ctx); err != nil {
			return err
		}
	}
	return nil
}
