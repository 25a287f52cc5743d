package members

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"fmt"
	"strings"
)

// SessionID names one signed-in session: what a sign-in starts and a
// sign-out ends. Access tokens carry it (the sid claim) so that a revoked
// session's tokens are refused. It is not a secret.
type SessionID string

// InviteID names an invite to its creator (to list and revoke it). It is
// not the code: codes are secrets, shown once, and stored only hashed.
type InviteID string

// InviteCode is the secret that lets someone sign up.
type InviteCode string

// RefreshToken is the secret that gets a session new access tokens.
type RefreshToken string

const (
	sessionPrefix = "sid_"
	invitePrefix  = "inv_"
	codePrefix    = "pinv_"
	refreshPrefix = "prt_"
	// idBytes of randomness for IDs, as rooms' IDs have.
	idBytes = 16
	// codeBytes: 160 bits, comfortably over the 128 a guess must beat.
	codeBytes = 20
	// refreshBytes: 256 bits, as a long-lived bearer secret deserves.
	refreshBytes = 32
)

// encoding is lowercase base32 without padding, as rooms' IDs use: safe in
// URLs and paths, and a code read out or typed in survives a change of case.
var encoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

func random(prefix string, n int) string {
	b := make([]byte, n)
	// crypto/rand.Read never returns an error on supported platforms (Go 1.24+).
	_, _ = rand.Read(b)
	return prefix + encoding.EncodeToString(b)
}

// NewSessionID returns a fresh random session ID.
func NewSessionID() SessionID { return SessionID(random(sessionPrefix, idBytes)) }

// NewInviteID returns a fresh random invite ID.
func NewInviteID() InviteID { return InviteID(random(invitePrefix, idBytes)) }

func newInviteCode() InviteCode { return InviteCode(random(codePrefix, codeBytes)) }

func newRefreshToken() RefreshToken { return RefreshToken(random(refreshPrefix, refreshBytes)) }

// encodedLen is how many characters n random bytes take.
func encodedLen(n int) int { return encoding.EncodedLen(n) }

// ParseSessionID checks that s has the shape of a session ID.
func ParseSessionID(s string) (SessionID, error) {
	if !wellFormed(s, sessionPrefix, idBytes) {
		return "", fmt.Errorf("%w: not a session ID", ErrSessionNotFound)
	}
	return SessionID(s), nil
}

// ParseInviteID checks that s has the shape of an invite ID.
func ParseInviteID(s string) (InviteID, error) {
	if !wellFormed(s, invitePrefix, idBytes) {
		return "", fmt.Errorf("%w: not an invite ID", ErrInviteNotFound)
	}
	return InviteID(s), nil
}

// ParseInviteCode checks that s has the shape of an invite code. Spaces
// around it and its case are forgiven, since people paste and type codes;
// anything else wrong makes it ErrInviteInvalid before it costs a query.
func ParseInviteCode(s string) (InviteCode, error) {
	c := strings.ToLower(strings.TrimSpace(s))
	if !wellFormed(c, codePrefix, codeBytes) {
		return "", fmt.Errorf("%w: not an invite code", ErrInviteInvalid)
	}
	return InviteCode(c), nil
}

// ParseRefreshToken checks that s has the shape of a refresh token.
// Programs send these, so nothing is forgiven.
func ParseRefreshToken(s string) (RefreshToken, error) {
	if !wellFormed(s, refreshPrefix, refreshBytes) {
		return "", fmt.Errorf("%w: not a refresh token", ErrRefreshInvalid)
	}
	return RefreshToken(s), nil
}

// wellFormed reports whether s is prefix followed by exactly the encoding
// of n bytes. Only canonical encodings pass: the last character must not
// carry bits beyond the n bytes, so each secret has one spelling and one
// hash.
func wellFormed(s, prefix string, n int) bool {
	rest, ok := strings.CutPrefix(s, prefix)
	if !ok || len(rest) != encodedLen(n) {
		return false
	}
	b, err := encoding.DecodeString(rest)
	return err == nil && len(b) == n && encoding.EncodeToString(b) == rest
}

// hashSecret is what the store keeps of a code or a token: its SHA-256.
// The secrets are 160 or 256 random bits, so a fast hash is enough; a
// password hash's cost buys nothing against a search that large.
func hashSecret[T ~string](s T) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}
