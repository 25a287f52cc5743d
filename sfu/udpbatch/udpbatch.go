// Package udpbatch sends and receives many UDP datagrams per system call
// (sendmmsg and recvmmsg on Linux) on an IPv4 *net.UDPConn, without
// allocating per datagram. It is the I/O under the SFU's forwarding fast
// path and under parley bench's lean listeners: at tens of thousands of
// packets a second, the per-call cost of the kernel boundary and the Go
// netpoller is most of the cost of a small packet.
//
// With IP_PKTINFO (see Conn.EnablePktInfo), one socket bound to 0.0.0.0
// can carry traffic for many local addresses: each received datagram
// reports the address it was sent to, and each sent one can choose its
// source address.
//
// A Conn is not safe for concurrent use by several readers or several
// writers; one reader and one writer at a time are fine.
package udpbatch

import (
	"errors"
	"net"
	"net/netip"
)

// MaxBatch is the largest batch one call handles.
const MaxBatch = 64

// Message is one datagram. For Send: Buf is the payload, Addr the
// destination, Src (if valid) the local source address. For Recv: Buf is
// the buffer to fill (its length is the capacity offered), and on return
// N, Addr and, with IP_PKTINFO, Dst are set.
type Message struct {
	Buf  []byte
	N    int
	Addr netip.AddrPort
	Src  netip.Addr // Send: the source address (needs IP_PKTINFO); zero = the kernel's choice
	Dst  netip.Addr // Recv: the local address the datagram was sent to (needs IP_PKTINFO)
}

// ErrNotIPv4 is returned for a destination that is not an IPv4 address.
var ErrNotIPv4 = errors.New("udpbatch: not an IPv4 address")

// Conn batches I/O on one UDP socket. Create it with New.
type Conn struct {
	uc *net.UDPConn
	sys
}

// New wraps an IPv4 UDP socket. The caller keeps owning uc (and closes it).
func New(uc *net.UDPConn) (*Conn, error) {
	c := &Conn{uc: uc}
	if err := c.init(uc); err != nil {
		return nil, err
	}
	return c, nil
}
