package sfu

import (
	"errors"
	"net"
	"net/netip"
	"reflect"

	"github.com/pion/dtls/v3"
	"github.com/pion/sdp/v3"
	"github.com/pion/srtp/v3"
	"github.com/pion/webrtc/v4"
)

// The forwarding fast path. Pion's write path for one RTP packet goes
// through the interceptor chain, an SRTP session that looks the stream up
// in a map, the ICE connection and the UDP mux, and ends in one sendto per
// packet per listener: 12-13 us of CPU per forwarded packet on our
// machines. Once a peer's DTLS transport is up, we instead encrypt each
// downtrack's packets with our own pion/srtp context (keys from the same
// DTLS exporter Pion uses) and hand a source's whole fan-out to the kernel
// in sendmmsg batches, on the same socket and to the same address Pion
// would use. Pion keeps everything else: ICE (and its keepalives), DTLS,
// SRTCP both ways, the upstream tracks.

// srtpKeys are the server's outbound SRTP master key and salt of one
// peer's connection.
type srtpKeys struct {
	profile srtp.ProtectionProfile
	key     []byte
	salt    []byte
}

// peerTransport is where and how a peer's downtracks are sent on the fast
// path. It is immutable; a route change stores a new one.
type peerTransport struct {
	keys *srtpKeys
	conn *net.UDPConn   // the media socket of the selected local candidate
	dst  netip.AddrPort // the selected remote candidate
}

var errNoFastPath = errors.New("sfu: no fast path for this connection")

// setupFastPath runs on the op goroutine once the connection is up: it
// derives the outbound SRTP keys and the route. If anything is missing
// the peer stays on Pion's write path, which works, only slower.
func (p *Peer) setupFastPath() {
	if p.sfu == nil || len(p.sfu.socks) == 0 {
		return
	}
	dt := p.pc.SCTP().Transport()
	if p.neg.keys == nil {
		keys, err := p.exportKeys(dt)
		if err != nil {
			p.log.Debug("forwarding fast path off", "err", err)
			return
		}
		p.neg.keys = keys
		ice := dt.ICETransport()
		ice.OnSelectedCandidatePairChange(func(*webrtc.ICECandidatePair) {
			p.ops.push(p.updateRoute)
		})
	}
	p.updateRoute()
}

// updateRoute points the fast path at the selected candidate pair. It runs
// on the op goroutine.
func (p *Peer) updateRoute() {
	if p.neg.keys == nil {
		return
	}
	pair, err := p.pc.SCTP().Transport().ICETransport().GetSelectedCandidatePair()
	if err != nil || pair == nil {
		return
	}
	remote, err := netip.ParseAddr(pair.Remote.Address)
	if err != nil || !remote.Unmap().Is4() {
		// udpbatch speaks IPv4; IPv6 listeners stay on Pion's path.
		p.transport.Store(nil)
		return
	}
	conn := p.sfu.socketFor(pair.Local.Address)
	if conn == nil {
		p.transport.Store(nil)
		return
	}
	p.transport.Store(&peerTransport{
		keys: p.neg.keys,
		conn: conn,
		dst:  netip.AddrPortFrom(remote.Unmap(), pair.Remote.Port),
	})
}

// socketFor returns the media socket bound to a local candidate address:
// the one socket when there is only one.
func (s *SFU) socketFor(local string) *net.UDPConn {
	if len(s.socks) == 1 {
		return s.socks[0]
	}
	ip, err := netip.ParseAddr(local)
	if err != nil {
		return nil
	}
	for _, c := range s.socks {
		if a, ok := netip.AddrFromSlice(c.LocalAddr().(*net.UDPAddr).IP); ok && a.Unmap() == ip.Unmap() {
			return c
		}
	}
	return nil
}

// exportKeys derives the server's outbound SRTP keys from the peer's DTLS
// connection, as Pion's DTLSTransport.startSRTP does.
func (p *Peer) exportKeys(dt *webrtc.DTLSTransport) (*srtpKeys, error) {
	// State takes the transport's lock, which completeStart held while it
	// stored the connection: what we read next is complete.
	if dt.State() != webrtc.DTLSTransportStateConnected {
		return nil, errNoFastPath
	}
	conn := dtlsConnOf(dt)
	if conn == nil {
		return nil, errNoFastPath
	}
	prof, ok := conn.SelectedSRTPProtectionProfile()
	if !ok {
		return nil, errNoFastPath
	}
	state, ok := conn.ConnectionState()
	if !ok {
		return nil, errNoFastPath
	}
	client, ok := p.isDTLSClient()
	if !ok {
		return nil, errNoFastPath
	}
	cfg := srtp.Config{Profile: srtp.ProtectionProfile(prof)}
	if err := cfg.ExtractSessionKeysFromDTLS(&state, client); err != nil {
		return nil, err
	}
	return &srtpKeys{profile: cfg.Profile, key: cfg.Keys.LocalMasterKey, salt: cfg.Keys.LocalMasterSalt}, nil
}

// dtlsConnOf reaches the DTLS connection inside Pion's DTLSTransport,
// which Pion does not expose. Our Pion version is pinned (go.mod), and
// TestFastPathForwards fails if a new one moves the field; then the fast
// path stays off rather than breaking anything.
func dtlsConnOf(dt *webrtc.DTLSTransport) *dtls.Conn {
	v := reflect.ValueOf(dt).Elem().FieldByName("conn")
	if !v.IsValid() || v.Type() != reflect.TypeFor[*dtls.Conn]() {
		return nil
	}
	return (*dtls.Conn)(v.UnsafePointer())
}

// isDTLSClient tells our DTLS role from the negotiated a=setup: an answer
// of ours says it; if our current description is an offer (actpass), the
// client's answer says the opposite.
func (p *Peer) isDTLSClient() (client, ok bool) {
	setup := func(d *webrtc.SessionDescription) string {
		if d == nil {
			return ""
		}
		parsed, err := parseDescription(d)
		if err != nil {
			return ""
		}
		return setupOf(parsed)
	}
	switch setup(p.pc.CurrentLocalDescription()) {
	case sdp.ConnectionRoleActive.String():
		return true, true
	case sdp.ConnectionRolePassive.String():
		return false, true
	}
	switch setup(p.pc.CurrentRemoteDescription()) {
	case sdp.ConnectionRoleActive.String():
		return false, true
	case sdp.ConnectionRolePassive.String():
		return true, true
	}
	return false, false
}
