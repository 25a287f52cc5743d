package rooms

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestCleanText(t *testing.T) {
	const (
		empty    = "must not be empty"
		short    = "is too short"
		control  = "must not contain control characters"
		hidden   = "must not contain invisible formatting characters"
		badUTF8  = "must be valid UTF-8"
		tooLong5 = "must be at most 5 characters"
	)
	tests := []struct {
		name      string
		in        string
		minLen    int
		multiline bool
		want      string
		reason    string // empty when the text is accepted
	}{
		{"surrounding space is trimmed", " \t hello \n ", 1, false, "hello", ""},
		{"inner spaces are kept", "a  b", 1, false, "a  b", ""},
		{"exactly the maximum is accepted", "abcde", 1, false, "abcde", ""},
		{"the maximum counts characters, not bytes", "ééééé", 1, false, "ééééé", ""},
		{"one over the maximum is refused", "abcdef", 1, false, "", tooLong5},
		{"length is counted after trimming", "   abcde   ", 1, false, "abcde", ""},
		{"empty is refused when required", "", 1, false, "", empty},
		{"only spaces count as empty", "   ", 1, false, "", empty},
		{"empty is accepted when optional", "  ", 0, true, "", ""},
		{"under a longer minimum is too short", "a", 2, false, "", short},
		{"a newline is refused on one line", "a\nb", 1, false, "", control},
		{"a tab is refused on one line", "a\tb", 1, false, "", control},
		{"newlines and tabs are kept in multiline text", "a\n\tb", 1, true, "a\n\tb", ""},
		{"a carriage return is refused even in multiline text", "a\r\nb", 1, true, "", control},
		{"NUL is refused", "a\x00b", 1, true, "", control},
		{"an escape sequence is refused", "\x1b[2J", 1, true, "", control},
		{"DEL is refused", "a\x7fb", 1, false, "", control},
		{"a bidi override is refused, so names cannot be spoofed", "a\u202eb", 1, false, "", hidden},
		{"a zero-width space is refused", "a\u200b", 1, false, "", hidden},
		{"a zero-width joiner in an emoji sequence is kept", "👩\u200d💻", 1, false, "👩\u200d💻", ""},
		{"a C1 control is refused", "a\u0085b", 1, false, "", control},
		{"invalid UTF-8 is refused", "a\xffb", 1, false, "", badUTF8},
		{"emoji are text", "🎙️ on", 1, false, "🎙️ on", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := cleanText("field", tt.in, tt.minLen, 5, tt.multiline)
			if tt.reason == "" {
				if err != nil || got != tt.want {
					t.Errorf("cleanText(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
				}
				return
			}
			var ve *ValidationError
			if !errors.As(err, &ve) || ve.Field != "field" || ve.Reason != tt.reason {
				t.Fatalf("cleanText(%q) err = %#v, want field %q: %q", tt.in, err, "field", tt.reason)
			}
			if !errors.Is(err, ErrInvalid) || got != "" {
				t.Errorf("cleanText(%q) = %q, %v; want \"\" and an error that is ErrInvalid", tt.in, got, err)
			}
		})
	}
}

func TestCleanDisplayName(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
		ok   bool
	}{
		{"a plain name is kept", "Ada", "Ada", true},
		{"space around a name is trimmed", "  Grace Hopper\t", "Grace Hopper", true},
		{"64 characters are accepted", strings.Repeat("ü", MaxDisplayNameLen), strings.Repeat("ü", MaxDisplayNameLen), true},
		{"65 characters are refused", strings.Repeat("a", MaxDisplayNameLen+1), "", false},
		{"an empty name is refused", "", "", false},
		{"a name of spaces is refused", "   ", "", false},
		{"a newline is refused", "Ada\nLovelace", "", false},
		{"a NUL is refused", "Ada\x00", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := CleanDisplayName(tt.in)
			if tt.ok {
				if err != nil || got != tt.want {
					t.Errorf("CleanDisplayName(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
				}
				return
			}
			var ve *ValidationError
			if !errors.As(err, &ve) || ve.Field != "display_name" {
				t.Errorf("CleanDisplayName(%q) err = %v, want a ValidationError on display_name", tt.in, err)
			}
		})
	}
}

func TestRoles(t *testing.T) {
	tests := []struct {
		role    Role
		onStage bool
	}{
		{RoleModerator, true},
		{RoleSpeaker, true},
		{RoleListener, false},
		{Role("host"), false}, // unknown roles grant nothing
		{Role(""), false},
	}
	for _, tt := range tests {
		t.Run(string(tt.role)+" on stage is "+map[bool]string{true: "yes", false: "no"}[tt.onStage], func(t *testing.T) {
			if tt.role.OnStage() != tt.onStage || tt.role.CanPublish() != tt.onStage {
				t.Errorf("OnStage = %v, CanPublish = %v; want both %v", tt.role.OnStage(), tt.role.CanPublish(), tt.onStage)
			}
		})
	}
}

func TestValidationErrorNamesItsFieldAndIsErrInvalid(t *testing.T) {
	var err error = &ValidationError{Field: "title", Reason: "must not be empty"}
	if err.Error() != "title: must not be empty" {
		t.Errorf("Error() = %q", err.Error())
	}
	if !errors.Is(err, ErrInvalid) || errors.Is(err, ErrForbidden) {
		t.Error("a ValidationError must be ErrInvalid and nothing else")
	}
}

func TestRoomJSONShowsEndedAtOnlyOnceEnded(t *testing.T) {
	created := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	v := RoomView{Room: Room{ID: NewRoomID(), Title: "t", CreatedBy: NewUserID(), HostName: "Ada", CreatedAt: created}, Counts: Counts{Speakers: 2, Listeners: 5}}
	live := v.JSON()
	if !live.Live || live.EndedAt != nil || live.CreatedBy.DisplayName != "Ada" || live.SpeakerCount != 2 || live.ListenerCount != 5 {
		t.Errorf("live room JSON = %+v", live)
	}
	v.EndedAt = created.Add(time.Hour)
	ended := v.JSON()
	if ended.Live || ended.EndedAt == nil || !ended.EndedAt.Equal(v.EndedAt) {
		t.Errorf("ended room JSON = %+v", ended)
	}
}

func TestParticipantJSONNeverCarriesTheSession(t *testing.T) {
	p := Participant{UserID: NewUserID(), DisplayName: "Ada", Role: RoleSpeaker, Session: NewSessionID()}
	b, err := json.Marshal(p.JSON())
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), string(p.Session)) {
		t.Errorf("participant JSON leaks the session: %s", b)
	}
}
