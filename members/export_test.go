package members

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/parley-audio/parley/rooms"
)

// readZip opens an export and returns its files by name, failing the test
// on an archive a zip reader refuses.
func readZip(t *testing.T, b []byte) map[string][]byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatalf("not a zip archive: %v", err)
	}
	files := map[string][]byte{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatalf("%s: %v", f.Name, err)
		}
		files[f.Name] = data
	}
	return files
}

func numbers(n int) func(context.Context, rooms.UserID, Emit) error {
	return func(_ context.Context, _ rooms.UserID, emit Emit) error {
		for i := range n {
			if err := emit(map[string]int{"n": i}); err != nil {
				return err
			}
		}
		return nil
	}
}

func TestExportWritesEverySectionAsJSONWithAReadme(t *testing.T) {
	at := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	ex, err := NewExporter(func() time.Time { return at },
		Section{File: "none.json", About: "an empty list", Items: numbers(0)},
		Section{File: "three.json", About: "three items", Items: numbers(3)},
		Section{File: "one.json", About: "one object", Single: true, Items: numbers(5)},
		Section{File: "absent.json", About: "an object that is not there", Single: true, Items: numbers(0)},
	)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := ex.Export(t.Context(), "usr_x", &buf); err != nil {
		t.Fatal(err)
	}
	files := readZip(t, buf.Bytes())
	want := map[string]string{
		"none.json":   `[]`,
		"three.json":  `[{"n":0},{"n":1},{"n":2}]`,
		"one.json":    `{"n":0}`,
		"absent.json": `null`,
	}
	for name, w := range want {
		var got, wantV any
		if err := json.Unmarshal(files[name], &got); err != nil {
			t.Fatalf("%s is not JSON: %v\n%s", name, err, files[name])
		}
		_ = json.Unmarshal([]byte(w), &wantV)
		gb, _ := json.Marshal(got)
		wb, _ := json.Marshal(wantV)
		if !bytes.Equal(gb, wb) {
			t.Errorf("%s = %s, want %s", name, gb, wb)
		}
	}
	readme := string(files["README.md"])
	for _, s := range []string{"usr_x", "2026-12-01T09:00:00Z", "`three.json` | three items", "`one.json` | one object",
		"## If you delete your account", "Deleted member"} {
		if !strings.Contains(readme, s) {
			t.Errorf("README lacks %q:\n%s", s, readme)
		}
	}
	if got := ex.Files(); strings.Join(got, " ") != "README.md none.json three.json one.json absent.json" {
		t.Errorf("Files() = %v", got)
	}
}

func TestExportCutShortByAnErrorIsNoArchive(t *testing.T) {
	boom := errors.New("store gone")
	ex, err := NewExporter(nil,
		Section{File: "ok.json", About: "fine", Items: numbers(2)},
		Section{File: "bad.json", About: "fails midway", Items: func(ctx context.Context, u rooms.UserID, emit Emit) error {
			_ = emit(1)
			return boom
		}},
	)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := ex.Export(t.Context(), "usr_x", &buf); !errors.Is(err, boom) {
		t.Fatalf("Export = %v, want the section's error", err)
	}
	if _, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len())); err == nil {
		t.Error("a cut-short export reads as a complete archive")
	}
}

func TestNewExporterRefusesBadSections(t *testing.T) {
	ok := numbers(1)
	cases := map[string][]Section{
		"no file name":   {{About: "x", Items: ok}},
		"not .json":      {{File: "a.txt", About: "x", Items: ok}},
		"a path":         {{File: "a/b.json", About: "x", Items: ok}},
		"the readme":     {{File: "README.md", About: "x", Items: ok}},
		"twice the same": {{File: "a.json", About: "x", Items: ok}, {File: "a.json", About: "y", Items: ok}},
		"no items":       {{File: "a.json", About: "x"}},
		"no about":       {{File: "a.json", Items: ok}},
	}
	for name, secs := range cases {
		if _, err := NewExporter(nil, secs...); err == nil {
			t.Errorf("%s: NewExporter accepted it", name)
		}
	}
}

func TestSQLiteExportSections(t *testing.T)   { testExportSections(t, openTestSQLite) }
func TestPostgresExportSections(t *testing.T) { testExportSections(t, openTestPostgres) }

// The members store's part of an export: the profile with its inviter,
// and the invitations given with who used them, shown only as anyone may
// see them.
func testExportSections(t *testing.T, open func(t *testing.T) *SQLStore) {
	f := fx{t, open(t)}
	admin := f.mustAccount("admin", JoinDirect, "")
	_, hash := f.mustInvite(admin.ID)
	ada := f.mustAccount("ada", JoinInvite, hash)
	f.mustInvite(ada.ID)
	_, adaHash := f.mustInvite(ada.ID)
	bob := f.mustAccount("bob", JoinInvite, adaHash)

	ex, err := NewExporter(nil, f.st.ExportSections()...)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := ex.Export(t.Context(), ada.ID, &buf); err != nil {
		t.Fatal(err)
	}
	files := readZip(t, buf.Bytes())
	var profile exportProfile
	if err := json.Unmarshal(files["profile.json"], &profile); err != nil {
		t.Fatal(err)
	}
	if profile.ID != ada.ID || profile.Username != "ada" || profile.DisplayName != "The ada" ||
		profile.InvitedBy == nil || profile.InvitedBy.ID != admin.ID || profile.InvitedBy.Username != "admin" {
		t.Errorf("profile.json = %+v", profile)
	}
	var invites []exportInvite
	if err := json.Unmarshal(files["invites.json"], &invites); err != nil {
		t.Fatal(err)
	}
	if len(invites) != 2 {
		t.Fatalf("invites.json has %d invites, want ada's 2: %s", len(invites), files["invites.json"])
	}
	var used *exportInvite
	for i := range invites {
		if invites[i].UsedBy != nil {
			used = &invites[i]
		}
	}
	if used == nil || used.UsedBy.ID != bob.ID || used.UsedBy.DisplayName != "The bob" || used.State != string(InviteUsed) || used.UsedAt == nil {
		t.Errorf("the used invite = %+v; want it used by bob", used)
	}
	for name, b := range files {
		// Nothing anyone could sign in or sign up with is exported.
		if strings.Contains(string(b), hash) || strings.Contains(string(b), adaHash) || strings.Contains(string(b), "hash-of-") {
			t.Errorf("%s holds a secret's hash", name)
		}
	}
}
