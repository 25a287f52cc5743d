package rooms

import (
	"encoding/base64"
	"fmt"
	"strings"
	"time"
)

// Cursor is a position in a list ordered by (time, ID): the last item of
// the page before. The zero Cursor is the start of the list. The durable
// lists of events, chat, the moderation log and reports all page by it
// (keyset pagination: a page costs the same wherever it is in the list).
type Cursor struct {
	At time.Time
	ID string
}

// IsZero reports whether c is the start of the list.
func (c Cursor) IsZero() bool { return c.ID == "" }

// String encodes the cursor for a client, who passes it back unchanged.
func (c Cursor) String() string {
	return base64.RawURLEncoding.EncodeToString([]byte(c.At.UTC().Format(time.RFC3339Nano) + "|" + c.ID))
}

// ParseCursor reads a cursor a client passed back; "" is the start. One
// this server did not issue is a *ValidationError of the field "cursor".
func ParseCursor(s string) (Cursor, error) {
	if s == "" {
		return Cursor{}, nil
	}
	bad := &ValidationError{Field: "cursor", Reason: "is not a cursor this server issued"}
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return Cursor{}, bad
	}
	ts, id, ok := strings.Cut(string(raw), "|")
	if !ok || !cursorID(id) {
		return Cursor{}, bad
	}
	t, err := time.Parse(time.RFC3339Nano, ts)
	if err != nil {
		return Cursor{}, bad
	}
	return Cursor{At: t.UTC(), ID: id}, nil
}

// cursorID accepts what our IDs look like: a short prefix, an underscore
// and base32. Anything else never came from this server.
func cursorID(s string) bool {
	if len(s) < 4 || len(s) > 40 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '_' {
			return false
		}
	}
	return true
}

// pageLimit checks a page size a client asked for; 0 means the default.
func pageLimit(limit int) (int, error) {
	if limit == 0 {
		return DefaultPageSize, nil
	}
	if limit < 1 || limit > MaxPageSize {
		return 0, &ValidationError{Field: "limit", Reason: fmt.Sprintf("must be between 1 and %d", MaxPageSize)}
	}
	return limit, nil
}

// pageOf trims a list read with one item more than the page holds, and
// returns the cursor of the next page ("" when this is the last).
func pageOf[T any](list []T, limit int, key func(T) Cursor) ([]T, string) {
	if len(list) <= limit {
		return list, ""
	}
	list = list[:limit]
	return list, key(list[limit-1]).String()
}

// checkStoreLimit is the stores' guard against a page of nothing.
func checkStoreLimit(op string, limit int) error {
	if limit < 1 {
		return fmt.Errorf("%s: limit %d: %w", op, limit, ErrInvalid)
	}
	return nil
}
