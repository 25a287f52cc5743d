package sfu

import (
	"testing"
	"time"

	"github.com/pion/rtcp"
)

// Once connected, a listener is served by the fast path (our SRTP and
// sendmmsg on the media socket), the Pion client decrypts what it sends,
// and it gets sender reports with the right counts.
func TestFastPathForwards(t *testing.T) {
	rm := newRoom(t, RouterParams{Logger: testLogger()})
	sp := rm.speaker("speaker")
	l := newClient(t, rm.r, "listener", roleListener, clientOpts{})
	l.connect()
	waitFor(t, "fast path", func() bool { return l.srv.transport.Load() != nil })
	tr := l.srv.transport.Load()
	if tr.conn == nil || !tr.dst.Addr().IsLoopback() || tr.keys == nil {
		t.Fatalf("transport %+v", tr)
	}
	warmUp(t, sp, l)

	// Read the RTCP the client's receiver sees: our sender reports.
	srs := make(chan *rtcp.SenderReport, 8)
	go func() {
		for _, tx := range l.pc.GetTransceivers() {
			if tx.Receiver() == nil || tx.Mid() == "0" {
				continue
			}
			buf := make([]byte, 1500)
			for {
				n, _, err := tx.Receiver().Read(buf)
				if err != nil {
					return
				}
				pkts, err := rtcp.Unmarshal(buf[:n])
				if err != nil {
					continue
				}
				for _, p := range pkts {
					if sr, ok := p.(*rtcp.SenderReport); ok {
						select {
						case srs <- sr:
						default:
						}
					}
				}
			}
		}
	}()
	deadline := time.After(waitTimeout)
	for {
		select {
		case sr := <-srs:
			if sr.PacketCount > 0 && sr.OctetCount > 0 {
				return
			}
		case <-deadline:
			t.Fatal("no sender report with counts reached the listener")
		}
		sp.send(counterPayload(0xFE, 0), 30)
	}
}
