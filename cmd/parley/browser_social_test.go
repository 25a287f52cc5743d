package main

import (
	"context"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/parley-audio/parley/rooms"
	"github.com/parley-audio/parley/signaling/client"
)

// Someone without an account opens a room's guest link in a browser and
// hears the speaker, listed as a guest; the page offers them no hand.
func TestBrowserGuestHearsAnOpenRoomByLink(t *testing.T) {
	needChromium(t)
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	ts := startServer(t, func(c *serveConfig) { c.Social.GuestListening = true })
	wav, err := filepath.Abs(filepath.Join("..", "..", "testdata", "speech.wav"))
	if err != nil {
		t.Fatal(err)
	}

	speaker := newBrowser(t, ctx, wav)
	if err := chromedp.Do(speaker, chromedp.Navigate(ts.BaseURL+"/?name=Ada&create="+url.QueryEscape("Open to guests"))); err != nil {
		t.Fatal(err)
	}
	poll(t, speaker, "the speaker to be on stage and connected",
		`window.__parley?.state === 'room' && window.__parley.self?.role === 'moderator' && window.__parley.pcState === 'connected'`)
	poll(t, speaker, "the fake microphone to send", `window.__parley.stats().then(s => s.outbound.packetsSent > 50)`)
	poll(t, speaker, "the guest link button of an open room", `!document.getElementById('copy-guest-link').hidden`)
	roomID := jsString(t, speaker, `window.__parley.room.id`)

	// The guest follows the link, with no account and no sign-in.
	guest := newBrowser(t, ctx, "")
	if err := chromedp.Do(guest, chromedp.Navigate(ts.BaseURL+"/listen/"+roomID)); err != nil {
		t.Fatal(err)
	}
	poll(t, guest, "the guest to be in the room as a listener",
		`window.__parley?.state === 'room' && window.__parley.self?.role === 'listener' && window.__parley.self.user_id.startsWith('gst_') && window.__parley.member === null`)
	poll(t, guest, "inbound audio with a level above 0.01",
		`window.__parley.stats().then(s => s.inbound.packetsReceived > 50 && s.inbound.audioLevel > 0.01)`)
	poll(t, guest, "the guest note, and no hand to raise",
		`!document.getElementById('guest-note').hidden && document.getElementById('raise-hand').hidden && document.getElementById('copy-guest-link').hidden`)
	// The speaker's page lists the guest in the audience.
	poll(t, speaker, "the guest in the speaker's audience",
		`!!document.querySelector('#audience [data-testid=participant][data-user-id^="gst_"]')`)

	// The room counts the guest.
	host := &client.API{BaseURL: ts.BaseURL, HTTP: ts.http, Token: jsString(t, speaker, `JSON.parse(sessionStorage.getItem('parley.session')).token`)}
	var r rooms.RoomJSON
	if err := host.Call(ctx, http.MethodGet, "/api/v1/rooms/"+roomID, nil, &r); err != nil {
		t.Fatal(err)
	}
	if r.GuestCount != 1 || r.ListenerCount != 1 {
		t.Errorf("the room counts %d listeners, %d guests; want 1 and 1", r.ListenerCount, r.GuestCount)
	}
	// A raise_hand forced through the page's hook is refused by the server.
	code, err := chromedp.Run(guest, chromedp.Evaluate[string](`window.__parley.act('raise_hand').then(() => 'ok', (code) => code)`, chromedp.EvalAwaitPromise))
	if err != nil || code != "forbidden" {
		t.Errorf("a guest's raise_hand: %q, %v; want forbidden", code, err)
	}
	saveShot(t, guest, "browser-guest-room.png")
	noPageErrors(t, "the speaker's", speaker)
}

// Two people in two tabs: Ann edits her profile in the form, Bob finds her
// by name, opens her profile and follows her, and Ann's profile counts him.
func TestBrowserProfileSearchAndFollow(t *testing.T) {
	needChromium(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	ts := startServer(t)

	ann := newBrowser(t, ctx, "")
	if err := chromedp.Do(ann, chromedp.Navigate(ts.BaseURL+"/?name=Ann"),
		chromedp.WaitVisible(chromedp.CSS("#profile-link")), chromedp.Click(chromedp.CSS("#profile-link")),
		chromedp.WaitVisible(chromedp.CSS("#profile-form")),
	); err != nil {
		t.Fatalf("Ann opens her profile: %v", err)
	}
	poll(t, ann, "Ann's own profile", `document.getElementById('profile-name').textContent === 'Ann'`)
	// A bad avatar is refused by the server, field by field.
	if err := chromedp.Do(ann,
		chromedp.SetValue(chromedp.CSS("#profile-avatar-input"), "javascript:alert(1)"),
		chromedp.Click(chromedp.CSS("#profile-save")),
	); err != nil {
		t.Fatal(err)
	}
	poll(t, ann, "the avatar's error under its field",
		`!document.querySelector('[data-field-error=avatar_url]').hidden && document.getElementById('profile-avatar-input').getAttribute('aria-invalid') === 'true'`)
	if err := chromedp.Do(ann,
		chromedp.SetValue(chromedp.CSS("#profile-avatar-input"), "https://example.com/ann.png"),
		chromedp.SetValue(chromedp.CSS("#profile-username-input"), "ann_lee"),
		chromedp.SetValue(chromedp.CSS("#profile-headline-input"), "Engineer at Acme"),
		chromedp.SetValue(chromedp.CSS("#profile-bio-input"), "Compilers.\nClimbing."),
		chromedp.Click(chromedp.CSS("#profile-save")),
	); err != nil {
		t.Fatal(err)
	}
	poll(t, ann, "the saved profile",
		`document.getElementById('profile-headline').textContent === 'Engineer at Acme' && document.getElementById('profile-username').textContent === '@ann_lee' && document.querySelector('[data-field-error=avatar_url]').hidden`)

	// Bob, in another tab (sessionStorage is per tab: another person).
	bob, cancelBob := chromedp.NewContext(ann)
	defer cancelBob()
	if err := chromedp.Do(bob, chromedp.Navigate(ts.BaseURL+"/?name=Bob"),
		chromedp.WaitVisible(chromedp.CSS("#people-link")), chromedp.Click(chromedp.CSS("#people-link")),
		chromedp.WaitVisible(chromedp.CSS("#people-q")),
		chromedp.SendKeys(chromedp.CSS("#people-q"), "an"), chromedp.Click(chromedp.CSS("#people-search")),
	); err != nil {
		t.Fatalf("Bob searches: %v", err)
	}
	poll(t, bob, "a search of two letters refused in the page", `!document.getElementById('people-error').hidden`)
	if err := chromedp.Do(bob, chromedp.SendKeys(chromedp.CSS("#people-q"), "n"), chromedp.Click(chromedp.CSS("#people-search")),
		chromedp.WaitVisible(chromedp.CSS("#people-list li a")), chromedp.Click(chromedp.CSS("#people-list li a")),
	); err != nil {
		t.Fatalf("Bob finds Ann: %v", err)
	}
	poll(t, bob, "Ann's profile as Bob sees it",
		`window.__parley.state === 'profile' && document.getElementById('profile-headline').textContent === 'Engineer at Acme' && !document.getElementById('profile-actions').hidden && document.getElementById('profile-form').hidden`)
	if err := chromedp.Do(bob, chromedp.Click(chromedp.CSS("#follow-toggle"))); err != nil {
		t.Fatal(err)
	}
	poll(t, bob, "Bob following Ann",
		`document.getElementById('follow-toggle').getAttribute('aria-pressed') === 'true' && document.getElementById('profile-counts').textContent.startsWith('1 follower ')`)
	saveShot(t, bob, "browser-profile-follow.png")

	if err := chromedp.Do(ann, chromedp.Click(chromedp.CSS(".brand")), chromedp.Click(chromedp.CSS("#profile-link"))); err != nil {
		t.Fatal(err)
	}
	poll(t, ann, "Ann's profile counting Bob", `document.getElementById('profile-counts').textContent.startsWith('1 follower ')`)
	for name, b := range map[string]context.Context{"Ann": ann, "Bob": bob} {
		errs := pageErrors(t, b)
		// Ann's refused avatar is the one error expected.
		if name == "Ann" && len(errs) == 1 && errs[0] == "validation_failed" {
			continue
		}
		if len(errs) > 0 {
			t.Errorf("%s's page saw errors: %s", name, strings.Join(errs, ", "))
		}
	}
}

// A host starts a closed room from the web page; another member cannot
// join it until the host lets them in from the moderation panel.
func TestBrowserClosedRoomLetsInOnlyTheInvited(t *testing.T) {
	needChromium(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	ts := startServer(t)

	ann := newBrowser(t, ctx, "")
	if err := chromedp.Do(ann, chromedp.Navigate(ts.BaseURL+"/?name=Ann"),
		chromedp.WaitVisible(chromedp.CSS("#create-title")),
		chromedp.SendKeys(chromedp.CSS("#create-title"), "Inner circle"),
		chromedp.SetValue(chromedp.CSS("#create-visibility"), "closed"),
		chromedp.Click(chromedp.CSS("#create-room")),
	); err != nil {
		t.Fatalf("Ann starts a closed room: %v", err)
	}
	poll(t, ann, "Ann moderating her closed room",
		`window.__parley?.state === 'room' && window.__parley.self?.role === 'moderator' && window.__parley.room?.visibility === 'closed' && !document.getElementById('invitees-panel').hidden`)
	roomID := jsString(t, ann, `window.__parley.room.id`)

	bob, cancelBob := chromedp.NewContext(ann)
	defer cancelBob()
	if err := chromedp.Do(bob, chromedp.Navigate(ts.BaseURL+"/rooms/"+roomID+"?name=Bob")); err != nil {
		t.Fatal(err)
	}
	poll(t, bob, "Bob refused, back on the list", `window.__parley?.state === 'list' && window.__parley.errors.includes('room_not_found')`)
	if got := jsString(t, bob, `document.getElementById('room-list').innerText`); strings.Contains(got, "Inner circle") {
		t.Errorf("Bob's list shows the closed room: %q", got)
	}

	if err := chromedp.Do(ann,
		chromedp.SendKeys(chromedp.CSS("#invitee-q"), "Bob"), chromedp.Click(chromedp.CSS("#invitee-search")),
		chromedp.WaitVisible(chromedp.CSS("#invitee-results button[data-action=let-in]")),
		chromedp.Click(chromedp.CSS("#invitee-results button[data-action=let-in]")),
		chromedp.WaitVisible(chromedp.CSS("#invitee-list button[data-action=uninvite]")),
	); err != nil {
		t.Fatalf("Ann lets Bob in: %v", err)
	}
	if err := chromedp.Do(bob, chromedp.Navigate(ts.BaseURL+"/rooms/"+roomID)); err != nil {
		t.Fatal(err)
	}
	poll(t, bob, "Bob in the closed room", `window.__parley?.state === 'room' && window.__parley.self?.role === 'listener'`)
	poll(t, ann, "Bob in Ann's audience", `document.querySelectorAll('#audience [data-testid=participant]').length === 1`)
}
