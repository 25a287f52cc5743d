package lean

import (
	"net"
	"net/netip"
	"time"

	"github.com/pion/transport/v4/deadline"
)

// packetConn is the net.PacketConn pion/dtls runs on: datagrams the
// socket reader demultiplexed as DTLS come in through the listener's
// channel, and writes leave the shared socket from the listener's address.
type packetConn struct {
	l      *Listener
	remote netip.AddrPort
	rd     *deadline.Deadline
}

func newDeadline() *deadline.Deadline { return deadline.New() }

func udpAddr(ap netip.AddrPort) *net.UDPAddr { return net.UDPAddrFromAddrPort(ap) }

func (c *packetConn) ReadFrom(p []byte) (int, net.Addr, error) {
	select {
	case b := <-c.l.dtlsIn:
		return copy(p, b), udpAddr(c.remote), nil
	case <-c.rd.Done():
		return 0, nil, errTimeout{}
	case <-c.l.quit:
		return 0, nil, net.ErrClosed
	}
}

func (c *packetConn) WriteTo(p []byte, _ net.Addr) (int, error) {
	if err := c.l.sock.send(p, c.l.local.Addr(), c.remote); err != nil {
		return 0, err
	}
	return len(p), nil
}

func (c *packetConn) Close() error                      { return nil }
func (c *packetConn) LocalAddr() net.Addr               { return udpAddr(c.l.local) }
func (c *packetConn) SetDeadline(t time.Time) error     { c.rd.Set(t); return nil }
func (c *packetConn) SetReadDeadline(t time.Time) error { c.rd.Set(t); return nil }
func (c *packetConn) SetWriteDeadline(time.Time) error  { return nil }

// errTimeout is the net.Error of a read past its deadline.
type errTimeout struct{}

func (errTimeout) Error() string   { return "lean: read deadline exceeded" }
func (errTimeout) Timeout() bool   { return true }
func (errTimeout) Temporary() bool { return true }
