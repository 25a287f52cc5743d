package api

import (
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/parley-audio/parley/rooms"
)

// Token errors. Verify returns one of them; writeError maps them to 401.
var (
	// ErrTokenExpired means the token was ours and valid, but has expired.
	ErrTokenExpired = errors.New("token expired")
	// ErrTokenInvalid means the token is malformed, forged, signed with
	// another algorithm or key, or lacks a claim Parley needs.
	ErrTokenInvalid = errors.New("token invalid")
)

// tokenIssuer is the iss claim of every token, so that a token minted for
// another service that happens to share the secret is refused.
const tokenIssuer = "parley"

// MinSecretLen is the shortest HS256 secret NewTokens accepts: RFC 7518
// §3.2 requires a key at least as long as the hash output, 256 bits.
const MinSecretLen = 32

// Principal is who a verified token says the caller is.
type Principal struct {
	UserID      rooms.UserID
	DisplayName string
	ExpiresAt   time.Time
}

// Tokens issues and verifies the bearer tokens of the API and of
// signaling. Its zero value is not usable; call NewTokens. It is safe for
// concurrent use.
type Tokens struct {
	secret []byte
	ttl    time.Duration
	now    func() time.Time
	parser *jwt.Parser
}

// claims are the JWT claims of a Parley token.
type claims struct {
	Name string `json:"name"`
	jwt.RegisteredClaims
}

// NewTokens returns a Tokens that signs with secret (at least MinSecretLen
// bytes) and issues tokens valid for ttl (at least a second). now is the clock; nil means
// time.Now. Tests pass their own so that expiry needs no sleeping.
func NewTokens(secret []byte, ttl time.Duration, now func() time.Time) (*Tokens, error) {
	if len(secret) < MinSecretLen {
		return nil, fmt.Errorf("token secret is %d bytes, want at least %d", len(secret), MinSecretLen)
	}
	if ttl < time.Second {
		// JWT times are whole seconds; a shorter lifetime would expire
		// the moment it is issued.
		return nil, fmt.Errorf("token lifetime %v is shorter than a second", ttl)
	}
	if now == nil {
		now = time.Now
	}
	t := &Tokens{
		// Copied so that the caller cannot change the key under us.
		secret: append([]byte(nil), secret...),
		ttl:    ttl,
		now:    now,
	}
	t.parser = jwt.NewParser(
		// Only HS256: this refuses "none" and the RS256/HS256 confusion
		// attack, whatever the token's header claims.
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithIssuer(tokenIssuer),
		jwt.WithExpirationRequired(),
		jwt.WithTimeFunc(t.now),
		// Strict base64 makes every token canonical: a signature with
		// different padding bits is a different, refused, string.
		jwt.WithStrictDecoding(),
	)
	return t, nil
}

// Issue returns a signed token for m and the time it expires. Times are in
// whole seconds, as JWT carries them, so expiresAt is exactly the exp claim.
func (t *Tokens) Issue(m rooms.Member) (token string, expiresAt time.Time, err error) {
	now := t.now().UTC().Truncate(time.Second)
	exp := now.Add(t.ttl).Truncate(time.Second)
	c := claims{
		Name: m.DisplayName,
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    tokenIssuer,
			Subject:   string(m.ID),
			IssuedAt:  jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(exp),
		},
	}
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(t.secret)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("sign token for %s: %w", m.ID, err)
	}
	return s, exp, nil
}

// Verify checks a token's signature, algorithm, issuer, expiry and subject
// and returns who it names. Its errors wrap ErrTokenExpired or
// ErrTokenInvalid and nothing else: the library's errors are attached as
// text only, so that callers need to know just the two. The signature is checked before the claims, so a forged
// token is invalid even when it is also expired.
func (t *Tokens) Verify(token string) (Principal, error) {
	var c claims
	_, err := t.parser.ParseWithClaims(token, &c, func(*jwt.Token) (any, error) { return t.secret, nil })
	switch {
	case errors.Is(err, jwt.ErrTokenExpired):
		return Principal{}, fmt.Errorf("%w: %v", ErrTokenExpired, err)
	case err != nil:
		return Principal{}, fmt.Errorf("%w: %v", ErrTokenInvalid, err)
	}
	// %v, not %w: the subject being malformed is a fault of the token, and
	// must not read as rooms.ErrMemberNotFound to callers.
	uid, err := rooms.ParseUserID(c.Subject)
	if err != nil {
		return Principal{}, fmt.Errorf("%w: subject: %v", ErrTokenInvalid, err)
	}
	return Principal{UserID: uid, DisplayName: c.Name, ExpiresAt: c.ExpiresAt.UTC()}, nil
}
