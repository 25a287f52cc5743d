package api

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/golang-jwt/jwt/v5"

	"github.com/parley-audio/parley/rooms"
)

// GuestTokenTTL is how long a guest pass admits its holder: long enough
// to connect and reconnect after a dropped network, short enough that a
// leaked link's pass soon stops working. A session outlives its pass;
// only connecting needs a valid one.
const GuestTokenTTL = 10 * time.Minute

// guestIssuer is the iss of guest passes. Member tokens have another and
// are signed with another key, so neither can pass for the other.
const guestIssuer = "parley-guest"

// GuestPass is what a verified guest token admits: one guest, to one room.
type GuestPass struct {
	Guest     rooms.UserID
	Room      rooms.RoomID
	ExpiresAt time.Time
}

// GuestTokens issues and verifies guest passes: short-lived, listen-only
// tokens bound to one room, for people without an account. Its zero value
// is not usable; call NewGuestTokens. It is safe for concurrent use.
type GuestTokens struct {
	key    []byte
	now    func() time.Time
	parser *jwt.Parser
}

type guestClaims struct {
	Room string `json:"room"`
	jwt.RegisteredClaims
}

// NewGuestTokens returns guest passes signed with a key derived from the
// token secret (at least MinSecretLen bytes), distinct from the key of
// member tokens. now is the clock; nil means time.Now.
func NewGuestTokens(secret []byte, now func() time.Time) (*GuestTokens, error) {
	if len(secret) < MinSecretLen {
		return nil, fmt.Errorf("token secret is %d bytes, want at least %d", len(secret), MinSecretLen)
	}
	if now == nil {
		now = time.Now
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte("parley guest pass v1"))
	g := &GuestTokens{key: mac.Sum(nil), now: now}
	g.parser = jwt.NewParser(
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithIssuer(guestIssuer), jwt.WithExpirationRequired(), jwt.WithTimeFunc(g.now),
		jwt.WithStrictDecoding(),
	)
	return g, nil
}

// Issue signs a pass for guest to room.
func (g *GuestTokens) Issue(guest rooms.UserID, room rooms.RoomID) (string, time.Time, error) {
	now := g.now().UTC().Truncate(time.Second)
	exp := now.Add(GuestTokenTTL)
	c := guestClaims{Room: string(room), RegisteredClaims: jwt.RegisteredClaims{
		Issuer: guestIssuer, Subject: string(guest), IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(exp),
	}}
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(g.key)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("sign guest pass: %w", err)
	}
	return tok, exp, nil
}

// Verify checks a pass and returns what it admits. Its errors wrap
// ErrTokenExpired or ErrTokenInvalid.
func (g *GuestTokens) Verify(token string) (GuestPass, error) {
	var c guestClaims
	_, err := g.parser.ParseWithClaims(token, &c, func(*jwt.Token) (any, error) { return g.key, nil })
	switch {
	case errors.Is(err, jwt.ErrTokenExpired):
		return GuestPass{}, fmt.Errorf("%w: %v", ErrTokenExpired, err)
	case err != nil:
		return GuestPass{}, fmt.Errorf("%w: %v", ErrTokenInvalid, err)
	}
	guest, err := rooms.ParseGuestID(c.Subject)
	if err != nil {
		return GuestPass{}, fmt.Errorf("%w: subject is not a guest", ErrTokenInvalid)
	}
	room, err := rooms.ParseRoomID(c.Room)
	if err != nil {
		return GuestPass{}, fmt.Errorf("%w: room claim", ErrTokenInvalid)
	}
	return GuestPass{Guest: guest, Room: room, ExpiresAt: c.ExpiresAt.UTC()}, nil
}

// Limiter says whether one more event of key may happen at now, and if
// not, when to try again. internal/ratelimit's limiters are Limiters.
type Limiter interface {
	Allow(ctx context.Context, key string, now time.Time) (ok bool, retryAfter time.Duration, err error)
}

type guestTokenResponse struct {
	Token     string          `json:"token"`
	ExpiresAt time.Time       `json:"expires_at"`
	Guest     rooms.MemberRef `json:"guest"`
	Room      rooms.RoomJSON  `json:"room"`
}

// clientAddress is who a guest is, for their rate limit: the connection's
// address. No proxy header is trusted (see NewHandler), so behind a proxy
// every guest shares one allowance, which errs on the safe side.
func clientAddress(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// guestToken issues a guest pass to an open room:
// POST /api/v1/rooms/{id}/guest-token, without a token.
func (s *server) guestToken(w http.ResponseWriter, r *http.Request) {
	id, err := rooms.ParseRoomID(chi.URLParam(r, "id"))
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	if err := noBody(w, r, nil); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	if !s.rooms.GuestsAllowed() {
		writeError(w, r, s.log, rooms.ErrGuestsDisabled)
		return
	}
	if s.guestLimit != nil {
		ok, wait, err := s.guestLimit.Allow(r.Context(), clientAddress(r), time.Now())
		if err != nil {
			writeError(w, r, s.log, fmt.Errorf("guest rate limit: %w: %w", rooms.ErrUnavailable, err))
			return
		}
		if !ok {
			writeError(w, r, s.log, &rooms.RateLimitError{RetryAfter: wait})
			return
		}
	}
	room, guest, err := s.rooms.GuestPass(r.Context(), id)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	tok, exp, err := s.guests.Issue(guest, room.ID)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	v, err := s.rooms.RoomFor(r.Context(), guest, room.ID)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusCreated, guestTokenResponse{
		Token: tok, ExpiresAt: exp, Guest: rooms.MemberRef{ID: guest, DisplayName: rooms.GuestName}, Room: v.JSON(),
	})
}
