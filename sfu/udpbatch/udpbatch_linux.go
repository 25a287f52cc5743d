//go:build linux

package udpbatch

import (
	"errors"
	"net"
	"net/netip"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// mmsghdr is struct mmsghdr: a msghdr and the byte count the kernel sets.
type mmsghdr struct {
	hdr unix.Msghdr
	n   uint32
	_   [4]byte
}

// ctlSize holds one IP_PKTINFO control message.
const ctlSize = 64

// batch is the kernel-facing memory of one direction, reused by every
// call so that a call allocates nothing.
type batch struct {
	hdrs  [MaxBatch]mmsghdr
	iov   [MaxBatch]unix.Iovec
	names [MaxBatch]unix.RawSockaddrInet4
	ctl   [MaxBatch][ctlSize]byte

	count int   // messages offered to the current call
	done  int   // messages the call handled
	err   error // its error
	fn    func(fd uintptr) bool
}

type sys struct {
	rc   syscall.RawConn
	recv batch
	send batch
}

func (c *Conn) init(uc *net.UDPConn) error {
	rc, err := uc.SyscallConn()
	if err != nil {
		return err
	}
	c.rc = rc
	// The closures are built once: a func value made per call would be
	// an allocation per call.
	c.recv.fn = func(fd uintptr) bool {
		n, _, e := unix.Syscall6(unix.SYS_RECVMMSG, fd, uintptr(unsafe.Pointer(&c.recv.hdrs[0])),
			uintptr(c.recv.count), 0, 0, 0)
		if e == unix.EAGAIN || e == unix.EINTR {
			return false // wait for the socket to be readable
		}
		c.recv.done, c.recv.err = int(n), nil
		if e != 0 {
			c.recv.done, c.recv.err = 0, e
		}
		return true
	}
	c.send.fn = func(fd uintptr) bool {
		n, _, e := unix.Syscall6(unix.SYS_SENDMMSG, fd, uintptr(unsafe.Pointer(&c.send.hdrs[c.send.done])),
			uintptr(c.send.count-c.send.done), 0, 0, 0)
		switch {
		case e == unix.EAGAIN || e == unix.EINTR:
			return false // the send buffer is full: wait until writable
		case e != 0:
			c.send.err = e
			return true
		}
		c.send.done += int(n)
		return true
	}
	return nil
}

// EnablePktInfo turns on IP_PKTINFO: Recv reports each datagram's local
// destination address, and Send honours Message.Src.
func (c *Conn) EnablePktInfo() error {
	var serr error
	err := c.rc.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.IPPROTO_IP, unix.IP_PKTINFO, 1)
	})
	return errors.Join(err, serr)
}

// SetBuffers sets the socket's kernel receive and send buffer sizes
// (bytes); a burst to a thousand listeners needs more than the default.
func (c *Conn) SetBuffers(rcv, snd int) error {
	return errors.Join(c.uc.SetReadBuffer(rcv), c.uc.SetWriteBuffer(snd))
}

// Recv blocks until at least one datagram has arrived and fills up to
// len(ms) (at most MaxBatch) messages, returning how many. It allocates
// nothing.
func (c *Conn) Recv(ms []Message) (int, error) {
	b := &c.recv
	b.count = min(len(ms), MaxBatch)
	for i := range b.count {
		m := &ms[i]
		b.iov[i].Base = unsafe.SliceData(m.Buf)
		b.iov[i].SetLen(len(m.Buf))
		h := &b.hdrs[i].hdr
		*h = unix.Msghdr{
			Name:    (*byte)(unsafe.Pointer(&b.names[i])),
			Namelen: unix.SizeofSockaddrInet4,
			Iov:     &b.iov[i],
			Control: &b.ctl[i][0],
		}
		h.SetIovlen(1)
		h.SetControllen(ctlSize)
	}
	if err := c.rc.Read(b.fn); err != nil {
		return 0, err
	}
	if b.err != nil {
		return 0, b.err
	}
	for i := range b.done {
		m, h := &ms[i], &b.hdrs[i]
		m.N = int(h.n)
		sa := &b.names[i]
		port := uint16(sa.Port>>8 | sa.Port<<8) // network byte order
		m.Addr = netip.AddrPortFrom(netip.AddrFrom4(sa.Addr), port)
		m.Dst = pktInfoDst(b.ctl[i][:h.hdr.Controllen])
	}
	return b.done, nil
}

// pktInfoDst finds IP_PKTINFO's destination address in control messages.
func pktInfoDst(ctl []byte) netip.Addr {
	for len(ctl) >= unix.SizeofCmsghdr {
		h := (*unix.Cmsghdr)(unsafe.Pointer(&ctl[0]))
		if h.Len < unix.SizeofCmsghdr || int(h.Len) > len(ctl) {
			break
		}
		if h.Level == unix.IPPROTO_IP && h.Type == unix.IP_PKTINFO && int(h.Len) >= unix.CmsgLen(unix.SizeofInet4Pktinfo) {
			pi := (*unix.Inet4Pktinfo)(unsafe.Pointer(&ctl[unix.CmsgLen(0)]))
			return netip.AddrFrom4(pi.Addr)
		}
		ctl = ctl[min(len(ctl), unix.CmsgSpace(int(h.Len)-unix.CmsgLen(0))):]
	}
	return netip.Addr{}
}

// Send sends len(ms) datagrams (any number: they go in batches of
// MaxBatch) and returns how many the kernel took. A datagram the kernel
// refuses (for example after an ICMP error for its destination) is
// skipped and the rest still go; the first such error is returned. It
// allocates nothing.
func (c *Conn) Send(ms []Message) (int, error) {
	sent := 0
	var first error
	for len(ms) > 0 {
		n := min(len(ms), MaxBatch)
		s, err := c.sendBatch(ms[:n])
		sent += s
		if first == nil {
			first = err
		}
		ms = ms[n:]
	}
	return sent, first
}

func (c *Conn) sendBatch(ms []Message) (int, error) {
	b := &c.send
	b.count = len(ms)
	for i := range ms {
		m := &ms[i]
		if !m.Addr.Addr().Is4() {
			return 0, ErrNotIPv4
		}
		b.iov[i].Base = unsafe.SliceData(m.Buf)
		b.iov[i].SetLen(len(m.Buf))
		sa := &b.names[i]
		sa.Family = unix.AF_INET
		p := m.Addr.Port()
		sa.Port = p>>8 | p<<8
		sa.Addr = m.Addr.Addr().As4()
		h := &b.hdrs[i].hdr
		*h = unix.Msghdr{
			Name:    (*byte)(unsafe.Pointer(sa)),
			Namelen: unix.SizeofSockaddrInet4,
			Iov:     &b.iov[i],
		}
		h.SetIovlen(1)
		if m.Src.Is4() {
			cm := (*unix.Cmsghdr)(unsafe.Pointer(&b.ctl[i][0]))
			cm.Level, cm.Type = unix.IPPROTO_IP, unix.IP_PKTINFO
			cm.SetLen(unix.CmsgLen(unix.SizeofInet4Pktinfo))
			pi := (*unix.Inet4Pktinfo)(unsafe.Pointer(&b.ctl[i][unix.CmsgLen(0)]))
			*pi = unix.Inet4Pktinfo{Spec_dst: m.Src.As4()}
			h.Control = &b.ctl[i][0]
			h.SetControllen(unix.CmsgSpace(unix.SizeofInet4Pktinfo))
		}
	}
	b.done = 0
	skipped := 0
	var first error
	for b.done < b.count {
		b.err = nil
		if err := c.rc.Write(b.fn); err != nil {
			return b.done - skipped, err
		}
		if b.err != nil {
			// The message at b.done failed: skip it, keep the rest.
			if first == nil {
				first = b.err
			}
			b.done++
			skipped++
		}
	}
	return b.done - skipped, first
}
