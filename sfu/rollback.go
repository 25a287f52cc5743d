package sfu

import (
	"fmt"
	"strings"

	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
)

// rollbackOffer withdraws the server's outstanding offer, returning the
// connection to stable so the client's colliding offer can be applied.
//
// JSEP's way is SetLocalDescription(rollback), but the signaling state
// machine of Pion v4.2.20 (our pinned version) refuses that transition. We
// get the same result by applying an answer that the client could have
// given if it had accepted none of the offer's changes: every m-line keeps
// the state the client last agreed to, and m-lines the client never saw
// are answered inactive. The offer's m-line changes stay on our side, so
// the next offer carries them again.
//
// One difference from a real rollback: Pion starts the senders of new
// m-lines on that answer, so until the next negotiation completes their
// packets go out on SSRCs the client does not know yet, and it drops them.
func (p *Peer) rollbackOffer() error {
	pending := p.pc.PendingLocalDescription()
	last := p.pc.CurrentRemoteDescription()
	local := p.pc.CurrentLocalDescription()
	if pending == nil || last == nil || local == nil {
		return fmt.Errorf("sfu: nothing to roll back")
	}
	offer, err := parseDescription(pending)
	if err != nil {
		return err
	}
	prev, err := parseDescription(last)
	if err != nil {
		return err
	}
	ours, err := parseDescription(local)
	if err != nil {
		return err
	}
	answer, err := unchangedAnswer(offer, prev, clientSetup(prev, ours)).Marshal()
	if err != nil {
		return err
	}
	return p.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: string(answer)})
}

// parseDescription parses a description Pion holds. Its Unmarshal method
// would cache the result in the shared struct, racing with Pion.
func parseDescription(d *webrtc.SessionDescription) (*sdp.SessionDescription, error) {
	parsed := &sdp.SessionDescription{}
	if err := parsed.UnmarshalString(d.SDP); err != nil {
		return nil, err
	}
	return parsed, nil
}

// clientSetup is the client's DTLS role (a=setup), which cannot change
// during a session: taken from the client's last description, or, if that
// was an offer (actpass), the opposite of the role our answer took.
func clientSetup(prev, ours *sdp.SessionDescription) string {
	if s := setupOf(prev); s != "" && s != sdp.ConnectionRoleActpass.String() {
		return s
	}
	if setupOf(ours) == sdp.ConnectionRolePassive.String() {
		return sdp.ConnectionRoleActive.String()
	}
	return sdp.ConnectionRolePassive.String()
}

func setupOf(d *sdp.SessionDescription) string {
	for _, m := range d.MediaDescriptions {
		if s, ok := m.Attribute(sdp.AttrKeyConnectionSetup); ok {
			return s
		}
	}
	s, _ := d.Attribute(sdp.AttrKeyConnectionSetup)
	return s
}

// unchangedAnswer answers offer as a client whose last description was
// prev and who accepts no change.
func unchangedAnswer(offer, prev *sdp.SessionDescription, setup string) *sdp.SessionDescription {
	ans := &sdp.SessionDescription{
		Origin:           prev.Origin,
		SessionName:      "-",
		TimeDescriptions: []sdp.TimeDescription{{}},
	}
	ans.Origin.SessionVersion++
	var mids []string
	for _, a := range prev.Attributes {
		// Keep the client's fingerprint and options; the bundle group is
		// rebuilt below over the offer's m-lines.
		if a.Key != sdp.AttrKeyGroup {
			ans.Attributes = append(ans.Attributes, a)
		}
	}

	prevByMid := make(map[string]*sdp.MediaDescription)
	var ice []sdp.Attribute // the client's ICE credentials
	for _, m := range prev.MediaDescriptions {
		if mid, ok := m.Attribute(sdp.AttrKeyMID); ok {
			prevByMid[mid] = m
		}
		if len(ice) == 0 {
			for _, a := range m.Attributes {
				if a.Key == "ice-ufrag" || a.Key == "ice-pwd" || a.Key == "fingerprint" {
					ice = append(ice, a)
				}
			}
		}
	}

	for _, om := range offer.MediaDescriptions {
		mid, _ := om.Attribute(sdp.AttrKeyMID)
		mids = append(mids, mid)
		am := &sdp.MediaDescription{
			MediaName: sdp.MediaName{
				Media:   om.MediaName.Media,
				Port:    sdp.RangedPort{Value: 9},
				Protos:  om.MediaName.Protos,
				Formats: om.MediaName.Formats,
			},
			ConnectionInformation: &sdp.ConnectionInformation{
				NetworkType: "IN", AddressType: "IP4", Address: &sdp.Address{Address: "0.0.0.0"},
			},
		}
		// Codecs and extensions as we offered them (an answer may not add
		// any); everything else as the client last described the m-line:
		// its SSRCs and msid, which keep Pion's receiver alive, and its ICE
		// credentials, which must not change.
		theirs := webrtc.RTPTransceiverDirectionInactive
		pm := prevByMid[mid]
		for _, a := range om.Attributes {
			if isCodecAttr(a.Key) || pm == nil && (a.Key == sdp.AttrKeyMID || a.Key == sdp.AttrKeyRTCPMux) {
				am.Attributes = append(am.Attributes, a)
			}
		}
		if pm != nil {
			theirs = mediaDirection(pm)
			for _, a := range pm.Attributes {
				if !isCodecAttr(a.Key) && keepInAnswer(a.Key) {
					am.Attributes = append(am.Attributes, a)
				}
			}
		} else {
			am.Attributes = append(am.Attributes, ice...)
		}
		am.Attributes = append(am.Attributes,
			sdp.Attribute{Key: sdp.AttrKeyConnectionSetup, Value: setup},
			sdp.Attribute{Key: answerDirection(mediaDirection(om), theirs).String()},
		)
		ans.MediaDescriptions = append(ans.MediaDescriptions, am)
	}
	ans.Attributes = append(ans.Attributes, sdp.Attribute{
		Key: sdp.AttrKeyGroup, Value: "BUNDLE " + strings.Join(mids, " "),
	})
	return ans
}

func isCodecAttr(key string) bool {
	switch key {
	case "rtpmap", "fmtp", "rtcp-fb", sdp.AttrKeyExtMap:
		return true
	}
	return false
}

// keepInAnswer drops the attributes unchangedAnswer sets itself, and
// candidates, which a rollback must not add.
func keepInAnswer(key string) bool {
	switch key {
	case sdp.AttrKeyConnectionSetup, "candidate", "end-of-candidates",
		"sendrecv", "sendonly", "recvonly", "inactive":
		return false
	}
	return true
}

// answerDirection is the client's answer to our offered direction, given
// the direction it last agreed to (both from their own side's view): the
// client sends only if we receive and it was sending, and receives only if
// we send and it was receiving.
func answerDirection(offered, theirs webrtc.RTPTransceiverDirection) webrtc.RTPTransceiverDirection {
	has := func(d webrtc.RTPTransceiverDirection, send bool) bool {
		if send {
			return d == webrtc.RTPTransceiverDirectionSendrecv || d == webrtc.RTPTransceiverDirectionSendonly
		}
		return d == webrtc.RTPTransceiverDirectionSendrecv || d == webrtc.RTPTransceiverDirectionRecvonly
	}
	sends := has(offered, false) && has(theirs, true)
	recvs := has(offered, true) && has(theirs, false)
	switch {
	case sends && recvs:
		return webrtc.RTPTransceiverDirectionSendrecv
	case sends:
		return webrtc.RTPTransceiverDirectionSendonly
	case recvs:
		return webrtc.RTPTransceiverDirectionRecvonly
	default:
		return webrtc.RTPTransceiverDirectionInactive
	}
}
