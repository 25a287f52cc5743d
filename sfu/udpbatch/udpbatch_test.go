package udpbatch

import (
	"bytes"
	"net"
	"net/netip"
	"testing"
)

func listen(t *testing.T, addr string) (*net.UDPConn, *Conn) {
	t.Helper()
	uc, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.MustParseAddrPort(addr)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = uc.Close() })
	c, err := New(uc)
	if err != nil {
		t.Fatal(err)
	}
	return uc, c
}

// Datagrams sent from chosen loopback source addresses arrive with their
// source and destination addresses, in one batch, and nothing allocates.
func TestSendRecvWithPktInfo(t *testing.T) {
	ruc, r := listen(t, "0.0.0.0:0")
	if err := r.EnablePktInfo(); err != nil {
		t.Fatal(err)
	}
	suc, s := listen(t, "0.0.0.0:0")
	if err := s.EnablePktInfo(); err != nil {
		t.Fatal(err)
	}
	port := uint16(ruc.LocalAddr().(*net.UDPAddr).Port)
	sport := uint16(suc.LocalAddr().(*net.UDPAddr).Port)
	const n = 100
	out := make([]Message, n)
	for i := range out {
		out[i] = Message{
			Buf:  []byte{byte(i), 1, 2, 3},
			Addr: netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 0, 1, byte(i + 1)}), port),
			Src:  netip.AddrFrom4([4]byte{127, 0, 2, byte(i + 1)}),
		}
	}
	if got, err := s.Send(out); err != nil || got != n {
		t.Fatalf("Send = %d, %v", got, err)
	}
	in := make([]Message, MaxBatch)
	for i := range in {
		in[i].Buf = make([]byte, 1500)
	}
	seen := 0
	for seen < n {
		k, err := r.Recv(in)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range in[:k] {
			i := int(m.Buf[0])
			if !bytes.Equal(m.Buf[:m.N], []byte{byte(i), 1, 2, 3}) {
				t.Fatalf("datagram %d: %v", i, m.Buf[:m.N])
			}
			if want := netip.AddrFrom4([4]byte{127, 0, 1, byte(i + 1)}); m.Dst != want {
				t.Fatalf("datagram %d: dst %v, want %v", i, m.Dst, want)
			}
			if want := netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 0, 2, byte(i + 1)}), sport); m.Addr != want {
				t.Fatalf("datagram %d: from %v, want %v", i, m.Addr, want)
			}
			seen++
		}
	}
	allocs := testing.AllocsPerRun(50, func() {
		if _, err := s.Send(out[:10]); err != nil {
			t.Fatal(err)
		}
		for got := 0; got < 10; {
			k, err := r.Recv(in)
			if err != nil {
				t.Fatal(err)
			}
			got += k
		}
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per send and receive of 10 datagrams", allocs)
	}
}
