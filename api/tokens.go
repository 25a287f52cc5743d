package api

import (
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/parley-audio/parley/members"
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
	// SessionID is the sign-in session the token belongs to, checked
	// against revocations on every use; empty for a development sign-in's
	// token, which belongs to none.
	SessionID members.SessionID
}

// Tokens issues and verifies the bearer tokens of the API and of
// signaling. Its zero value is not usable; call NewTokens. It is safe for
// concurrent use.
type Tokens struct {
	secret []byte
	// ttl is the lifetime of a development sign-in's token, accessTTL of
	// a session's access token.
	ttl, accessTTL time.Duration
	now            func() time.Time
	parser         *jwt.Parser
}

// claims are the JWT claims of a Parley token.
type claims struct {
	Name string `json:"name"`
	// SessionID (sid) names the sign-in session of an access token; a
	// development token has none.
	SessionID string `json:"sid,omitempty"`
	jwt.RegisteredClaims
}

// DefaultAccessTTL is how long a session's access token lives unless
// WithAccessTTL says otherwise: short, since the refresh token gets
// another.
const DefaultAccessTTL = 15 * time.Minute

// TokenOption changes a Tokens.
type TokenOption func(*Tokens)

// WithAccessTTL sets the lifetime of sessions' access tokens.
func WithAccessTTL(d time.Duration) TokenOption { return func(t *Tokens) { t.accessTTL = d } }

// NewTokens returns a Tokens that signs with secret (at least MinSecretLen
// bytes) and issues development tokens valid for ttl and access tokens
// valid for DefaultAccessTTL (both at least a second). now is the clock;
// nil means time.Now. Tests pass their own so that expiry needs no
// sleeping.
func NewTokens(secret []byte, ttl time.Duration, now func() time.Time, opts ...TokenOption) (*Tokens, error) {
	if len(secret) < MinSecretLen {
		return nil, fmt.Errorf("token secret is %d bytes, want at least %d", len(secret), MinSecretLen)
	}
	if now == nil {
		now = time.Now
	}
	t := &Tokens{
		// Copied so that the caller cannot change the key under us.
		secret:    append([]byte(nil), secret...),
		ttl:       ttl,
		accessTTL: DefaultAccessTTL,
		now:       now,
	}
	for _, o := range opts {
		o(t)
	}
	for _, d := range []time.Duration{t.ttl, t.accessTTL} {
		if d < time.Second {
			// JWT times are whole seconds; a shorter lifetime would
			// expire the moment it is issued.
			return nil, fmt.Errorf("token lifetime %v is shorter than a second", d)
		}
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

// Issue returns a signed development token for m, which belongs to no
// session, and the time it expires. Times are in whole seconds, as JWT
// carries them, so expiresAt is exactly the exp claim.
func (t *Tokens) Issue(m rooms.Member) (token string, expiresAt time.Time, err error) {
	return t.issue(m, "", t.ttl)
}

// IssueAccess returns a signed access token for m in session sid, valid
// for the access TTL, and the time it expires.
func (t *Tokens) IssueAccess(m rooms.Member, sid members.SessionID) (token string, expiresAt time.Time, err error) {
	if sid == "" {
		return "", time.Time{}, errors.New("access token without a session")
	}
	return t.issue(m, sid, t.accessTTL)
}

// AccessTTL is how long an access token lives.
func (t *Tokens) AccessTTL() time.Duration { return t.accessTTL }

func (t *Tokens) issue(m rooms.Member, sid members.SessionID, ttl time.Duration) (string, time.Time, error) {
	now := t.now().UTC().Truncate(time.Second)
	exp := now.Add(ttl).Truncate(time.Second)
	c := claims{
		Name:      m.DisplayName,
		SessionID: string(sid),
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
	var sid members.SessionID
	if c.SessionID != "" {
		if sid, err = members.ParseSessionID(c.SessionID); err != nil {
			return Principal{}, fmt.Errorf("%w: sid: %v", ErrTokenInvalid, err)
		}
	}
	return Principal{UserID: uid, DisplayName: c.Name, ExpiresAt: c.ExpiresAt.UTC(), SessionID: sid}, nil
}
