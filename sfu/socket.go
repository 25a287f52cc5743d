package sfu

import (
	"errors"
	"fmt"
	"net"

	"github.com/pion/ice/v4"
)

// mediaSockets are the UDP sockets all media uses: one port, and the ICE
// mux that demultiplexes every PeerConnection on it.
type mediaSockets struct {
	mux   ice.UDPMux
	addr  *net.UDPAddr   // the first socket's address; all share its port
	conns []*net.UDPConn // every socket, for the forwarding fast path
}

// listen opens the media sockets. With an address configured (or
// LoopbackOnly) it binds that one address. Otherwise it binds every address
// of every interface that is up, all on the same port, rather than one
// socket on the unspecified address: a reply must leave from the address
// the client sent to, and on a host with several addresses the kernel would
// otherwise pick the source address by route (Pion warns about exactly
// that). With port 0, the port the kernel gives the first socket is used
// for the rest.
func listen(cfg Config, logs pionLogs) (mediaSockets, error) {
	if cfg.UDPAddr != "" || cfg.LoopbackOnly {
		network := "udp"
		if cfg.LoopbackOnly {
			network = "udp4"
		}
		conn, err := net.ListenUDP(network, cfg.bindAddr())
		if err != nil {
			return mediaSockets{}, fmt.Errorf("sfu: listen udp: %w", err)
		}
		mux := ice.NewUDPMuxDefault(ice.UDPMuxParams{Logger: logs.NewLogger("udpmux"), UDPConn: conn})
		return mediaSockets{mux: mux, addr: conn.LocalAddr().(*net.UDPAddr), conns: []*net.UDPConn{conn}}, nil
	}
	ips, err := interfaceIPs()
	if err != nil || len(ips) == 0 {
		// No usable interface (a machine with only loopback): fall back to
		// the unspecified address, which still works for a single address.
		conn, lerr := net.ListenUDP("udp", &net.UDPAddr{Port: cfg.UDPPort})
		if lerr != nil {
			return mediaSockets{}, fmt.Errorf("sfu: listen udp: %w", errors.Join(lerr, err))
		}
		mux := ice.NewUDPMuxDefault(ice.UDPMuxParams{Logger: logs.NewLogger("udpmux"), UDPConn: conn})
		return mediaSockets{mux: mux, addr: conn.LocalAddr().(*net.UDPAddr), conns: []*net.UDPConn{conn}}, nil
	}
	port := cfg.UDPPort
	var muxes []ice.UDPMux
	var conns []*net.UDPConn
	var first *net.UDPAddr
	for _, ip := range ips {
		conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: ip, Port: port})
		if err != nil {
			for _, m := range muxes {
				_ = m.Close()
			}
			return mediaSockets{}, fmt.Errorf("sfu: listen udp %s: %w", ip, err)
		}
		if first == nil {
			first = conn.LocalAddr().(*net.UDPAddr)
			port = first.Port
		}
		muxes = append(muxes, ice.NewUDPMuxDefault(ice.UDPMuxParams{Logger: logs.NewLogger("udpmux"), UDPConn: conn}))
		conns = append(conns, conn)
	}
	return mediaSockets{mux: ice.NewMultiUDPMuxDefault(muxes...), addr: first, conns: conns}, nil
}

// interfaceIPs lists the addresses ICE should offer: those of interfaces
// that are up, without loopback (Pion does not offer it by default) and
// without IPv6 link-local addresses (they need a zone and reach no one
// beyond the link).
func interfaceIPs() ([]net.IP, error) {
	ifaces, err := net.Interfaces()
	if err != nil {
		return nil, err
	}
	var ips []net.IP
	for _, ifc := range ifaces {
		if ifc.Flags&net.FlagUp == 0 || ifc.Flags&net.FlagLoopback != 0 {
			continue
		}
		addrs, err := ifc.Addrs()
		if err != nil {
			continue
		}
		for _, a := range addrs {
			n, ok := a.(*net.IPNet)
			if !ok || n.IP.IsLoopback() || n.IP.IsLinkLocalUnicast() || n.IP.IsLinkLocalMulticast() {
				continue
			}
			ips = append(ips, n.IP)
		}
	}
	return ips, nil
}
