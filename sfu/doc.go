// Package sfu is Parley's media plane: a selective forwarding unit for
// audio rooms. It forwards Opus RTP from speakers to listeners without ever
// decoding it, and reports who is speaking. It knows nothing of roles,
// rooms, storage or transports; who may publish is decided elsewhere and
// applied through Peer.SetPublishAllowed.
//
// # Shape
//
// One SFU per process owns a single UDP socket (an ICE UDP mux) and one
// webrtc.API. Each room gets a Router; each participant a Peer with one
// PeerConnection. A peer's upstream track, while publishing is allowed, is
// forwarded to every other peer in the router on a sendonly m-line of
// that peer's connection, whose msid stream ID is the publisher's PeerID.
//
// # Packet path
//
// One goroutine per upstream track reads RTP into a reused buffer, checks
// the publish permission (an atomic flag) on every packet, counts voice
// from the RFC 6464 audio level, and writes the packet to each downtrack
// in a copy-on-write list, rewriting SSRC, payload type and the audio-level
// extension ID for that subscriber's connection. Nothing is queued per
// listener and no lock is held while writing, so a slow or broken listener
// costs the others nothing. The path allocates nothing (see
// BenchmarkFanout).
//
// # Signaling contract
//
// The client always makes the first offer (HandleOffer). Every audio
// m-line the client creates is upstream only: answered recvonly when the
// client offers to send on it, inactive otherwise. Downstream m-lines are
// always created by the server, which then renegotiates: it calls OnOffer
// and expects HandleAnswer. Server offers are never sent before the first
// answer has been applied by the client (the connection has come up), at
// most one is outstanding, and changes made meanwhile coalesce into one
// follow-up offer. m-lines of removed tracks are reused for new ones, so
// the SDP stays as large as the most tracks ever received at once.
//
// Clients must follow three rules:
//
//   - Glare: the server is the polite side. A client whose own offer is
//     outstanding ignores a server offer that arrives meanwhile; the server
//     withdraws that offer when the client's offer reaches it, answers, and
//     offers again if the answer did not already cover its changes. The
//     signaling layer must deliver HandleOffer's answer and OnOffer's
//     offers to the client in the order they were produced: an answer is
//     returned rather than called back, so an offer made right after it
//     must be held until the answer has been sent.
//   - Trickle ICE: candidates may arrive before the answer; clients hold
//     them until they have set the remote description, as Peer does.
//   - Promotion: a listener that starts to speak either turns its first
//     (recvonly) m-line to sendrecv, or adds a new m-line for the
//     microphone; it must not send on an m-line the server created.
//
// # Lifetimes
//
// Every goroutine belongs to an SFU, Router or Peer and ends with its
// Close, which is idempotent and waits for them.
package sfu
