package api

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/parley-audio/parley/internal/testenv"
	"github.com/parley-audio/parley/rooms"
)

// newTestClock is a clock that moves only when told to.
func newTestClock() *testenv.Clock {
	return testenv.NewClock(time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC))
}

var (
	testSecret  = []byte("0123456789abcdef0123456789abcdef")
	otherSecret = []byte("fedcba9876543210fedcba9876543210")
)

const testTTL = 12 * time.Hour

func newTestTokens(t testing.TB, clock *testenv.Clock) *Tokens {
	t.Helper()
	tok, err := NewTokens(testSecret, testTTL, clock.Now)
	if err != nil {
		t.Fatalf("NewTokens: %v", err)
	}
	return tok
}

func testMember() rooms.Member {
	return rooms.Member{ID: rooms.NewUserID(), DisplayName: "Ann", CreatedAt: time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)}
}

// signed returns a JWT with the given header and claims, signed with
// HMAC-SHA256 under secret whatever the header says, the way an attacker
// would build one.
func signed(t testing.TB, header, claims map[string]any, secret []byte) string {
	t.Helper()
	enc := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		return base64.RawURLEncoding.EncodeToString(b)
	}
	unsigned := enc(header) + "." + enc(claims)
	if secret == nil {
		return unsigned + "."
	}
	return unsigned + "." + hmacSig(unsigned, secret)
}

func hmacSig(unsigned string, secret []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(unsigned))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func TestNewTokens(t *testing.T) {
	tests := []struct {
		name   string
		secret []byte
		ttl    time.Duration
		ok     bool
	}{
		{"a 32-byte secret and a positive lifetime are accepted", testSecret, time.Hour, true},
		{"a 31-byte secret is refused", testSecret[:31], time.Hour, false},
		{"no secret is refused", nil, time.Hour, false},
		{"a zero lifetime is refused", testSecret, 0, false},
		{"a lifetime under a second is refused", testSecret, 999 * time.Millisecond, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewTokens(tt.secret, tt.ttl, nil)
			if (err == nil) != tt.ok {
				t.Fatalf("NewTokens error = %v, want ok=%v", err, tt.ok)
			}
		})
	}
}

func TestIssueThenVerifyReturnsTheMember(t *testing.T) {
	clock := newTestClock()
	clock.Advance(1500 * time.Millisecond) // not on a whole second
	tok := newTestTokens(t, clock)
	m := testMember()

	token, exp, err := tok.Issue(m)
	if err != nil {
		t.Fatalf("Issue: %v", err)
	}
	wantExp := time.Date(2026, 11, 21, 22, 0, 1, 0, time.UTC)
	if !exp.Equal(wantExp) || exp.Location() != time.UTC {
		t.Errorf("expiresAt = %v, want %v in UTC", exp, wantExp)
	}
	p, err := tok.Verify(token)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	want := Principal{UserID: m.ID, DisplayName: "Ann", ExpiresAt: wantExp}
	if p != want {
		t.Errorf("Verify = %+v, want %+v", p, want)
	}

	// The claims are the documented ones, readable by any JWT library.
	var c map[string]any
	payload, _ := base64.RawURLEncoding.DecodeString(strings.Split(token, ".")[1])
	if err := json.Unmarshal(payload, &c); err != nil {
		t.Fatalf("payload: %v", err)
	}
	for k, v := range map[string]any{"sub": string(m.ID), "name": "Ann", "iss": "parley", "iat": float64(wantExp.Add(-testTTL).Unix()), "exp": float64(wantExp.Unix())} {
		if c[k] != v {
			t.Errorf("claim %s = %v, want %v", k, c[k], v)
		}
	}
}

func TestVerifyExpiresExactlyAtExp(t *testing.T) {
	clock := newTestClock()
	tok := newTestTokens(t, clock)
	token, _, err := tok.Issue(testMember())
	if err != nil {
		t.Fatal(err)
	}
	clock.Advance(testTTL - time.Second)
	if _, err := tok.Verify(token); err != nil {
		t.Fatalf("a second before exp: %v", err)
	}
	clock.Advance(time.Second)
	if _, err := tok.Verify(token); !errors.Is(err, ErrTokenExpired) || errors.Is(err, ErrTokenInvalid) {
		t.Fatalf("at exp: err = %v, want only ErrTokenExpired", err)
	}
}

func TestSecretIsCopied(t *testing.T) {
	secret := append([]byte(nil), testSecret...)
	clock := newTestClock()
	tok, err := NewTokens(secret, time.Hour, clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	token, _, err := tok.Issue(testMember())
	if err != nil {
		t.Fatal(err)
	}
	secret[0] ^= 0xff
	if _, err := tok.Verify(token); err != nil {
		t.Fatalf("changing the caller's slice changed the key: %v", err)
	}
}

func TestVerifyRefusesBadTokens(t *testing.T) {
	clock := newTestClock()
	tok := newTestTokens(t, clock)
	m := testMember()
	good, _, err := tok.Issue(m)
	if err != nil {
		t.Fatal(err)
	}
	now := clock.Now().Unix()
	claims := func(edit func(map[string]any)) map[string]any {
		c := map[string]any{"sub": string(m.ID), "name": "Ann", "iss": "parley", "iat": now, "exp": now + 3600}
		if edit != nil {
			edit(c)
		}
		return c
	}
	hs256 := map[string]any{"alg": "HS256", "typ": "JWT"}
	parts := strings.Split(good, ".")

	// The last base64 character of a 32-byte signature carries two unused
	// bits; setting one gives a different string that lenient decoders
	// read as the same signature.
	sig := parts[2]
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	last := strings.IndexByte(alphabet, sig[len(sig)-1])
	malleable := parts[0] + "." + parts[1] + "." + sig[:len(sig)-1] + string(alphabet[last|1])

	hs512, err := jwt.NewWithClaims(jwt.SigningMethodHS512, jwt.MapClaims(claims(nil))).SignedString(testSecret)
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name  string
		token string
		want  error
	}{
		{"an empty string is invalid", "", ErrTokenInvalid},
		{"a word is invalid", "hello", ErrTokenInvalid},
		{"three empty segments are invalid", "..", ErrTokenInvalid},
		{"a token signed with another secret is invalid", signed(t, hs256, claims(nil), otherSecret), ErrTokenInvalid},
		{"an alg none token without a signature is invalid", signed(t, map[string]any{"alg": "none"}, claims(nil), nil), ErrTokenInvalid},
		{"an alg none token with our signature is invalid", signed(t, map[string]any{"alg": "none"}, claims(nil), testSecret), ErrTokenInvalid},
		{"an HS512 token with our secret is invalid", hs512, ErrTokenInvalid},
		{"an RS256 header over an HMAC signature is invalid", signed(t, map[string]any{"alg": "RS256"}, claims(nil), testSecret), ErrTokenInvalid},
		{"a changed payload under the original signature is invalid", parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"`+string(rooms.NewUserID())+`","iss":"parley","exp":9999999999}`)) + "." + parts[2], ErrTokenInvalid},
		{"a signature with padding bits set is invalid", malleable, ErrTokenInvalid},
		{"a token with padding is invalid", good + "==", ErrTokenInvalid},
		{"another issuer is invalid", signed(t, hs256, claims(func(c map[string]any) { c["iss"] = "elsewhere" }), testSecret), ErrTokenInvalid},
		{"no issuer is invalid", signed(t, hs256, claims(func(c map[string]any) { delete(c, "iss") }), testSecret), ErrTokenInvalid},
		{"no expiry is invalid", signed(t, hs256, claims(func(c map[string]any) { delete(c, "exp") }), testSecret), ErrTokenInvalid},
		{"no subject is invalid", signed(t, hs256, claims(func(c map[string]any) { delete(c, "sub") }), testSecret), ErrTokenInvalid},
		{"a subject that is not a user ID is invalid", signed(t, hs256, claims(func(c map[string]any) { c["sub"] = "admin" }), testSecret), ErrTokenInvalid},
		{"a room ID as subject is invalid", signed(t, hs256, claims(func(c map[string]any) { c["sub"] = string(rooms.NewRoomID()) }), testSecret), ErrTokenInvalid},
		{"a name that is not a string is invalid", signed(t, hs256, claims(func(c map[string]any) { c["name"] = 7 }), testSecret), ErrTokenInvalid},
		{"an expiry that is not a number is invalid", signed(t, hs256, claims(func(c map[string]any) { c["exp"] = "tomorrow" }), testSecret), ErrTokenInvalid},
		{"an expired token of ours is expired", signed(t, hs256, claims(func(c map[string]any) { c["exp"] = now - 1 }), testSecret), ErrTokenExpired},
		{"an expired token signed with another secret is invalid, not expired", signed(t, hs256, claims(func(c map[string]any) { c["exp"] = now - 1 }), otherSecret), ErrTokenInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := tok.Verify(tt.token)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Verify = %+v, %v; want %v", p, err, tt.want)
			}
			if errors.Is(err, ErrTokenExpired) && errors.Is(err, ErrTokenInvalid) {
				t.Fatalf("error %v is both expired and invalid", err)
			}
			if errors.Is(err, rooms.ErrMemberNotFound) {
				t.Fatalf("error %v leaks a rooms sentinel", err)
			}
			if p != (Principal{}) {
				t.Fatalf("refused token returned principal %+v", p)
			}
		})
	}

	// After all that the good token still verifies: the table above is not
	// passing because Verify refuses everything.
	if _, err := tok.Verify(good); err != nil {
		t.Fatalf("good token: %v", err)
	}
}

// FuzzVerify checks that Verify, a decoder of untrusted input, never panics
// and never accepts a token that was not signed with HS256 under its secret.
func FuzzVerify(f *testing.F) {
	clock := newTestClock()
	tok := newTestTokens(f, clock)
	good, _, err := tok.Issue(testMember())
	if err != nil {
		f.Fatal(err)
	}
	claims := map[string]any{"sub": string(rooms.NewUserID()), "iss": "parley", "exp": clock.Now().Unix() + 60}
	hs512, err := jwt.NewWithClaims(jwt.SigningMethodHS512, jwt.MapClaims(claims)).SignedString(testSecret)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add(hs512)
	f.Add(signed(f, map[string]any{"alg": "none"}, claims, nil))
	f.Add(signed(f, map[string]any{"alg": "HS256"}, claims, otherSecret))
	f.Add(signed(f, map[string]any{"alg": "HS256", "crit": []string{"x"}}, claims, nil))
	f.Add(strings.Repeat("a.", 3))
	f.Add("")

	f.Fuzz(func(t *testing.T, token string) {
		p, err := tok.Verify(token)
		if err != nil {
			if errors.Is(err, ErrTokenExpired) == errors.Is(err, ErrTokenInvalid) {
				t.Fatalf("error %v must be exactly one of expired or invalid", err)
			}
			return
		}
		parts := strings.Split(token, ".")
		if len(parts) != 3 {
			t.Fatalf("accepted %q, which is not three segments", token)
		}
		if hmacSig(parts[0]+"."+parts[1], testSecret) != parts[2] {
			t.Fatalf("accepted %q, whose signature is not ours", token)
		}
		var h struct{ Alg string }
		if raw, err := base64.RawURLEncoding.DecodeString(parts[0]); err != nil || json.Unmarshal(raw, &h) != nil || h.Alg != "HS256" {
			t.Fatalf("accepted %q, whose header is not HS256", token)
		}
		if _, err := rooms.ParseUserID(string(p.UserID)); err != nil {
			t.Fatalf("accepted %q with subject %q", token, p.UserID)
		}
	})
}
