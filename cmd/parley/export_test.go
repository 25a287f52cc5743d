package main

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// GET /api/v1/me/export on the whole server: a zip whose README explains
// it, with the member's profile and rooms, and nothing of another member's.
func TestExportDownloadsTheMembersArchive(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	ts := startServer(t)
	ada := ts.signIn(t, ctx, "Ada")
	bob := ts.signIn(t, ctx, "Bob")
	mine, err := ada.api.CreateRoom(ctx, "Ada's room", "hers")
	if err != nil {
		t.Fatal(err)
	}
	theirs, err := bob.api.CreateRoom(ctx, "Bob's room", "his")
	if err != nil {
		t.Fatal(err)
	}

	files := exportFiles(t, ctx, ts, ada)
	for _, name := range []string{"README.md", "profile.json", "invites.json", "rooms_hosted.json"} {
		if _, ok := files[name]; !ok {
			t.Errorf("the archive lacks %s", name)
		}
		if name != "README.md" && !strings.Contains(files["README.md"], "`"+name+"`") {
			t.Errorf("README.md does not explain %s", name)
		}
	}
	var hosted []struct {
		ID    string `json:"id"`
		Title string `json:"title"`
	}
	if err := json.Unmarshal([]byte(files["rooms_hosted.json"]), &hosted); err != nil {
		t.Fatal(err)
	}
	if len(hosted) != 1 || hosted[0].ID != string(mine.ID) || hosted[0].Title != "Ada's room" {
		t.Errorf("rooms_hosted.json = %+v, want Ada's room alone", hosted)
	}
	for name, b := range files {
		if strings.Contains(b, string(theirs.ID)) || strings.Contains(b, string(bob.id)) {
			t.Errorf("%s holds Bob's data", name)
		}
	}

	// Without a token there is no archive.
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, ts.BaseURL+"/api/v1/me/export", nil)
	resp, err := ts.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("export without a token: %d, want 401", resp.StatusCode)
	}
}

// exportFiles downloads p's archive and returns its files.
func exportFiles(t *testing.T, ctx context.Context, ts *testServer, p *person) map[string]string {
	t.Helper()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, ts.BaseURL+"/api/v1/me/export", nil)
	req.Header.Set("Authorization", "Bearer "+p.api.Token)
	resp, err := ts.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("export: %d %v %s", resp.StatusCode, err, body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/zip" {
		t.Errorf("Content-Type = %q", ct)
	}
	if cd := resp.Header.Get("Content-Disposition"); !strings.HasPrefix(cd, `attachment; filename="parley-export-`) {
		t.Errorf("Content-Disposition = %q", cd)
	}
	zr, err := zip.NewReader(bytes.NewReader(body), int64(len(body)))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{}
	for _, f := range zr.File {
		rc, _ := f.Open()
		b, _ := io.ReadAll(rc)
		rc.Close()
		files[f.Name] = string(b)
	}
	return files
}
