package sfu

import (
	"fmt"
	"slices"
	"strconv"

	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
)

// negotiation is the signaling state of one peer. Only the peer's op
// goroutine touches it (and Close, after that goroutine has stopped).
type negotiation struct {
	answered  bool // the client's first offer has been answered
	connected bool // the connection has been up at least once
	offerOut  bool // a server offer awaits the client's answer
	needOffer bool // local m-line changes the client has not seen

	pendingCandidates []webrtc.ICECandidateInit // arrived before the first offer
	keys              *srtpKeys                 // outbound SRTP keys, once connected

	downs     map[PeerID]*downTrack    // by source peer
	free      []*webrtc.RTPTransceiver // downstream m-lines to recycle
	nextMid   int                      // for our own m-lines' mids
	lastState webrtc.PeerConnectionState
}

func newNegotiation() negotiation {
	return negotiation{downs: make(map[PeerID]*downTrack)}
}

// handleOffer runs on the op goroutine.
func (p *Peer) handleOffer(raw string) (string, error) {
	parsed, err := parseSDP(raw, webrtc.SDPTypeOffer)
	if err != nil {
		return "", err
	}
	n := &p.neg
	// Whatever happens, look again for changes to offer: after a glare our
	// withdrawn changes are still waiting, even if the client's offer is
	// then refused.
	defer p.kick()
	if p.pc.SignalingState() == webrtc.SignalingStateHaveLocalOffer {
		// Glare. The server is the polite side: drop our offer (the client
		// drops ours too), answer theirs, and offer again afterwards.
		if err := p.rollbackOffer(); err != nil {
			return "", fmt.Errorf("sfu: roll back server offer: %w", err)
		}
		n.offerOut = false
		n.needOffer = true
		p.log.Info("glare: server offer rolled back")
	}
	if err := p.claimClientMids(parsed); err != nil {
		return "", err
	}
	if err := p.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: raw}); err != nil {
		return "", fmt.Errorf("%w: %w", ErrInvalidSDP, err)
	}
	p.flushCandidates()
	answer, err := p.pc.CreateAnswer(nil)
	if err == nil {
		err = p.pc.SetLocalDescription(answer)
	}
	if err != nil {
		// Pion cannot roll back a remote offer either, so the connection
		// stays in have-remote-offer; the owner should close the peer.
		return "", fmt.Errorf("%w: answer: %w", ErrInvalidSDP, err)
	}
	if n.needOffer {
		// After a glare the answer itself may already carry everything the
		// withdrawn offer did (removals, recycled m-lines the client
		// offered to receive on). Re-offer only for m-lines it lacks: a
		// redundant offer is not free, as some clients (Pion among them)
		// stop an m-line's receiver on every "inactive" they are offered.
		n.needOffer = hasUnansweredMLines(p.pc.GetTransceivers(), answer.SDP)
	}
	n.answered = true
	return answer.SDP, nil
}

// claimClientMids makes every m-line the client creates an upstream-only
// m-line on our side, before Pion sees the offer. For each audio m-line
// with a mid we do not know yet, it adds a recvonly transceiver with that
// mid, so that Pion matches it by mid instead of inventing a transceiver:
// then a client that offers to send gets "recvonly", and one that offers
// recvonly gets "inactive" (Pion alone would answer "sendonly" with no
// track, announcing a stream that never comes). The same m-line can later
// turn sendrecv when a listener is promoted. Downstream m-lines are only
// ever ones we created.
func (p *Peer) claimClientMids(d *sdp.SessionDescription) error {
	known := make(map[string]bool)
	for _, t := range p.pc.GetTransceivers() {
		if mid := t.Mid(); mid != "" {
			known[mid] = true
		}
	}
	for _, m := range d.MediaDescriptions {
		mid, _ := m.Attribute(sdp.AttrKeyMID)
		if m.MediaName.Media != "audio" || m.MediaName.Port.Value == 0 || mid == "" || known[mid] {
			continue
		}
		if mediaDirection(m) == webrtc.RTPTransceiverDirectionInactive {
			// Pion creates an inactive transceiver for it, as we want; one
			// of ours would be stopped by Pion when matched to "inactive".
			continue
		}
		t, err := p.pc.AddTransceiverFromKind(webrtc.RTPCodecTypeAudio,
			webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly})
		if err != nil {
			return fmt.Errorf("sfu: upstream transceiver: %w", err)
		}
		if err := t.SetMid(mid); err != nil {
			return fmt.Errorf("sfu: upstream transceiver mid: %w", err)
		}
		known[mid] = true
	}
	return nil
}

// handleAnswer runs on the op goroutine.
func (p *Peer) handleAnswer(raw string) error {
	n := &p.neg
	if !n.offerOut {
		return ErrNoPendingOffer
	}
	parsed, err := parseSDP(raw, webrtc.SDPTypeAnswer)
	if err != nil {
		return err
	}
	if err := matchesOffer(p.pc.PendingLocalDescription(), parsed); err != nil {
		return err
	}
	if err := p.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: raw}); err != nil {
		// Our offer stays outstanding: a corrected answer, or a client
		// offer (glare), resolves it.
		return fmt.Errorf("%w: %w", ErrInvalidSDP, err)
	}
	n.offerOut = false
	p.kick() // changes that arrived while the offer was out
	return nil
}

// addCandidate runs on the op goroutine.
func (p *Peer) addCandidate(c webrtc.ICECandidateInit) error {
	if p.pc.RemoteDescription() == nil {
		p.neg.pendingCandidates = append(p.neg.pendingCandidates, c)
		return nil
	}
	if err := p.pc.AddICECandidate(c); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidCandidate, err)
	}
	return nil
}

func (p *Peer) flushCandidates() {
	for _, c := range p.neg.pendingCandidates {
		if err := p.pc.AddICECandidate(c); err != nil {
			p.log.Warn("held ice candidate rejected", "err", err)
		}
	}
	p.neg.pendingCandidates = nil
}

// reconcile runs on the op goroutine: it brings the downstream m-lines in
// line with the router's published tracks and, if anything changed, sends
// one offer covering all of it. When it may not offer yet, it does nothing;
// whatever unblocks it (the client's answer, or its offer being answered)
// kicks again, so changes made meanwhile coalesce.
//
// The first server offer waits for the connection to come up: Pion
// clients (v4.2) never start receiving on m-lines negotiated before their
// DTLS transport is up. Later offers go out at once, even right after an
// answer: the signaling layer delivers an offer made while it is sending
// an answer after that answer (see OnOffer), so the client never mistakes
// it for glare.
func (p *Peer) reconcile() {
	p.queued.Store(false)
	n := &p.neg
	if !n.answered || !n.connected || n.offerOut || p.pc.SignalingState() != webrtc.SignalingStateStable {
		return
	}

	want := p.router.subscriptionsFor(p.id)
	for id, d := range n.downs {
		if want[id] == d.src && d.healthy() {
			continue
		}
		p.removeDown(d)
	}
	ids := make([]PeerID, 0, len(want))
	for id := range want {
		if n.downs[id] == nil {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids) // deterministic m-line order
	for _, id := range ids {
		if err := p.addDown(want[id]); err != nil {
			p.log.Error("add downtrack failed", "source", id, "err", err)
		}
	}
	if n.needOffer {
		p.sendOffer()
	}
}

func (p *Peer) sendOffer() {
	n := &p.neg
	offer, err := p.pc.CreateOffer(&webrtc.OfferOptions{
		OfferAnswerOptions: webrtc.OfferAnswerOptions{ICETricklingSupported: true},
	})
	if err == nil {
		err = p.pc.SetLocalDescription(offer)
	}
	if err != nil {
		p.log.Error("server offer failed", "err", err)
		return
	}
	n.offerOut = true
	n.needOffer = false
	p.log.Debug("server offer", "downtracks", len(n.downs))
	if p.params.OnOffer != nil {
		p.params.OnOffer(offer.SDP)
	}
}

// addDown subscribes the peer to src on a recycled m-line if there is one,
// or on a new sendonly one. A fresh transceiver from AddTransceiverFromTrack
// can never be matched to the client's upstream m-line, unlike AddTrack.
func (p *Peer) addDown(src *source) error {
	n := &p.neg
	d := newDownTrack(src, p)
	var t *webrtc.RTPTransceiver
	if k := len(n.free); k > 0 {
		t, n.free = n.free[k-1], n.free[:k-1]
		sender, err := p.sfu.api.NewRTPSender(d, p.pc.SCTP().Transport())
		if err != nil {
			return fmt.Errorf("sfu: new sender: %w", err)
		}
		// Pion's AddTrack will not reuse an m-line the remote answered
		// "inactive", which every m-line we emptied is; SetSender does,
		// and turns it sendonly again.
		if err := t.SetSender(sender, d); err != nil {
			_ = sender.Stop()
			n.free = append(n.free, t)
			return fmt.Errorf("sfu: recycle m-line: %w", err)
		}
	} else {
		var err error
		t, err = p.pc.AddTransceiverFromTrack(d, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
		if err != nil {
			return fmt.Errorf("sfu: add transceiver: %w", err)
		}
		// Our own mid namespace: a client adding m-lines in a glare
		// cannot pick a mid we used in a rolled-back offer.
		n.nextMid++
		if err := t.SetMid("s" + strconv.Itoa(n.nextMid)); err != nil {
			return fmt.Errorf("sfu: downtrack mid: %w", err)
		}
	}
	d.transceiver = t
	d.sender = t.Sender()
	sender := d.sender
	p.mu.Lock()
	if !p.closed {
		// The RTCP read loop lets the report interceptor see receiver
		// reports; it ends when the sender stops.
		p.goLocked(func() { drainRTCP(sender) })
	}
	p.mu.Unlock()
	n.downs[src.id] = d
	n.needOffer = true
	p.stats.subscriptions.Add(1)
	src.downs.add(d)
	return nil
}

func drainRTCP(s *webrtc.RTPSender) {
	buf := make([]byte, readBufferSize)
	for {
		if _, _, err := s.Read(buf); err != nil {
			return
		}
	}
}

// removeDown unsubscribes: the source stops writing to d at once, and its
// m-line goes inactive in the next offer and becomes free for reuse.
func (p *Peer) removeDown(d *downTrack) {
	n := &p.neg
	d.src.downs.remove(d)
	delete(n.downs, d.src.id)
	p.stats.subscriptions.Add(-1)
	n.needOffer = true
	if err := p.pc.RemoveTrack(d.sender); err != nil {
		// Expected when the client's offer already stopped the m-line:
		// Pion detaches the sender and then complains about the state.
		p.log.Debug("remove downtrack", "source", d.src.id, "err", err)
	}
	if d.transceiver.Sender() == nil {
		n.free = append(n.free, d.transceiver)
	}
}

// healthy reports whether d's m-line still sends d. A client offer that
// marks the m-line inactive makes Pion stop it; such a downtrack is
// replaced.
func (d *downTrack) healthy() bool {
	t := d.transceiver
	return t.Sender() == d.sender && t.Direction() == webrtc.RTPTransceiverDirectionSendonly
}

// parseSDP checks an SDP before Pion sees it, for two reasons: to tell
// clients their mistakes clearly (not SDP, no audio, an answer sent as an
// offer or the reverse, told apart by a=setup, which an offerer must set
// to actpass per RFC 5763), and to refuse what Pion would refuse only
// after claimClientMids has added transceivers for it (m-lines without a
// mid, no ICE credentials, no DTLS fingerprint).
func parseSDP(raw string, typ webrtc.SDPType) (*sdp.SessionDescription, error) {
	var d sdp.SessionDescription
	if err := d.UnmarshalString(raw); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidSDP, err)
	}
	audio := false
	for i, m := range d.MediaDescriptions {
		if m.MediaName.Media == "audio" && m.MediaName.Port.Value != 0 {
			audio = true
		}
		if m.MediaName.Port.Value == 0 {
			continue // rejected: nothing in it is used
		}
		if mid, _ := m.Attribute(sdp.AttrKeyMID); mid == "" {
			return nil, fmt.Errorf("%w: m-line %d has no mid", ErrInvalidSDP, i)
		}
		for _, key := range []string{"ice-ufrag", "ice-pwd", "fingerprint"} {
			if _, ok := m.Attribute(key); !ok {
				if _, ok := d.Attribute(key); !ok {
					return nil, fmt.Errorf("%w: m-line %d has no %s", ErrInvalidSDP, i, key)
				}
			}
		}
		setup, ok := m.Attribute(sdp.AttrKeyConnectionSetup)
		if !ok {
			setup, ok = d.Attribute(sdp.AttrKeyConnectionSetup)
		}
		if !ok {
			continue
		}
		if typ == webrtc.SDPTypeOffer && setup != "actpass" {
			return nil, fmt.Errorf("%w: not an offer (a=setup:%s)", ErrInvalidSDP, setup)
		}
		if typ == webrtc.SDPTypeAnswer && setup == "actpass" {
			return nil, fmt.Errorf("%w: not an answer (a=setup:actpass)", ErrInvalidSDP)
		}
	}
	if !audio {
		return nil, fmt.Errorf("%w: no audio m-line", ErrInvalidSDP)
	}
	return &d, nil
}

// matchesOffer checks that an answer has the offer's m-lines, in order
// (JSEP 5.3.1). Pion does not, and would take a stale answer to an earlier
// offer as the answer to this one.
func matchesOffer(offer *webrtc.SessionDescription, answer *sdp.SessionDescription) error {
	if offer == nil {
		return ErrNoPendingOffer
	}
	o, err := parseDescription(offer)
	if err != nil {
		return fmt.Errorf("sfu: parse own offer: %w", err)
	}
	if len(o.MediaDescriptions) != len(answer.MediaDescriptions) {
		return fmt.Errorf("%w: answer has %d m-lines, offer %d",
			ErrInvalidSDP, len(answer.MediaDescriptions), len(o.MediaDescriptions))
	}
	for i, m := range o.MediaDescriptions {
		want, _ := m.Attribute(sdp.AttrKeyMID)
		got, _ := answer.MediaDescriptions[i].Attribute(sdp.AttrKeyMID)
		if got != want {
			return fmt.Errorf("%w: answer m-line %d has mid %q, offer %q", ErrInvalidSDP, i, got, want)
		}
	}
	return nil
}

// hasUnansweredMLines reports whether some transceiver's m-line is missing
// from our answer: one added by an offer that glare withdrew.
func hasUnansweredMLines(ts []*webrtc.RTPTransceiver, answer string) bool {
	var d sdp.SessionDescription
	if err := d.UnmarshalString(answer); err != nil {
		return true
	}
	answered := make(map[string]bool, len(d.MediaDescriptions))
	for _, m := range d.MediaDescriptions {
		mid, _ := m.Attribute(sdp.AttrKeyMID)
		answered[mid] = true
	}
	for _, t := range ts {
		if !answered[t.Mid()] {
			return true
		}
	}
	return false
}

// mediaDirection reads an m-line's direction; RFC 4566 makes sendrecv the
// default.
func mediaDirection(m *sdp.MediaDescription) webrtc.RTPTransceiverDirection {
	for _, a := range m.Attributes {
		if d := webrtc.NewRTPTransceiverDirection(a.Key); d != webrtc.RTPTransceiverDirectionUnknown {
			return d
		}
	}
	return webrtc.RTPTransceiverDirectionSendrecv
}
