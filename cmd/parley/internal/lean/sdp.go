package lean

import (
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/pion/dtls/v3/pkg/crypto/fingerprint"
	"github.com/pion/sdp/v3"
)

// offer is the listener's first offer: one recvonly audio m-line, Opus
// and the audio-level extension, as a browser listener makes it.
func (l *Listener) offer() string {
	var b strings.Builder
	b.WriteString("v=0\r\no=- " + strconv.FormatUint(l.tiebreaker>>1, 10) + " 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n")
	b.WriteString("a=group:BUNDLE 0\r\na=msid-semantic: WMS\r\n")
	l.mline(&b, "0", 1, "actpass", "recvonly", false)
	return b.String()
}

// mline writes one audio m-line with the listener's ICE credentials and
// fingerprint.
func (l *Listener) mline(b *strings.Builder, mid string, levelID int, setup, dir string, rejected bool) {
	port := "9"
	if rejected {
		port = "0"
	}
	b.WriteString("m=audio " + port + " UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\n")
	b.WriteString("a=ice-ufrag:" + l.ufrag + "\r\na=ice-pwd:" + l.pwd + "\r\na=ice-options:trickle\r\n")
	b.WriteString("a=fingerprint:" + l.pool.fp + "\r\na=setup:" + setup + "\r\na=mid:" + mid + "\r\n")
	if levelID > 0 {
		b.WriteString("a=extmap:" + strconv.Itoa(levelID) + " " + sdp.AudioLevelURI + "\r\n")
	}
	b.WriteString("a=" + dir + "\r\na=rtcp-mux\r\na=rtpmap:111 opus/48000/2\r\na=fmtp:111 minptime=10;useinbandfec=1\r\n")
}

// readAnswer takes the server's ICE credentials, fingerprint and DTLS
// role from its answer.
func (l *Listener) readAnswer(raw string) error {
	var d sdp.SessionDescription
	if err := d.UnmarshalString(raw); err != nil {
		return fmt.Errorf("answer: %w", err)
	}
	attr := func(key string) string {
		for _, m := range d.MediaDescriptions {
			if v, ok := m.Attribute(key); ok {
				return v
			}
		}
		v, _ := d.Attribute(key)
		return v
	}
	l.remoteUfrag, l.remotePwd, l.remoteFP = attr("ice-ufrag"), attr("ice-pwd"), attr("fingerprint")
	switch attr("setup") {
	case "active":
		l.dtlsServer = true
	case "passive":
		l.dtlsServer = false
	default:
		return fmt.Errorf("answer: a=setup:%q", attr("setup"))
	}
	if l.remoteUfrag == "" || l.remotePwd == "" || l.remoteFP == "" {
		return errors.New("answer: no ICE credentials or fingerprint")
	}
	return nil
}

// answer answers a server offer: every m-line the server sends on is
// received, the rest are inactive; the streams of the offer's SSRCs are
// registered before the answer leaves, so that no packet finds them
// missing.
func (l *Listener) answer(raw string) (string, error) {
	var d sdp.SessionDescription
	if err := d.UnmarshalString(raw); err != nil {
		return "", err
	}
	setup := "active"
	if l.dtlsServer {
		setup = "passive"
	}
	var b strings.Builder
	var mids []string
	var body strings.Builder
	streams := append([]ssrcStream(nil), *l.ssrcs.Load()...)
	for _, m := range d.MediaDescriptions {
		mid, _ := m.Attribute("mid")
		rejected := m.MediaName.Port.Value == 0
		if !rejected {
			mids = append(mids, mid)
		}
		dir := "inactive"
		if _, send := m.Attribute("sendonly"); send {
			dir = "recvonly"
		} else if _, sr := m.Attribute("sendrecv"); sr {
			dir = "recvonly"
		}
		levelID := 0
		for _, a := range m.Attributes {
			if a.Key == "extmap" && strings.Contains(a.Value, sdp.AudioLevelURI) {
				levelID, _ = strconv.Atoi(strings.Fields(a.Value)[0])
			}
		}
		l.mline(&body, mid, levelID, setup, dir, rejected)
		if dir != "recvonly" {
			continue
		}
		ssrc, stream := mediaStream(m)
		if ssrc == 0 || stream == "" {
			continue
		}
		known := false
		for _, st := range streams {
			known = known || st.ssrc == ssrc
		}
		if !known && l.p.Stream != nil {
			streams = append(streams, ssrcStream{ssrc: ssrc, rx: l.p.Stream(stream)})
		}
	}
	l.ssrcs.Store(&streams)
	b.WriteString("v=0\r\no=- " + strconv.FormatUint(l.tiebreaker>>1, 10) + " 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n")
	b.WriteString("a=group:BUNDLE " + strings.Join(mids, " ") + "\r\na=msid-semantic: WMS\r\n")
	b.WriteString(body.String())
	return b.String(), nil
}

// mediaStream reads an m-line's SSRC and msid stream ID.
func mediaStream(m *sdp.MediaDescription) (uint32, string) {
	var ssrc uint32
	stream := ""
	for _, a := range m.Attributes {
		switch a.Key {
		case "msid":
			if f := strings.Fields(a.Value); len(f) > 0 {
				stream = f[0]
			}
		case "ssrc":
			f := strings.Fields(a.Value)
			if len(f) >= 2 {
				if n, err := strconv.ParseUint(f[0], 10, 32); err == nil {
					ssrc = uint32(n)
				}
				if v, ok := strings.CutPrefix(f[1], "msid:"); ok && stream == "" {
					stream = v
				}
			}
		}
	}
	return ssrc, stream
}

func certFingerprint(der []byte) (string, error) {
	c, err := x509.ParseCertificate(der)
	if err != nil {
		return "", err
	}
	return fingerprint.Fingerprint(c, crypto.SHA256)
}
