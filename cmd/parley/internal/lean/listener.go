package lean

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/dtls/v3"
	"github.com/pion/ice/v4"
	"github.com/pion/srtp/v3"
	"github.com/pion/stun/v4"

	"github.com/parley-audio/parley/signaling"
	"github.com/parley-audio/parley/signaling/client"
)

// Params say whom a listener joins as, where, and where its packets go.
type Params struct {
	BaseURL string
	Token   string
	RoomID  string
	HTTP    *http.Client // for the WebSocket handshake; nil means the default
	// OnJoin is called just before the join request is sent.
	OnJoin func()
	// Stream returns the receiver of a speaker's stream (by the msid
	// stream ID, the speaker's user ID). It is called on the listener's
	// signaling goroutine when the server first offers the stream.
	Stream func(speaker string) Receiver
}

// Listener is one lean listener. Join creates it; Close ends it.
type Listener struct {
	pool  *Pool
	p     Params
	sock  *socket
	slot  int
	local netip.AddrPort
	sess  *client.Session

	ufrag, pwd   string
	tiebreaker   uint64
	remoteUfrag  string
	remotePwd    string
	remoteFP     string // "sha-256 AB:..." from the server's answer
	dtlsServer   bool   // the server's answer took a=setup:active
	remote       atomic.Pointer[netip.AddrPort]
	iceDone      chan struct{} // closed on the first binding success
	iceOnce      sync.Once
	dtlsIn       chan []byte
	dconn        *dtls.Conn
	srtp         atomic.Pointer[srtp.Context]
	ssrcs        atomic.Pointer[[]ssrcStream]
	handledOffer int // server offers answered; owned by the offer loop

	quit chan struct{}
	wg   sync.WaitGroup // the offer loop
}

// ssrcStream maps an SSRC the server sends on to its receiver.
type ssrcStream struct {
	ssrc uint32
	rx   Receiver
}

// Join connects a listener: sign-in token in hand, it joins the room,
// negotiates, and returns once ICE and DTLS are up and SRTP keys are
// ready. Audio starts as the server's offers are answered.
func (p *Pool) Join(ctx context.Context, params Params) (*Listener, error) {
	l := &Listener{
		pool: p, p: params,
		ufrag: randomString(8), pwd: randomString(24), tiebreaker: randomUint64(),
		iceDone: make(chan struct{}), dtlsIn: make(chan []byte, 32), quit: make(chan struct{}),
	}
	empty := []ssrcStream{}
	l.ssrcs.Store(&empty)
	if err := p.place(l); err != nil {
		return nil, err
	}
	sess, err := client.Dial(ctx, params.BaseURL, params.Token, client.Options{HTTPClient: params.HTTP})
	if err != nil {
		l.sock.release(l.slot, l)
		return nil, err
	}
	l.sess = sess
	if err := l.connect(ctx); err != nil {
		_ = l.Close()
		return nil, err
	}
	return l, nil
}

func (l *Listener) connect(ctx context.Context) error {
	if l.p.OnJoin != nil {
		l.p.OnJoin()
	}
	// A node of a cluster may send the listener to another: follow it.
	sess, _, err := l.sess.JoinFollowing(ctx, l.p.RoomID, l.p.Token)
	if err != nil {
		l.sess = nil
		return fmt.Errorf("join: %w", err)
	}
	l.sess = sess
	env, err := l.sess.Request(ctx, signaling.TypeOffer, signaling.SDPPayload{SDP: l.offer()})
	if err != nil {
		return fmt.Errorf("offer: %w", err)
	}
	var ans signaling.SDPPayload
	if err := json.Unmarshal(env.Payload, &ans); err != nil {
		return err
	}
	if err := l.readAnswer(ans.SDP); err != nil {
		return err
	}
	// Server offers may follow at once; answer them while ICE runs.
	l.wg.Add(1)
	go func() { defer l.wg.Done(); l.answerOffers() }()

	mid, idx := "0", uint16(0)
	cand := fmt.Sprintf("candidate:1 1 udp 2130706431 %s %d typ host", l.local.Addr(), l.local.Port())
	if _, err := l.sess.Send(ctx, signaling.TypeCandidate, signaling.CandidatePayload{
		Candidate: cand, SDPMid: &mid, SDPMLineIndex: &idx, UsernameFragment: &l.ufrag,
	}); err != nil {
		return err
	}
	remote, err := l.serverCandidate(ctx)
	if err != nil {
		return err
	}
	l.remote.Store(&remote)
	if err := l.checkConnectivity(ctx, remote); err != nil {
		return err
	}
	return l.handshake(ctx, remote)
}

// serverCandidate waits for the server's first loopback UDP host
// candidate. bench never sends to anything but loopback.
func (l *Listener) serverCandidate(ctx context.Context) (netip.AddrPort, error) {
	var found netip.AddrPort
	_, err := l.sess.WaitFor(ctx, func(e signaling.Envelope) bool {
		if e.Type != signaling.TypeCandidate {
			return false
		}
		var c signaling.CandidatePayload
		if json.Unmarshal(e.Payload, &c) != nil {
			return false
		}
		ap, ok := parseCandidate(c.Candidate)
		if ok && ap.Addr().IsLoopback() {
			found = ap
			return true
		}
		return false
	})
	if err != nil {
		return found, fmt.Errorf("no loopback candidate from the server (run it with --rtc-loopback-only): %w", err)
	}
	return found, nil
}

// parseCandidate reads the address of a UDP host candidate.
func parseCandidate(s string) (netip.AddrPort, bool) {
	f := strings.Fields(strings.TrimPrefix(s, "candidate:"))
	if len(f) < 8 || !strings.EqualFold(f[2], "udp") || f[6] != "typ" {
		return netip.AddrPort{}, false
	}
	ap, err := netip.ParseAddrPort(f[4] + ":" + f[5])
	if err != nil || !ap.Addr().Is4() {
		return netip.AddrPort{}, false
	}
	return ap, true
}

// checkConnectivity sends ICE connectivity checks as the controlling
// agent, nominating the one pair, until one succeeds.
func (l *Listener) checkConnectivity(ctx context.Context, remote netip.AddrPort) error {
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	for {
		msg, err := stun.Build(stun.TransactionID, stun.BindingRequest,
			stun.NewUsername(l.remoteUfrag+":"+l.ufrag),
			ice.AttrControlling(l.tiebreaker), ice.PriorityAttr(2130706431), ice.UseCandidate(),
			stun.NewShortTermIntegrity(l.remotePwd), stun.Fingerprint)
		if err != nil {
			return err
		}
		if err := l.sock.send(msg.Raw, l.local.Addr(), remote); err != nil {
			return err
		}
		select {
		case <-l.iceDone:
			return nil
		case <-ctx.Done():
			return fmt.Errorf("ice: %w", ctx.Err())
		case <-t.C:
		}
	}
}

// handshake runs DTLS in the role the server's answer left us and
// derives the SRTP keys.
func (l *Listener) handshake(ctx context.Context, remote netip.AddrPort) error {
	cfg := &dtls.Config{
		Certificates:           []tls.Certificate{l.pool.cert},
		SRTPProtectionProfiles: []dtls.SRTPProtectionProfile{dtls.SRTP_AEAD_AES_128_GCM, dtls.SRTP_AES128_CM_HMAC_SHA1_80},
		ExtendedMasterSecret:   dtls.RequireExtendedMasterSecret,
		ClientAuth:             dtls.RequireAnyClientCert,
		InsecureSkipVerify:     true, // the fingerprint from signaling is the check
		VerifyPeerCertificate: func(raw [][]byte, _ [][]*x509.Certificate) error {
			return l.verifyFingerprint(raw)
		},
	}
	pc := &packetConn{l: l, remote: remote, rd: newDeadline()}
	var conn *dtls.Conn
	var err error
	if l.dtlsServer {
		conn, err = dtls.Server(pc, udpAddr(remote), cfg)
	} else {
		conn, err = dtls.Client(pc, udpAddr(remote), cfg)
	}
	if err != nil {
		return fmt.Errorf("dtls: %w", err)
	}
	l.dconn = conn
	hctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := conn.HandshakeContext(hctx); err != nil {
		return fmt.Errorf("dtls handshake: %w", err)
	}
	prof, ok := conn.SelectedSRTPProtectionProfile()
	if !ok {
		return errors.New("dtls: no SRTP profile negotiated")
	}
	state, ok := conn.ConnectionState()
	if !ok {
		return errors.New("dtls: no connection state")
	}
	scfg := srtp.Config{Profile: srtp.ProtectionProfile(prof)}
	if err := scfg.ExtractSessionKeysFromDTLS(&state, !l.dtlsServer); err != nil {
		return fmt.Errorf("srtp keys: %w", err)
	}
	// The remote keys decrypt what the server sends. No replay window:
	// bench counts duplicates itself, so they must get through.
	dec, err := srtp.CreateContext(scfg.Keys.RemoteMasterKey, scfg.Keys.RemoteMasterSalt, scfg.Profile)
	if err != nil {
		return err
	}
	l.srtp.Store(dec)
	return nil
}

func (l *Listener) verifyFingerprint(raw [][]byte) error {
	if len(raw) == 0 {
		return errors.New("dtls: no certificate")
	}
	got, err := certFingerprint(raw[0])
	if err != nil {
		return err
	}
	if !strings.EqualFold("sha-256 "+got, l.remoteFP) {
		return errors.New("dtls: certificate does not match the signaled fingerprint")
	}
	return nil
}

// answerOffers answers the server's offers in order until the listener
// closes or the session ends.
func (l *Listener) answerOffers() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-l.quit:
			cancel()
		case <-ctx.Done():
		}
	}()
	for {
		seen := 0
		env, err := l.sess.WaitFor(ctx, func(e signaling.Envelope) bool {
			if e.Type != signaling.TypeOffer {
				return false
			}
			seen++
			return seen > l.handledOffer
		})
		if err != nil {
			return
		}
		l.handledOffer++
		var p signaling.SDPPayload
		if json.Unmarshal(env.Payload, &p) != nil {
			continue
		}
		answer, err := l.answer(p.SDP)
		if err != nil {
			continue
		}
		if _, err := l.sess.Send(ctx, signaling.TypeAnswer, signaling.SDPPayload{SDP: answer}); err != nil {
			return
		}
	}
}

// handle is called by the socket's reader for every datagram sent to
// this listener: RFC 7983 demultiplexing by the first byte.
func (l *Listener) handle(s *socket, b []byte, from netip.AddrPort, now time.Time) {
	if len(b) == 0 {
		return
	}
	switch c := b[0]; {
	case c < 4:
		l.handleSTUN(s, b, from)
	case c >= 20 && c <= 63:
		select {
		case l.dtlsIn <- append([]byte(nil), b...):
		default: // the handshake is not reading: drop, DTLS retransmits
		}
	case c >= 128 && c <= 191:
		if len(b) < 12 || b[1] >= 192 && b[1] <= 223 {
			return // RTCP: the server's sender reports
		}
		ctx := l.srtp.Load()
		if ctx == nil {
			return
		}
		if _, err := ctx.DecryptRTP(s.scratch[:], b, &s.hdr); err != nil {
			return
		}
		for _, st := range *l.ssrcs.Load() {
			if st.ssrc == s.hdr.SSRC {
				st.rx.Observe(s.hdr.SequenceNumber, s.hdr.Timestamp, now)
				return
			}
		}
	}
}

// handleSTUN answers the server's connectivity checks and notes the
// success of ours. It runs on the reader goroutine; it allocates, but
// only for a few packets per listener.
func (l *Listener) handleSTUN(s *socket, b []byte, from netip.AddrPort) {
	m := &stun.Message{Raw: append([]byte(nil), b...)}
	if m.Decode() != nil {
		return
	}
	switch m.Type {
	case stun.BindingSuccess:
		l.iceOnce.Do(func() { close(l.iceDone) })
	case stun.BindingRequest:
		var user stun.Username
		if user.GetFrom(m) != nil || !strings.HasPrefix(user.String(), l.ufrag+":") {
			return
		}
		if stun.NewShortTermIntegrity(l.pwd).Check(m) != nil {
			return
		}
		resp, err := stun.Build(stun.NewTransactionIDSetter(m.TransactionID), stun.BindingSuccess,
			&stun.XORMappedAddress{IP: from.Addr().AsSlice(), Port: int(from.Port())},
			stun.NewShortTermIntegrity(l.pwd), stun.Fingerprint)
		if err == nil {
			_ = s.send(resp.Raw, l.local.Addr(), from)
		}
	}
}

// Close leaves the room, ends the session and frees the address.
// Idempotent.
func (l *Listener) Close() error {
	select {
	case <-l.quit:
		return nil
	default:
		close(l.quit)
	}
	if l.sess != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_, _ = l.sess.Request(ctx, signaling.TypeLeave, signaling.EmptyPayload{})
		cancel()
	}
	l.sock.release(l.slot, l)
	var errs []error
	if l.dconn != nil {
		errs = append(errs, l.dconn.Close())
	}
	if l.sess != nil {
		errs = append(errs, l.sess.Close())
	}
	l.wg.Wait()
	return errors.Join(errs...)
}

func randomString(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)[:n]
}

func randomUint64() uint64 {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return binary.BigEndian.Uint64(b[:])
}
