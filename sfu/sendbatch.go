package sfu

import (
	"net"
	"net/netip"
	"time"

	"github.com/pion/rtp"

	"github.com/parley-audio/parley/sfu/udpbatch"
)

// srtpOverhead is room for what SRTP adds to a packet: the
// authentication tag (16 bytes for AES-GCM, 10 for AES-CM with
// HMAC-SHA1-80).
const srtpOverhead = 16

// sendBatch collects one upstream packet's encrypted copies for the
// listeners on the fast path and sends them with sendmmsg. It belongs to
// one forwarding goroutine and is reused for every packet, so the fan-out
// allocates nothing.
type sendBatch struct {
	conns map[*net.UDPConn]*udpbatch.Conn // one batcher per media socket
	cur   *net.UDPConn                    // the socket of the datagrams collected so far
	n     int
	msgs  [udpbatch.MaxBatch]udpbatch.Message
	bufs  [udpbatch.MaxBatch][readBufferSize + srtpOverhead]byte
	hdr   rtp.Header // scratch for EncryptRTP, which parses what it encrypts

	failed uint64 // datagrams the kernel refused, since the last take
	now    int64  // unix nanoseconds when the current packet came in
}

func newSendBatch() *sendBatch {
	return &sendBatch{conns: make(map[*net.UDPConn]*udpbatch.Conn, 1)}
}

// slot returns the buffer for the next datagram on conn, sending what was
// collected first if the batch is full or was for another socket.
func (b *sendBatch) slot(conn *net.UDPConn) []byte {
	if b.n == len(b.msgs) || (b.n > 0 && conn != b.cur) {
		b.flush()
	}
	b.cur = conn
	return b.bufs[b.n][:]
}

// add commits the datagram written to the last slot.
func (b *sendBatch) add(n int, dst netip.AddrPort) {
	b.msgs[b.n] = udpbatch.Message{Buf: b.bufs[b.n][:n], Addr: dst}
	b.n++
}

// flush sends the collected datagrams.
func (b *sendBatch) flush() {
	if b.n == 0 {
		return
	}
	bc := b.conns[b.cur]
	if bc == nil {
		var err error
		if bc, err = udpbatch.New(b.cur); err != nil {
			b.failed += uint64(b.n)
			b.n = 0
			return
		}
		b.conns[b.cur] = bc
	}
	sent, _ := bc.Send(b.msgs[:b.n])
	b.failed += uint64(b.n - sent)
	b.n = 0
}

// nanotime is the wall clock in unix nanoseconds, for sender reports.
func nanotime() int64 { return time.Now().UnixNano() }
