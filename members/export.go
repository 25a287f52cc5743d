package members

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/parley-audio/parley/rooms"
)

// A member's data export is one zip archive of JSON files, with a
// README.md that explains each of them. It is written as it is read: each
// file is a JSON array whose items are encoded one at a time from a
// database cursor straight into the compressor, so that an export of
// 100,000 chat messages takes the memory of one message, not of 100,000.
//
// Every store that keeps something about a member contributes sections:
// members its own (profile, invites), rooms its own (rooms hosted, chat…),
// wired in by cmd. An export holds everything about the member and nothing
// private about anyone else: another member appears only as what anyone
// may see of them (ID, username, display name), and never what is theirs
// alone (whom they block, what they reported).

// Emit hands one item of a section to the export, which encodes it at
// once. Items must be JSON-encodable and must not be kept by the export.
type Emit func(item any) error

// Section is one file of the export.
type Section struct {
	// File is the file's name in the archive, e.g. "profile.json".
	File string
	// About says what the file holds, for the archive's README.
	About string
	// Single makes the file one JSON object (the first item emitted)
	// rather than an array of every item.
	Single bool
	// Items emits the member's items, in the order they belong in.
	Items func(ctx context.Context, user rooms.UserID, emit Emit) error
}

// Exporter writes data exports. Its zero value exports nothing but the
// README; build it with NewExporter.
type Exporter struct {
	sections []Section
	now      func() time.Time
}

// NewExporter returns an exporter of the given sections, written in that
// order. now is the clock stamped into the README; nil means time.Now.
func NewExporter(now func() time.Time, sections ...Section) (*Exporter, error) {
	seen := map[string]bool{"README.md": true}
	for _, s := range sections {
		if s.File == "" || !strings.HasSuffix(s.File, ".json") || strings.ContainsAny(s.File, "/\\") || seen[s.File] {
			return nil, fmt.Errorf("export section %q: need a unique plain .json file name", s.File)
		}
		if s.Items == nil || s.About == "" {
			return nil, fmt.Errorf("export section %q: needs Items and About", s.File)
		}
		seen[s.File] = true
	}
	if now == nil {
		now = time.Now
	}
	return &Exporter{sections: sections, now: now}, nil
}

// Files lists the archive's files, README.md first.
func (e *Exporter) Files() []string {
	out := []string{"README.md"}
	for _, s := range e.sections {
		out = append(out, s.File)
	}
	return out
}

// Export writes user's archive to w. It stops at the first error, leaving
// w with a truncated archive that no zip reader accepts, which is what a
// client that sees the connection fail should get.
func (e *Exporter) Export(ctx context.Context, user rooms.UserID, w io.Writer) error {
	bw := bufio.NewWriterSize(w, 32<<10)
	zw := zip.NewWriter(bw)
	at := e.now().UTC()
	if err := e.writeReadme(zw, user, at); err != nil {
		return err
	}
	for _, s := range e.sections {
		if err := ctx.Err(); err != nil {
			return err
		}
		f, err := zw.CreateHeader(&zip.FileHeader{Name: s.File, Method: zip.Deflate, Modified: at})
		if err != nil {
			return fmt.Errorf("export %s: %w", s.File, err)
		}
		if err := writeSection(ctx, f, s, user); err != nil {
			return fmt.Errorf("export %s: %w", s.File, err)
		}
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	return nil
}

// errEnough stops a Single section's Items after its one item.
var errEnough = errors.New("section complete")

func writeSection(ctx context.Context, w io.Writer, s Section, user rooms.UserID) error {
	// One buffer and encoder for every item: an item is encoded, its
	// trailing newline dropped, and written between the array's commas.
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	n := 0
	emit := func(item any) error {
		if s.Single && n > 0 {
			return errEnough
		}
		buf.Reset()
		if err := enc.Encode(item); err != nil {
			return err
		}
		sep := "\n  "
		switch {
		case s.Single:
			sep = ""
		case n > 0:
			sep = ",\n  "
		}
		if _, err := io.WriteString(w, sep); err != nil {
			return err
		}
		n++
		_, err := w.Write(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
		return err
	}
	if !s.Single {
		if _, err := io.WriteString(w, "["); err != nil {
			return err
		}
	}
	if err := s.Items(ctx, user, emit); err != nil && !errors.Is(err, errEnough) {
		return err
	}
	end := "\n]\n"
	switch {
	case s.Single && n == 0:
		end = "null\n"
	case s.Single:
		end = "\n"
	case n == 0:
		end = "]\n"
	}
	_, err := io.WriteString(w, end)
	return err
}

func (e *Exporter) writeReadme(zw *zip.Writer, user rooms.UserID, at time.Time) error {
	f, err := zw.CreateHeader(&zip.FileHeader{Name: "README.md", Method: zip.Deflate, Modified: at})
	if err != nil {
		return fmt.Errorf("export README.md: %w", err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# Your Parley data\n\nThis archive holds everything this Parley server keeps about member `%s`,\n", user)
	fmt.Fprintf(&b, "as of %s (UTC). It is yours: keep it, read it, or take it elsewhere.\n\n", at.Format(time.RFC3339))
	b.WriteString("Every file but this one is JSON (RFC 8259), UTF-8. Times are RFC 3339 in UTC.\n")
	b.WriteString("IDs are the server's: `usr_` a member, `rm_` a room, and so on. Other members\n")
	b.WriteString("appear only as anyone may see them (ID, username, display name); nothing\n")
	b.WriteString("private of theirs is here.\n\n## Files\n\n")
	b.WriteString("| file | what it holds |\n|---|---|\n")
	for _, s := range e.sections {
		shape := "a list"
		if s.Single {
			shape = "one object"
		}
		fmt.Fprintf(&b, "| `%s` | %s (%s) |\n", s.File, s.About, shape)
	}
	b.WriteString(deletionNote)
	if _, err := io.WriteString(f, b.String()); err != nil {
		return fmt.Errorf("export README.md: %w", err)
	}
	return nil
}

// deletionNote ends the README: what deleting the account would do, in
// short (docs/api.md, "Deleting your account", has it kind by kind).
const deletionNote = `
## If you delete your account

Deleting your account (DELETE /api/v1/me, or "Delete my account" in the web
client) signs you out everywhere and erases your personal data: your profile,
username (which becomes free for others), follows and blocks both ways, your
unused invites, the room invitations you hold, your RSVPs, your co-hosting,
your chat messages, and the record of which rooms you were in and spoke in.
Your upcoming events are cancelled.

What stays names you only by your member ID, shown to everyone as
"Deleted member": the rooms and past events you hosted (they are others'
history too), the invites others used to join, the invitations you gave as a
host, and the moderation log and reports (the instance's records of conduct).

Keep this archive: after deletion there is nothing left to export.
`
