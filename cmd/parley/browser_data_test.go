package main

import (
	"archive/zip"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"

	"github.com/parley-audio/parley/members"
	"github.com/parley-audio/parley/rooms"
	"github.com/parley-audio/parley/signaling/client"
)

// In the web page, on her profile's "Your data" panel, Ann downloads her
// archive (a real file, saved by the browser) and then deletes her
// account: a wrong password is refused and deletes nothing, the right one
// deletes it, the page signs her out and says so, and the server refuses
// her token and her password from then on. Her room stays, hosted by
// "Deleted member".
func TestBrowserDownloadsTheExportAndDeletesTheAccount(t *testing.T) {
	needChromium(t)
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	ts := startServer(t)
	const password = "a good long password"

	rest := &client.API{BaseURL: ts.BaseURL, HTTP: ts.http}
	ann, err := rest.SignUp(ctx, "ann", password, "Ann", "")
	if err != nil {
		t.Fatal(err)
	}
	if err := rest.Call(ctx, http.MethodPatch, "/api/v1/me/profile", map[string]string{"headline": "CTO at Acme"}, nil); err != nil {
		t.Fatal(err)
	}
	room, err := rest.CreateRoom(ctx, "Ann's room", "")
	if err != nil {
		t.Fatal(err)
	}
	bob := &client.API{BaseURL: ts.BaseURL, HTTP: ts.http}
	if _, err := bob.DevSignIn(ctx, "Bob"); err != nil {
		t.Fatal(err)
	}

	page := newBrowser(t, ctx, "")
	if err := chromedp.Do(page,
		chromedp.Navigate(ts.BaseURL+"/"),
		typeInto("#signin-username", "ann"),
		typeInto("#signin-password", password),
		chromedp.Click(chromedp.CSS("#signin-submit")),
	); err != nil {
		t.Fatal(err)
	}
	poll(t, page, "Ann signed in", `window.__parley.state === 'list' && window.__parley.member?.username === 'ann'`)
	token := jsString(t, page, `JSON.parse(sessionStorage.getItem('parley.session')).token`)
	if err := chromedp.Do(page, chromedp.Click(chromedp.CSS("#profile-link"))); err != nil {
		t.Fatal(err)
	}
	poll(t, page, "the Your data panel on her own profile, with a password field",
		`window.__parley.state === 'profile' && !document.getElementById('data-card').hidden && !document.getElementById('delete-password-row').hidden`)

	// The download, as a file the browser saves.
	dir := t.TempDir()
	if _, err := chromedp.Call(page, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
		Behavior: browser.SetDownloadBehaviorBehaviorAllowAndName, DownloadPath: dir, EventsEnabled: ptrTo(true),
	}); err != nil {
		t.Fatal(err)
	}
	dctx, stop := context.WithTimeout(page, 30*time.Second)
	defer stop()
	progress := chromedp.Events(dctx, browser.DownloadProgress)
	if err := chromedp.Do(page, chromedp.Click(chromedp.CSS("#data-export"))); err != nil {
		t.Fatal(err)
	}
	var file string
	for ev, err := range progress {
		if err != nil {
			t.Fatalf("waiting for the download: %v", err)
		}
		if ev.State == browser.DownloadProgressStateCompleted {
			file = filepath.Join(dir, ev.GUID)
			break
		}
		if ev.State == browser.DownloadProgressStateCanceled {
			t.Fatal("the browser cancelled the download")
		}
	}
	poll(t, page, "the panel to say it downloaded the archive",
		`document.getElementById('data-export-status').textContent.startsWith('Downloaded parley-export-') && window.__parley.lastExport?.size > 0`)
	profile := readZipFile(t, file, "profile.json")
	var p struct {
		ID       rooms.UserID `json:"id"`
		Username string       `json:"username"`
		Headline string       `json:"headline"`
	}
	if err := json.Unmarshal(profile, &p); err != nil || p.ID != ann.Member.ID || p.Username != "ann" || p.Headline != "CTO at Acme" {
		t.Errorf("profile.json of the downloaded archive = %s (%v)", profile, err)
	}
	if readme := readZipFile(t, file, "README.md"); len(readme) == 0 {
		t.Error("the archive has an empty README.md")
	}

	// A wrong password deletes nothing.
	if err := chromedp.Do(page,
		chromedp.Click(chromedp.CSS("#delete-open")),
		typeInto("#delete-password", "not my password at all"),
		chromedp.Click(chromedp.CSS("#delete-confirm")),
		chromedp.Click(chromedp.CSS("#delete-submit")),
	); err != nil {
		t.Fatal(err)
	}
	poll(t, page, "the refusal of a wrong password",
		`!document.getElementById('delete-error').hidden && document.getElementById('delete-error').textContent.includes('Nothing was deleted')`)
	if _, err := (&client.API{BaseURL: ts.BaseURL, HTTP: ts.http, Token: token}).LiveRooms(ctx); err != nil {
		t.Fatalf("after the wrong password the token should still work: %v", err)
	}
	saveShot(t, page, "browser-your-data.png")

	// The right one deletes the account; the page signs out and says so.
	if err := chromedp.Do(page,
		typeInto("#delete-password", password),
		chromedp.Click(chromedp.CSS("#delete-submit")),
	); err != nil {
		t.Fatal(err)
	}
	poll(t, page, "the confirmation, signed out here",
		`window.__parley.state === 'deleted' && !document.getElementById('deleted-note').hidden && sessionStorage.getItem('parley.session') === null && window.__parley.member === null`)
	saveShot(t, page, "browser-account-deleted.png")
	noPageErrors(t, "Ann's", page, "wrong_password")

	// The server agrees: the token and the password are refused; her room
	// is hosted by "Deleted member".
	if _, err := (&client.API{BaseURL: ts.BaseURL, HTTP: ts.http, Token: token}).LiveRooms(ctx); !client.IsCode(err, "account_deleted") {
		t.Errorf("Ann's token after deletion: %v, want account_deleted", err)
	}
	if _, err := (&client.API{BaseURL: ts.BaseURL, HTTP: ts.http}).SignIn(ctx, "ann", password); !client.IsCode(err, "invalid_credentials") {
		t.Errorf("signing in after deletion: %v, want invalid_credentials", err)
	}
	var r rooms.RoomJSON
	if err := bob.Call(ctx, http.MethodGet, "/api/v1/rooms/"+string(room.ID), nil, &r); err != nil {
		t.Fatal(err)
	}
	if r.CreatedBy.DisplayName != members.DeletedName {
		t.Errorf("Ann's room is hosted by %q, want %q", r.CreatedBy.DisplayName, members.DeletedName)
	}

	// A development account, in another tab: no password to ask for.
	dev, closeDev := chromedp.NewContext(page)
	defer closeDev()
	if err := chromedp.Do(dev,
		chromedp.Navigate(ts.BaseURL+"/?name=Dev"),
		chromedp.WaitVisible(chromedp.CSS("#profile-link")),
		chromedp.Click(chromedp.CSS("#profile-link")),
	); err != nil {
		t.Fatal(err)
	}
	poll(t, dev, "the panel without a password field",
		`window.__parley.state === 'profile' && !document.getElementById('data-card').hidden && document.getElementById('delete-password-row').hidden`)
	devToken := jsString(t, dev, `JSON.parse(sessionStorage.getItem('parley.session')).token`)
	if err := chromedp.Do(dev,
		chromedp.Click(chromedp.CSS("#delete-open")),
		chromedp.Click(chromedp.CSS("#delete-submit")),
	); err != nil {
		t.Fatal(err)
	}
	poll(t, dev, "the box to tick first", `document.getElementById('delete-error').textContent.includes('Tick the box')`)
	if err := chromedp.Do(dev,
		chromedp.Click(chromedp.CSS("#delete-confirm")),
		chromedp.Click(chromedp.CSS("#delete-submit")),
	); err != nil {
		t.Fatal(err)
	}
	poll(t, dev, "the confirmation", `window.__parley.state === 'deleted' && sessionStorage.getItem('parley.session') === null`)
	if _, err := (&client.API{BaseURL: ts.BaseURL, HTTP: ts.http, Token: devToken}).LiveRooms(ctx); !client.IsCode(err, "account_deleted") {
		t.Errorf("the development token after deletion: %v, want account_deleted", err)
	}
	noPageErrors(t, "Dev's", dev)
}

func ptrTo[T any](v T) *T { return &v }

// readZipFile returns one file of the zip archive at path.
func readZipFile(t *testing.T, path, name string) []byte {
	t.Helper()
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatalf("the download is not a zip archive: %v", err)
	}
	defer zr.Close()
	for _, f := range zr.File {
		if f.Name != name {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		defer rc.Close()
		b, err := io.ReadAll(rc)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	t.Fatalf("the archive has no %s", name)
	return nil
}
