package rooms

import (
	"errors"
	"regexp"
	"strings"
	"testing"
)

var (
	roomIDShape    = regexp.MustCompile(`^rm_[a-z2-7]{26}$`)
	userIDShape    = regexp.MustCompile(`^usr_[a-z2-7]{26}$`)
	sessionIDShape = regexp.MustCompile(`^ses_[a-z2-7]{26}$`)
)

func TestNewIDsHaveTheirShapeAndDoNotRepeat(t *testing.T) {
	tests := []struct {
		name  string
		shape *regexp.Regexp
		next  func() string
	}{
		{"room IDs", roomIDShape, func() string { return string(NewRoomID()) }},
		{"user IDs", userIDShape, func() string { return string(NewUserID()) }},
		{"session IDs", sessionIDShape, func() string { return string(NewSessionID()) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			const n = 10_000
			seen := make(map[string]bool, n)
			for range n {
				id := tt.next()
				if !tt.shape.MatchString(id) {
					t.Fatalf("%q does not match %v", id, tt.shape)
				}
				if seen[id] {
					t.Fatalf("%q was issued twice", id)
				}
				seen[id] = true
			}
		})
	}
}

func TestParseRoomID(t *testing.T) {
	valid := string(NewRoomID())
	tests := []struct {
		name string
		in   string
		ok   bool
	}{
		{"a fresh room ID is accepted", valid, true},
		{"every letter of the alphabet is accepted", "rm_abcdefghijklmnopqrstuvwxyz", true},
		{"every digit of the alphabet is accepted", "rm_234567234567234567234567ab", true},
		{"the empty string is refused", "", false},
		{"the prefix alone is refused", "rm_", false},
		{"a user ID is refused", string(NewUserID()), false},
		{"a missing prefix is refused", strings.TrimPrefix(valid, "rm_"), false},
		{"an upper-case prefix is refused", "RM_" + valid[3:], false},
		{"upper-case letters are refused", "rm_" + strings.ToUpper(valid[3:]), false},
		{"one character short is refused", valid[:len(valid)-1], false},
		{"one character long is refused", valid + "a", false},
		{"digits outside base32 are refused", "rm_0189" + valid[7:], false},
		{"padding is refused", valid[:len(valid)-1] + "=", false},
		{"surrounding space is refused", " " + valid, false},
		{"a trailing newline is refused", valid[:len(valid)-1] + "\n", false},
		{"non-ASCII is refused", "rm_é" + valid[5:], false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseRoomID(tt.in)
			if tt.ok {
				if err != nil || got != RoomID(tt.in) {
					t.Errorf("ParseRoomID(%q) = %q, %v; want it back", tt.in, got, err)
				}
				return
			}
			if !errors.Is(err, ErrRoomNotFound) || got != "" {
				t.Errorf("ParseRoomID(%q) = %q, %v; want ErrRoomNotFound", tt.in, got, err)
			}
		})
	}
}

func TestParseUserID(t *testing.T) {
	tests := []struct {
		name string
		in   string
		ok   bool
	}{
		{"a fresh user ID is accepted", string(NewUserID()), true},
		{"a room ID is refused", string(NewRoomID()), false},
		{"a session ID is refused", string(NewSessionID()), false},
		{"garbage is refused", "usr_../../etc/passwd", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseUserID(tt.in)
			if tt.ok != (err == nil) {
				t.Fatalf("ParseUserID(%q) err = %v, want ok=%v", tt.in, err, tt.ok)
			}
			if !tt.ok && !errors.Is(err, ErrMemberNotFound) {
				t.Errorf("err = %v, want ErrMemberNotFound", err)
			}
			if tt.ok && got != UserID(tt.in) {
				t.Errorf("got %q, want %q", got, tt.in)
			}
		})
	}
}

// FuzzParseRoomID checks that the parser, which sees raw URL paths and
// signaling messages, never panics, accepts exactly the documented shape,
// and never echoes an attacker's whole input into an error (and logs).
func FuzzParseRoomID(f *testing.F) {
	for _, s := range []string{
		"", "rm_", string(NewRoomID()), string(NewUserID()), "rm_aaaaaaaaaaaaaaaaaaaaaaaaaa",
		"rm_aaaaaaaaaaaaaaaaaaaaaaaaa\xff", "rm_" + strings.Repeat("é", 13), strings.Repeat("x", 10_000),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id, err := ParseRoomID(s)
		if want := roomIDShape.MatchString(s); want != (err == nil) {
			t.Fatalf("ParseRoomID(%q) err = %v, but the shape says ok=%v", s, err, want)
		}
		if err == nil {
			if id != RoomID(s) {
				t.Fatalf("ParseRoomID(%q) = %q, want the input back", s, id)
			}
			return
		}
		if !errors.Is(err, ErrRoomNotFound) || id != "" {
			t.Fatalf("ParseRoomID(%q) = %q, %v; want empty and ErrRoomNotFound", s, id, err)
		}
		// 40 bytes quoted, at worst 4 characters each, plus the message.
		if n := len(err.Error()); n > 220 {
			t.Fatalf("error for a %d-byte input is %d bytes long", len(s), n)
		}
	})
}
