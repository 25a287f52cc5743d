// Package lean is parley bench's listener: a receive-only client of
// Parley's protocol that costs the load generator a few microseconds per
// packet instead of a Pion PeerConnection's sixteen.
//
// To the server it is an ordinary client. It signs in and joins over the
// REST API and the signaling WebSocket, offers one recvonly audio m-line
// with trickle ICE, answers the server's offers, runs ICE as the
// controlling agent (STUN binding requests with USE-CANDIDATE, and answers
// to the server's checks), DTLS with pion/dtls in the role the server's
// answer gives it, and derives SRTP keys from the DTLS exporter.
//
// What makes it lean is the receive path. Listeners share a few UDP
// sockets bound to 0.0.0.0: each listener uses its own loopback source
// address (127.1.x.y) on its socket's port, and IP_PKTINFO tells which
// listener a datagram is for. One goroutine per socket reads batches of
// datagrams with recvmmsg, demultiplexes STUN, DTLS and SRTP (RFC 7983),
// and decrypts SRTP with the listener's pion/srtp context into a reused
// buffer. Nothing on that path allocates.
//
// Listeners only receive: they send no RTP, and no RTCP receiver reports
// (the server's sender reports are read and dropped).
package lean

import (
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/dtls/v3/pkg/crypto/fingerprint"
	"github.com/pion/dtls/v3/pkg/crypto/selfsign"
	"github.com/pion/rtp"

	"github.com/parley-audio/parley/sfu/udpbatch"
)

// maxPerSocket is how many listeners one socket serves: the addresses
// 127.1.0.1 to 127.1.255.254, less those ending in .0 or .255.
const maxPerSocket = 256 * 254

// Receiver gets the packets of one speaker's stream. Observe is called on
// a socket's reader goroutine and must not block.
type Receiver interface {
	Observe(seq uint16, ts uint32, at time.Time)
}

// Pool is the shared sockets and DTLS certificate of many listeners.
type Pool struct {
	cert   tls.Certificate
	fp     string // "sha-256 AB:CD:..." of cert
	socks  []*socket
	next   atomic.Uint64
	closed atomic.Bool
	wg     sync.WaitGroup // socket readers
}

// NewPool opens n shared sockets and starts their readers.
func NewPool(n int) (*Pool, error) {
	cert, err := selfsign.GenerateSelfSigned()
	if err != nil {
		return nil, err
	}
	x, err := x509.ParseCertificate(cert.Certificate[0])
	if err != nil {
		return nil, err
	}
	fp, err := fingerprint.Fingerprint(x, crypto.SHA256)
	if err != nil {
		return nil, err
	}
	p := &Pool{cert: cert, fp: "sha-256 " + fp}
	for range n {
		s, err := openSocket()
		if err != nil {
			_ = p.Close()
			return nil, err
		}
		p.socks = append(p.socks, s)
		p.wg.Add(1)
		go func() { defer p.wg.Done(); s.read() }()
	}
	return p, nil
}

// Close closes the sockets and waits for their readers. Listeners must
// be closed first.
func (p *Pool) Close() error {
	if p.closed.Swap(true) {
		return nil
	}
	var errs []error
	for _, s := range p.socks {
		errs = append(errs, s.uc.Close())
	}
	p.wg.Wait()
	return errors.Join(errs...)
}

// place picks a socket and a free address on it for a new listener.
func (p *Pool) place(l *Listener) error {
	for range len(p.socks) * 2 {
		k := p.next.Add(1)
		s := p.socks[k%uint64(len(p.socks))]
		if s.claim(l) {
			return nil
		}
	}
	return errors.New("lean: no free listener address")
}

// socket is one shared UDP socket and the listeners on it, by slot.
type socket struct {
	uc    *net.UDPConn
	bc    *udpbatch.Conn
	port  uint16
	slots [maxPerSocket]atomic.Pointer[Listener]
	free  atomic.Int64 // next slot to try

	sendMu sync.Mutex // guards the batch conn's send side
	out    [1]udpbatch.Message

	// Owned by the reader goroutine.
	hdr     rtp.Header
	scratch [1500]byte
}

func openSocket() (*socket, error) {
	uc, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4zero})
	if err != nil {
		return nil, err
	}
	bc, err := udpbatch.New(uc)
	if err == nil {
		err = bc.EnablePktInfo()
	}
	if err == nil {
		// A second of 150 packets a second for a few hundred listeners.
		err = bc.SetBuffers(8<<20, 1<<20)
	}
	if err != nil {
		_ = uc.Close()
		return nil, fmt.Errorf("lean: socket: %w", err)
	}
	return &socket{uc: uc, bc: bc, port: uint16(uc.LocalAddr().(*net.UDPAddr).Port)}, nil
}

// claim gives l a free slot of s. l's address is set before the slot
// publishes it: from then on the reader goroutine may hand it datagrams,
// and reads l.local to answer them. Until the CAS succeeds nobody else
// sees l, so setting the fields for a slot that turns out taken is safe.
func (s *socket) claim(l *Listener) bool {
	for range maxPerSocket {
		i := int(s.free.Add(1)-1) % maxPerSocket
		hi, lo := byte(i/254), byte(i%254+1)
		l.sock, l.slot = s, i
		l.local = netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 1, hi, lo}), s.port)
		if s.slots[i].CompareAndSwap(nil, l) {
			return true
		}
	}
	return false
}

func (s *socket) release(i int, l *Listener) { s.slots[i].CompareAndSwap(l, nil) }

// send sends one datagram from a listener's address. Control traffic
// only (STUN, DTLS): a few packets per listener.
func (s *socket) send(b []byte, from netip.Addr, to netip.AddrPort) error {
	s.sendMu.Lock()
	defer s.sendMu.Unlock()
	s.out[0] = udpbatch.Message{Buf: b, Addr: to, Src: from}
	_, err := s.bc.Send(s.out[:])
	s.out[0] = udpbatch.Message{}
	return err
}

// read is the socket's reader: batches of datagrams, each handed to the
// listener whose address it was sent to.
func (s *socket) read() {
	ms := make([]udpbatch.Message, udpbatch.MaxBatch)
	for i := range ms {
		ms[i].Buf = make([]byte, 1500)
	}
	for {
		n, err := s.bc.Recv(ms)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		now := time.Now()
		for i := range n {
			m := &ms[i]
			d := m.Dst.As4()
			if d[0] != 127 || d[1] != 1 || d[3] == 0 || d[3] == 255 {
				continue
			}
			slot := int(d[2])*254 + int(d[3]) - 1
			if l := s.slots[slot].Load(); l != nil {
				l.handle(s, m.Buf[:m.N], m.Addr, now)
			}
		}
	}
}
