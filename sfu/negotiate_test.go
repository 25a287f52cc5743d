package sfu

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/pion/webrtc/v4"
)

// streamTo sends tagged packets from sp until l has received one.
func streamTo(t *testing.T, sp, l *testClient) {
	t.Helper()
	warmUp(t, sp, l)
}

func TestSpeakersComingAndGoingRecycleMLines(t *testing.T) {
	rm := newRoom(t, RouterParams{Logger: testLogger()})
	l := rm.listener("listener", clientOpts{})
	var sizes []int
	for i := range 10 {
		offersBefore := l.answers.Load()
		if i%2 == 0 {
			// A new speaker joins, is heard, and leaves.
			sp := rm.speaker(PeerID(fmt.Sprintf("speaker-%d", i)))
			streamTo(t, sp, l)
			sp.close()
		} else {
			// The same speaker is promoted and demoted.
			sp := rm.speaker("regular")
			streamTo(t, sp, l)
			sp.srv.SetPublishAllowed(false)
			waitFor(t, "unpublished", func() bool { return l.srv.Stats().Subscriptions == 0 })
			sp.close()
		}
		// Both changes reach the listener as server offers: one adding the
		// track, one removing it.
		waitFor(t, "track removed from listener", func() bool {
			_, sending := l.mLines()
			return sending == 0 && l.answers.Load()-offersBefore >= 2
		})
		total, _ := l.mLines()
		if total != 2 {
			t.Fatalf("cycle %d: listener SDP has %d m-lines, want 2 (upstream + one recycled)", i, total)
		}
		sizes = append(sizes, l.remoteSDPSize())
	}
	// The SDP does not grow with the number of speakers who came and went.
	if first, last := sizes[0], sizes[len(sizes)-1]; last > first+64 {
		t.Fatalf("server SDP grew from %d to %d bytes over 10 cycles: %v", first, last, sizes)
	}
}

func TestTwoSpeakersHearEachOtherNotThemselves(t *testing.T) {
	rm := newRoom(t, RouterParams{Logger: testLogger()})
	a := rm.speaker("alice")
	b := rm.speaker("bob")
	warmUp(t, a, b)
	warmUp(t, b, a)
	if got := a.from(a.id); len(got) != 0 {
		t.Fatalf("alice heard herself: %d packets", len(got))
	}
	if total, sending := a.mLines(); total != 2 || sending != 1 {
		t.Fatalf("alice has %d m-lines, %d sending; want 2, 1", total, sending)
	}
}

func TestGlareRollsBackTheServerOfferAndReoffers(t *testing.T) {
	rm := newRoom(t, RouterParams{Logger: testLogger()})
	l := newClient(t, rm.r, "listener", roleListener, clientOpts{manualOffers: true})
	l.connect()

	// A speaker publishes: the server offers the track to the listener,
	// who does not answer yet.
	sp := rm.speaker("speaker")
	sendUntilPublished(t, rm, sp)
	stale := l.nextOffer()
	if !l.srv.isOutstandingOffer(stale) {
		t.Fatal("server offer not outstanding")
	}

	// Meanwhile the client makes an offer of its own: glare.
	if err := l.negotiate(); err != nil {
		t.Fatalf("client offer during glare: %v", err)
	}
	if l.srv.isOutstandingOffer(stale) {
		t.Fatal("server offer still outstanding after glare")
	}
	// The server offers again at once (the signaling layer orders it after
	// the answer); it is a new offer, and answering it delivers the
	// speaker.
	again := l.nextOffer()
	if again == stale || !l.srv.isOutstandingOffer(again) {
		t.Fatal("no fresh server offer after the glare")
	}
	if err := l.do(func() error { return l.answerOffer(again) }); err != nil {
		t.Fatal(err)
	}
	streamTo(t, sp, l)
	if total, sending := l.mLines(); total != 2 || sending != 1 {
		t.Fatalf("after glare: %d m-lines, %d sending; want 2, 1", total, sending)
	}
}

// sendUntilPublished sends packets from sp until its track is published:
// the server learns of a track from its first packet.
func sendUntilPublished(t *testing.T, rm *room, sp *testClient) {
	t.Helper()
	waitFor(t, string(sp.id)+" published", func() bool {
		sp.send(counterPayload(0xFE, 0), 127)
		return rm.r.isPublished(sp.id)
	})
}

// answerFor is a syntactically valid answer to offer from a throwaway
// client, to exercise answer handling.
func answerFor(t *testing.T, offer string) string {
	t.Helper()
	pc, err := clientAPI(t).NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer}); err != nil {
		t.Fatal(err)
	}
	answer, err := pc.CreateAnswer(nil)
	if err != nil {
		t.Fatal(err)
	}
	return answer.SDP
}

func TestBadInputReturnsSentinelsAndThePeerKeepsWorking(t *testing.T) {
	rm := newRoom(t, RouterParams{Logger: testLogger()})
	sp := rm.speaker("speaker")
	l := newClient(t, rm.r, "listener", roleListener, clientOpts{})
	ctx := context.Background()

	// A real offer, to derive wrong-but-parseable variants from.
	offer, err := l.pc.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	noAudio := strings.ReplaceAll(offer.SDP, "m=audio", "m=video")
	asAnswer := strings.ReplaceAll(offer.SDP, "a=setup:actpass", "a=setup:active")
	// Parseable and with audio, but unusable: this one must not leave a
	// trace (an m-line for mid "x") in later negotiations.
	noFingerprint := dropLines(strings.ReplaceAll(offer.SDP, "a=mid:0", "a=mid:x"), "a=fingerprint:")
	noMid := dropLines(offer.SDP, "a=mid:")

	tests := []struct {
		name string
		call func() error
		want error
	}{
		{"garbage as offer", func() error { _, err := l.srv.HandleOffer(ctx, "not sdp"); return err }, ErrInvalidSDP},
		{"empty offer", func() error { _, err := l.srv.HandleOffer(ctx, ""); return err }, ErrInvalidSDP},
		{"offer without audio", func() error { _, err := l.srv.HandleOffer(ctx, noAudio); return err }, ErrInvalidSDP},
		{"answer given as offer", func() error { _, err := l.srv.HandleOffer(ctx, asAnswer); return err }, ErrInvalidSDP},
		{"offer without fingerprint", func() error { _, err := l.srv.HandleOffer(ctx, noFingerprint); return err }, ErrInvalidSDP},
		{"offer without mid", func() error { _, err := l.srv.HandleOffer(ctx, noMid); return err }, ErrInvalidSDP},
		{"answer without an offer", func() error { return l.srv.HandleAnswer(ctx, asAnswer) }, ErrNoPendingOffer},
		{"garbage candidate", func() error {
			return l.srv.AddICECandidate(webrtc.ICECandidateInit{Candidate: "candidate:garbage"})
		}, ErrInvalidCandidate},
		{"candidate with a bad port", func() error {
			return l.srv.AddICECandidate(webrtc.ICECandidateInit{Candidate: "candidate:1 1 udp 1 127.0.0.1 99999999 typ host"})
		}, ErrInvalidCandidate},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.call(); !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}

	// After all that the peer negotiates and receives media normally.
	l.connect()
	warmUp(t, sp, l)
	if total, sending := l.mLines(); total != 2 || sending != 1 {
		t.Fatalf("after bad input: %d m-lines, %d sending; want 2, 1", total, sending)
	}

	// Pion rejects an answer that does not fit the offer: ErrInvalidSDP,
	// and the offer stays outstanding for a proper answer.
	l2 := newClient(t, rm.r, "listener-2", roleListener, clientOpts{manualOffers: true})
	l2.connect()
	offer2 := l2.nextOffer()
	if err := l2.srv.HandleAnswer(ctx, asAnswer); !errors.Is(err, ErrInvalidSDP) {
		t.Fatalf("mismatched answer: err = %v, want ErrInvalidSDP", err)
	}
	if err := l2.do(func() error { return l2.answerOffer(offer2) }); err != nil {
		t.Fatalf("proper answer after a bad one: %v", err)
	}
	warmUp(t, sp, l2)
}

func TestClosedPeerAndRouterReturnErrClosed(t *testing.T) {
	rm := newRoom(t, RouterParams{Logger: testLogger()})
	l := newClient(t, rm.r, "listener", roleListener, clientOpts{})
	if _, err := rm.r.NewPeer("listener", PeerParams{}); !errors.Is(err, ErrPeerExists) {
		t.Fatalf("duplicate NewPeer: err = %v, want ErrPeerExists", err)
	}
	for _, id := range []PeerID{"", "has space", "a/b", PeerID(strings.Repeat("x", 65))} {
		if _, err := rm.r.NewPeer(id, PeerParams{}); !errors.Is(err, ErrInvalidPeerID) {
			t.Fatalf("NewPeer(%q): err = %v, want ErrInvalidPeerID", id, err)
		}
	}
	l.close()
	if err := l.srv.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := l.srv.HandleOffer(context.Background(), "v=0"); !errors.Is(err, ErrClosed) {
		t.Fatalf("HandleOffer after Close: err = %v, want ErrClosed", err)
	}
	if err := l.srv.HandleAnswer(context.Background(), "v=0"); !errors.Is(err, ErrClosed) {
		t.Fatalf("HandleAnswer after Close: err = %v, want ErrClosed", err)
	}
	if err := l.srv.AddICECandidate(webrtc.ICECandidateInit{}); !errors.Is(err, ErrClosed) {
		t.Fatalf("AddICECandidate after Close: err = %v, want ErrClosed", err)
	}
	if err := rm.r.Close(); err != nil {
		t.Fatal(err)
	}
	if err := rm.r.Close(); err != nil {
		t.Fatalf("second router Close: %v", err)
	}
	if _, err := rm.r.NewPeer("late", PeerParams{}); !errors.Is(err, ErrClosed) {
		t.Fatalf("NewPeer after router Close: err = %v, want ErrClosed", err)
	}
	if err := rm.sfu.Close(); err != nil {
		t.Fatal(err)
	}
	if err := rm.sfu.Close(); err != nil {
		t.Fatalf("second SFU Close: %v", err)
	}
	if _, err := rm.sfu.NewRouter(RouterParams{}).NewPeer("late", PeerParams{}); !errors.Is(err, ErrClosed) {
		t.Fatalf("NewPeer on a router of a closed SFU: err = %v, want ErrClosed", err)
	}
}

func TestListenerPromotedIsHeard(t *testing.T) {
	// Promotion as a browser does it (the first m-line turns sendrecv) and
	// as Pion's AddTrack does it (a new m-line).
	for _, newMLine := range []bool{false, true} {
		t.Run(fmt.Sprintf("new m-line %v", newMLine), func(t *testing.T) {
			rm := newRoom(t, RouterParams{Logger: testLogger()})
			sp := rm.speaker("speaker")
			l := rm.listener("listener", clientOpts{})
			warmUp(t, sp, l)
			// A listener's recvonly m-line is answered inactive, not
			// sendonly with no track.
			if d := firstDirection(t, l); d != webrtc.RTPTransceiverDirectionInactive {
				t.Fatalf("listener's own m-line answered %s, want inactive", d)
			}

			track, err := webrtc.NewTrackLocalStaticRTP(opusCodec.RTPCodecCapability, "mic", "listener")
			if err != nil {
				t.Fatal(err)
			}
			var sender *webrtc.RTPSender
			if newMLine {
				sender, err = l.pc.AddTrack(track)
			} else {
				sender, err = l.api.NewRTPSender(track, l.pc.SCTP().Transport())
				if err == nil {
					err = l.pc.GetTransceivers()[0].SetSender(sender, track)
				}
			}
			if err != nil {
				t.Fatal(err)
			}
			l.track, l.sender = track, sender
			l.goRun(func() { drainRTCP(sender) })
			if err := l.negotiate(); err != nil {
				t.Fatal(err)
			}
			if d := firstDirection(t, l); !newMLine && d != webrtc.RTPTransceiverDirectionRecvonly {
				t.Fatalf("promoted m-line answered %s, want recvonly", d)
			}
			l.srv.SetPublishAllowed(true)
			warmUp(t, l, sp)
			warmUp(t, sp, l) // and it still hears the speaker
		})
	}
}

// dropLines removes the SDP lines starting with prefix.
func dropLines(sdp, prefix string) string {
	var keep []string
	for _, line := range strings.Split(sdp, "\r\n") {
		if !strings.HasPrefix(line, prefix) {
			keep = append(keep, line)
		}
	}
	return strings.Join(keep, "\r\n")
}

// firstDirection is the server's answered direction for the client's first
// m-line.
func firstDirection(t *testing.T, c *testClient) webrtc.RTPTransceiverDirection {
	t.Helper()
	d, err := parseDescription(c.pc.CurrentRemoteDescription())
	if err != nil {
		t.Fatal(err)
	}
	return mediaDirection(d.MediaDescriptions[0])
}

func TestGlareWhileRecyclingAndRemovingMLines(t *testing.T) {
	rm := newRoom(t, RouterParams{Logger: testLogger()})
	l := newClient(t, rm.r, "listener", roleListener, clientOpts{manualOffers: true})
	l.connect()
	answer := func() {
		t.Helper()
		o := l.outstandingOffer()
		if err := l.do(func() error { return l.answerOffer(o) }); err != nil {
			t.Fatal(err)
		}
	}
	// glare makes a client offer while the server's offer is out. The
	// client's offer already covers the withdrawn changes here (it offers
	// to receive on every m-line it knows), so no re-offer is needed.
	glare := func() {
		t.Helper()
		stale := l.outstandingOffer()
		if err := l.negotiate(); err != nil {
			t.Fatalf("client offer during glare: %v", err)
		}
		if l.srv.isOutstandingOffer(stale) {
			t.Fatal("server offer survived glare")
		}
	}

	sp := rm.speaker("speaker")
	sendUntilPublished(t, rm, sp)
	answer()
	warmUp(t, sp, l)

	// Removal pending during glare.
	sp.srv.SetPublishAllowed(false)
	glare()
	if n := l.srv.Stats().Subscriptions; n != 0 {
		t.Fatalf("subscriptions = %d after glare on removal", n)
	}
	if total, sending := l.mLines(); total != 2 || sending != 0 {
		t.Fatalf("after glare on removal: %d m-lines, %d sending; want 2, 0", total, sending)
	}

	// Recycling the emptied m-line pending during glare.
	sp.srv.SetPublishAllowed(true)
	glare()
	warmUp(t, sp, l)
	if total, sending := l.mLines(); total != 2 || sending != 1 {
		t.Fatalf("after glare on recycle: %d m-lines, %d sending; want 2, 1", total, sending)
	}
}

// TestTrickleBothWaysWithCandidatesBeforeTheOffer sends all the client's
// candidates before its offer, and an offer and answer that carry none:
// the connection can only come up if the server held the early candidates
// and trickled its own.
func TestTrickleBothWaysWithCandidatesBeforeTheOffer(t *testing.T) {
	rm := newRoom(t, RouterParams{Logger: testLogger()})
	l := newClient(t, rm.r, "listener", roleListener, clientOpts{})
	gathered := make(chan webrtc.ICECandidateInit, 16)
	l.pc.OnICECandidate(func(c *webrtc.ICECandidate) {
		if c != nil {
			gathered <- c.ToJSON()
		} else {
			close(gathered)
		}
	})
	offer, err := l.pc.CreateOffer(nil) // before gathering: no candidates
	if err != nil {
		t.Fatal(err)
	}
	if err := l.pc.SetLocalDescription(offer); err != nil {
		t.Fatal(err)
	}
	n := 0
	for c := range gathered {
		if err := l.srv.AddICECandidate(c); err != nil {
			t.Fatalf("candidate before the offer: %v", err)
		}
		n++
	}
	if n == 0 {
		t.Fatal("client gathered no candidates")
	}
	if err := l.srv.AddICECandidate(webrtc.ICECandidateInit{}); err != nil { // end of candidates
		t.Fatal(err)
	}
	if strings.Contains(offer.SDP, "a=candidate") {
		t.Fatal("offer carries candidates; the test would prove nothing")
	}
	answer, err := l.srv.HandleOffer(context.Background(), offer.SDP)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(answer, "a=candidate") {
		t.Fatal("answer carries candidates; the test would prove nothing")
	}
	if err := l.do(func() error {
		return l.setRemote(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: answer})
	}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "connected", func() bool { return l.pc.ConnectionState() == webrtc.PeerConnectionStateConnected })
	// The client would have connected anyway (the server learns a
	// peer-reflexive address from its checks): what shows the held
	// candidates were applied is the server knowing them as host ones.
	if !knowsRemoteHostCandidate(l.srv.pc) {
		t.Fatal("server has no remote host candidate: the early candidates were lost")
	}
}

func knowsRemoteHostCandidate(pc *webrtc.PeerConnection) bool {
	for _, s := range pc.GetStats() {
		if c, ok := s.(webrtc.ICECandidateStats); ok &&
			c.Type == webrtc.StatsTypeRemoteCandidate && c.CandidateType == webrtc.ICECandidateTypeHost {
			return true
		}
	}
	return false
}

// TestSpeakerStopsAndRestartsSending covers the client ending its upstream
// track by renegotiation (the track is unpublished although publishing is
// still allowed) and then sending a new one, which replaces it.
func TestSpeakerStopsAndRestartsSending(t *testing.T) {
	rm := newRoom(t, RouterParams{Logger: testLogger()})
	sp := rm.speaker("speaker")
	l := rm.listener("listener", clientOpts{})
	warmUp(t, sp, l)

	if err := sp.pc.RemoveTrack(sp.sender); err != nil {
		t.Fatal(err)
	}
	if err := sp.negotiate(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "track unpublished", func() bool {
		_, sending := l.mLines()
		return !rm.r.isPublished(sp.id) && sending == 0
	})

	track, err := webrtc.NewTrackLocalStaticRTP(opusCodec.RTPCodecCapability, "mic-2", string(sp.id))
	if err != nil {
		t.Fatal(err)
	}
	sender, err := sp.pc.AddTrack(track)
	if err != nil {
		t.Fatal(err)
	}
	sp.track, sp.sender = track, sender
	sp.goRun(func() { drainRTCP(sender) })
	if err := sp.negotiate(); err != nil {
		t.Fatal(err)
	}
	warmUp(t, sp, l)
}
