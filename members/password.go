package members

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
)

// PasswordParams are argon2id's costs. The zero value is not usable; start
// from DefaultPasswordParams.
type PasswordParams struct {
	// Memory in KiB.
	Memory uint32
	// Time is the number of passes over the memory.
	Time uint32
	// Threads is the parallelism.
	Threads uint8
}

// DefaultPasswordParams are OWASP's first argon2id configuration (19 MiB,
// 2 passes, 1 thread): about 25 ms of one core per hash. The larger
// settings of RFC 9106 (64 MiB or more) would let a burst of sign-ins eat
// the memory of the small machines Parley is meant to run on.
func DefaultPasswordParams() PasswordParams {
	return PasswordParams{Memory: 19 * 1024, Time: 2, Threads: 1}
}

// Bounds on the parameters read back from a stored hash: a corrupt or
// hostile row must not make a sign-in allocate gigabytes or spin forever.
const (
	maxPasswordMemory  = 1 << 20 // 1 GiB in KiB
	maxPasswordTime    = 100
	saltLen            = 16
	passwordKeyLen     = 32
	maxEncodedHashLen  = 256
	argon2idPHCVersion = argon2.Version
)

var b64 = base64.RawStdEncoding

var errBadHash = errors.New("malformed password hash")

// hashPassword derives an encoded argon2id hash of password in the PHC
// string format: $argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>. The
// parameters travel with the hash, so raising them later only affects
// passwords set afterwards.
func hashPassword(password string, p PasswordParams) string {
	salt := make([]byte, saltLen)
	_, _ = rand.Read(salt)
	key := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, passwordKeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2idPHCVersion, p.Memory, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key))
}

// checkPassword reports whether password matches the encoded hash. The
// comparison takes the same time wherever the first difference is. A
// malformed hash is an error, never a match.
func checkPassword(password, encoded string) (bool, error) {
	p, salt, key, err := decodeHash(encoded)
	if err != nil {
		return false, err
	}
	got := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, uint32(len(key)))
	return subtle.ConstantTimeCompare(got, key) == 1, nil
}

// decodeHash parses a PHC argon2id string, refusing anything this package
// would not have written or whose costs are out of bounds.
func decodeHash(encoded string) (PasswordParams, []byte, []byte, error) {
	var p PasswordParams
	if len(encoded) > maxEncodedHashLen {
		return p, nil, nil, errBadHash
	}
	parts := strings.Split(encoded, "$")
	// "", "argon2id", "v=19", "m=..,t=..,p=..", salt, hash
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return p, nil, nil, errBadHash
	}
	if parts[2] != "v="+strconv.Itoa(argon2idPHCVersion) {
		return p, nil, nil, fmt.Errorf("%w: version %q", errBadHash, parts[2])
	}
	params := strings.Split(parts[3], ",")
	if len(params) != 3 {
		return p, nil, nil, errBadHash
	}
	m, errM := paramValue(params[0], "m=", maxPasswordMemory)
	t, errT := paramValue(params[1], "t=", maxPasswordTime)
	th, errP := paramValue(params[2], "p=", 255)
	if err := errors.Join(errM, errT, errP); err != nil {
		return p, nil, nil, err
	}
	p = PasswordParams{Memory: m, Time: t, Threads: uint8(th)}
	// argon2 needs at least 8 KiB per lane.
	if p.Memory < 8*uint32(p.Threads) {
		return p, nil, nil, fmt.Errorf("%w: memory below 8 KiB per thread", errBadHash)
	}
	salt, err := b64.Strict().DecodeString(parts[4])
	if err != nil || len(salt) < 8 {
		return p, nil, nil, fmt.Errorf("%w: salt", errBadHash)
	}
	key, err := b64.Strict().DecodeString(parts[5])
	if err != nil || len(key) < 16 {
		return p, nil, nil, fmt.Errorf("%w: key", errBadHash)
	}
	return p, salt, key, nil
}

func paramValue(s, prefix string, maxValue uint64) (uint32, error) {
	v, ok := strings.CutPrefix(s, prefix)
	if !ok {
		return 0, fmt.Errorf("%w: want %s", errBadHash, prefix)
	}
	n, err := strconv.ParseUint(v, 10, 32)
	if err != nil || n < 1 || n > maxValue || strconv.FormatUint(n, 10) != v {
		return 0, fmt.Errorf("%w: %s%q", errBadHash, prefix, v)
	}
	return uint32(n), nil
}
