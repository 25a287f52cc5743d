package sfu

import "errors"

// ErrClosed is returned by operations on an SFU, Router or Peer that has
// been closed.
var ErrClosed = errors.New("sfu: closed")

// ErrPeerExists is returned by Router.NewPeer when the router already has a
// peer with the same ID.
var ErrPeerExists = errors.New("sfu: peer already exists")

// ErrInvalidPeerID is returned by Router.NewPeer for an ID that cannot be
// used as an SDP msid stream ID (empty, longer than 64 bytes, or containing
// characters other than RFC 4566 token characters).
var ErrInvalidPeerID = errors.New("sfu: invalid peer id")

// ErrInvalidSDP is returned by Peer.HandleOffer and Peer.HandleAnswer when
// the SDP cannot be parsed, is of the wrong type (an answer given as an offer
// or the reverse), has no audio m-line, or is rejected by the WebRTC stack.
var ErrInvalidSDP = errors.New("sfu: invalid sdp")

// ErrNoPendingOffer is returned by Peer.HandleAnswer when the server has no
// offer outstanding for that peer.
var ErrNoPendingOffer = errors.New("sfu: no pending offer")

// ErrInvalidCandidate is returned by Peer.AddICECandidate for a candidate
// that cannot be parsed or that the WebRTC stack rejects.
var ErrInvalidCandidate = errors.New("sfu: invalid ice candidate")

// ErrInvalidConfig is returned by Config.Validate and New for a
// configuration that cannot work.
var ErrInvalidConfig = errors.New("sfu: invalid config")

// errNotBound is returned internally when a packet is written to a downtrack
// whose sender has not finished negotiation yet. It is counted as a drop,
// never returned to callers.
var errNotBound = errors.New("sfu: downtrack not bound")

// errTooLarge is returned internally for a packet that would not fit a
// datagram once encrypted; it is counted as a write error.
var errTooLarge = errors.New("sfu: packet too large")
