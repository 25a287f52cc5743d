package sfu

import "sync/atomic"

// DropReason says why a packet was not forwarded.
type DropReason string

// Drop reasons counted in Stats.Drops.
const (
	// DropNotPermitted: the sending peer may not publish
	// (Peer.SetPublishAllowed(false)); counted once per upstream packet.
	DropNotPermitted DropReason = "not_permitted"
	// DropWriteError: writing to one subscriber's connection failed;
	// counted once per failed write.
	DropWriteError DropReason = "write_error"
	// DropNotBound: the subscriber's m-line for this track has not finished
	// negotiation yet; counted once per skipped write.
	DropNotBound DropReason = "not_bound"
	// DropMalformed: the upstream packet is not valid RTP.
	DropMalformed DropReason = "malformed"
	// DropNotLoudest: the room forwards only its loudest speakers
	// (loudest-N) and this one was not among them; counted once per
	// upstream packet.
	DropNotLoudest DropReason = "not_loudest"
)

// dropIndex maps each reason to its counter; the order is that of
// dropReasons.
type dropIndex int

const (
	dropNotPermitted dropIndex = iota
	dropWriteError
	dropNotBound
	dropMalformed
	dropNotLoudest
	numDropReasons
)

var dropReasons = [numDropReasons]DropReason{
	dropNotPermitted: DropNotPermitted,
	dropWriteError:   DropWriteError,
	dropNotBound:     DropNotBound,
	dropMalformed:    DropMalformed,
	dropNotLoudest:   DropNotLoudest,
}

// Stats is a snapshot of process-wide counters.
type Stats struct {
	PacketsIn  uint64 // upstream RTP packets read from publishers
	BytesIn    uint64 // their size, RTP header included
	PacketsOut uint64 // RTP packets written to subscribers
	BytesOut   uint64 // payload bytes written to subscribers
	Drops      map[DropReason]uint64
	Peers      int // live peers over all routers
	// PublishedTracks is the number of upstream tracks currently forwarded.
	PublishedTracks int
}

// counters are the SFU-wide atomics behind Stats. The packet path adds to
// them once per upstream packet (not once per subscriber) so that fan-out
// goroutines do not contend on one cache line per write.
type counters struct {
	packetsIn, bytesIn   atomic.Uint64
	packetsOut, bytesOut atomic.Uint64
	drops                [numDropReasons]atomic.Uint64
	peers                atomic.Int64
	published            atomic.Int64
}

func (c *counters) snapshot() Stats {
	s := Stats{
		PacketsIn:       c.packetsIn.Load(),
		BytesIn:         c.bytesIn.Load(),
		PacketsOut:      c.packetsOut.Load(),
		BytesOut:        c.bytesOut.Load(),
		Drops:           make(map[DropReason]uint64, numDropReasons),
		Peers:           int(c.peers.Load()),
		PublishedTracks: int(c.published.Load()),
	}
	for i, r := range dropReasons {
		s.Drops[r] = c.drops[i].Load()
	}
	return s
}

// PeerStats is a snapshot of one peer's counters.
type PeerStats struct {
	// Upstream: what this peer sent to the server.
	PacketsIn           uint64 // RTP packets received from this peer
	BytesIn             uint64
	PacketsForwarded    uint64 // of those, packets handed to the fan-out (publishing was allowed)
	DroppedNotPermitted uint64 // of those, packets dropped because publishing was not allowed
	// Downstream: what the server sent to this peer.
	PacketsSent uint64
	BytesSent   uint64 // payload bytes
	WriteErrors uint64
	// Subscriptions is the number of other peers' tracks currently routed
	// to this peer (negotiated or not).
	Subscriptions int
	Publishing    bool // this peer's track is currently published
}

// peerCounters back PeerStats. Upstream counters are written only by the
// peer's own forwarding goroutine; downstream ones by the goroutines of the
// tracks it subscribes to.
type peerCounters struct {
	packetsIn, bytesIn    atomic.Uint64
	forwarded             atomic.Uint64
	notPermitted          atomic.Uint64
	packetsSent, bytesOut atomic.Uint64
	writeErrors           atomic.Uint64
	subscriptions         atomic.Int64
}
