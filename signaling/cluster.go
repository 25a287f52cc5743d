package signaling

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/parley-audio/parley/rooms"
)

// Cluster is what signaling needs of the cluster it runs in (docs/cluster.md):
// which node this is, the live nodes with their loads, and which nodes
// hold which rooms. cmd implements it over a rooms.NodeRegistry. A Server
// without one is a single node: no placement, no relays, no drain.
type Cluster interface {
	// Self is this node's ID.
	Self() rooms.NodeID
	// Nodes returns the live nodes, this one included once it has sent a
	// heartbeat.
	Nodes(ctx context.Context) ([]rooms.Node, error)
	// RoomNodes returns the nodes holding members of room.
	RoomNodes(ctx context.Context, room rooms.RoomID) ([]rooms.RoomNode, error)
	// HoldRoom records that this node holds members of room, and whether
	// audio of the room enters here; holds lapse unless renewed.
	HoldRoom(ctx context.Context, room rooms.RoomID, publishing bool) error
	// ReleaseRoom forgets that this node holds room.
	ReleaseRoom(ctx context.Context, room rooms.RoomID) error
}

// ClusterConfig tunes the cluster side of a Server.
type ClusterConfig struct {
	// Key authenticates nodes to each other (relay connections) and signs
	// the tickets of redirects. Every node of a cluster has the same one;
	// at least 32 bytes.
	Key []byte
	// Placement is the policy that picks the node to serve a join.
	Placement Placement
	// Refresh is how often the node renews its holds on rooms and looks
	// again at where each room's audio enters. Holds last four times as
	// long.
	Refresh time.Duration
	// DialTimeout bounds the connection of a relay to another node.
	DialTimeout time.Duration
}

// DefaultClusterConfig returns the documented defaults, without a key.
func DefaultClusterConfig() ClusterConfig {
	return ClusterConfig{Placement: PlaceByRoom, Refresh: time.Second, DialTimeout: 5 * time.Second}
}

// Validate reports the first invalid field.
func (c ClusterConfig) Validate() error {
	switch {
	case len(c.Key) < 32:
		return errors.New("signaling: the cluster key must be at least 32 bytes")
	case c.Refresh <= 0 || c.DialTimeout <= 0:
		return errors.New("signaling: cluster intervals must be > 0")
	}
	return c.Placement.Validate()
}

// Signed claims: the relay token that lets one node open a relay to
// another, and the ticket that lets a redirected client join the node it
// was sent to. Both are base64url(JSON) "." base64url(HMAC-SHA256), the
// MAC taken over a purpose label and the JSON, so that a token of one kind
// is never taken for the other.
const (
	purposeRelay  = "parley relay v1"
	purposeTicket = "parley ticket v1"
)

// relayClaims authorize node From to relay room's audio from node To.
type relayClaims struct {
	From rooms.NodeID `json:"from"`
	To   rooms.NodeID `json:"to"`
	Room rooms.RoomID `json:"room"`
	Exp  int64        `json:"exp"`
}

// ticketClaims let user join room at node Node without placement.
type ticketClaims struct {
	User rooms.UserID `json:"user"`
	Room rooms.RoomID `json:"room"`
	Node rooms.NodeID `json:"node"`
	Exp  int64        `json:"exp"`
}

// tokenTTL bounds relay tokens and tickets: both are used at once.
const tokenTTL = time.Minute

var errBadToken = errors.New("signaling: bad or expired token")

func sign(key []byte, purpose string, claims any) string {
	body, _ := json.Marshal(claims) // our own structs: cannot fail
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(purpose))
	mac.Write([]byte{0})
	mac.Write(body)
	return base64.RawURLEncoding.EncodeToString(body) + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// verify checks a token's MAC and decodes its claims. The caller checks
// what the claims say (expiry, names).
func verify(key []byte, purpose, token string, into any) error {
	b64, sig, ok := strings.Cut(token, ".")
	if !ok || len(token) > 2048 {
		return errBadToken
	}
	body, err := base64.RawURLEncoding.DecodeString(b64)
	if err != nil {
		return errBadToken
	}
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil {
		return errBadToken
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(purpose))
	mac.Write([]byte{0})
	mac.Write(body)
	if !hmac.Equal(got, mac.Sum(nil)) {
		return errBadToken
	}
	if err := json.Unmarshal(body, into); err != nil {
		return fmt.Errorf("%w: %w", errBadToken, err)
	}
	return nil
}

func expired(exp int64, now time.Time) bool { return now.Unix() > exp }

// signalURL is the signaling WebSocket of the node at base.
func signalURL(base string) string { return wsURL(base) + "/api/v1/signal" }

// relayURL is the relay WebSocket of the node at base.
func relayURL(base string) string { return wsURL(base) + "/internal/v1/relay" }

func wsURL(base string) string {
	base = strings.TrimRight(base, "/")
	if rest, ok := strings.CutPrefix(base, "https://"); ok {
		return "wss://" + rest
	}
	return "ws://" + strings.TrimPrefix(base, "http://")
}
