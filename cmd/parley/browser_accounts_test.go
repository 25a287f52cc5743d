package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/parley-audio/parley/signaling/client"
)

// typeInto clears a field and types text into it, as a person would.
func typeInto(sel, text string) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(
		chromedp.WaitVisible(chromedp.CSS(sel)),
		clearField(sel),
		chromedp.SendKeys(chromedp.CSS(sel), text),
	)
}

// clearField empties an input. (chromedp.SetValue refuses "": it reads the
// empty value back as no value.)
func clearField(sel string) chromedp.Action[chromedp.Void] {
	q, _ := json.Marshal(sel)
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		_, err := chromedp.Evaluate[bool](`(el => { el.value = ''; return true; })(document.querySelector(`+string(q)+`))`)(ctx, t)
		return chromedp.Void{}, err
	}
}

// The README's tour with real accounts, in the web page: the first person
// signs up and is the admin, makes an invite link; a second person opens
// the link, signs up with it and joins the first one's room; a third joins
// the waitlist and the admin approves them; the first signs out.
func TestBrowserSignUpWithAnInviteLink(t *testing.T) {
	needChromium(t)
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Second)
	defer cancel()
	ts := startServer(t, func(c *serveConfig) { c.DevSignIn = false })
	const password = "a good long password"

	// The first person: no account exists yet, so they are the admin.
	ada := newBrowser(t, ctx, silentWAV(t, 30))
	if err := chromedp.Do(ada,
		chromedp.Navigate(ts.BaseURL+"/"),
		chromedp.WaitVisible(chromedp.CSS("#signin-username")),
	); err != nil {
		t.Fatal(err)
	}
	poll(t, ada, "the development sign-in to stay hidden (it is off)",
		`document.querySelector('[data-testid=dev-signin]').hidden === true`)
	if err := chromedp.Do(ada,
		chromedp.Click(chromedp.CSS("#to-signup")),
		typeInto("#signup-username", "ada"),
		typeInto("#signup-display-name", "Ada Lovelace"),
		typeInto("#signup-password", password),
		chromedp.Click(chromedp.CSS("#signup-submit")),
	); err != nil {
		t.Fatalf("sign up: %v", err)
	}
	poll(t, ada, "Ada to be signed in, as the admin",
		`window.__parley.state === 'list' && window.__parley.member?.admin === true && !document.querySelector('#nav-waitlist').hidden`)

	// Her invites page: make a link.
	if err := chromedp.Do(ada,
		chromedp.Click(chromedp.CSS("#nav-invites")),
		chromedp.WaitVisible(chromedp.CSS("#invite-create")),
	); err != nil {
		t.Fatal(err)
	}
	poll(t, ada, "the quota", `document.querySelector('#invite-quota').textContent.includes('5 of 5')`)
	if err := chromedp.Do(ada, chromedp.Click(chromedp.CSS("#invite-create"))); err != nil {
		t.Fatal(err)
	}
	poll(t, ada, "the new invite link", `document.querySelector('#invite-link').value.includes('/join?invite=pinv_')`)
	link := jsString(t, ada, `document.querySelector('#invite-link').value`)
	poll(t, ada, "the invite in the list, unused, and the quota down by one",
		`document.querySelectorAll('[data-testid=invite-item][data-state=active]').length === 1 && document.querySelector('#invite-quota').textContent.includes('4 of 5')`)

	// Ada starts a room.
	if err := chromedp.Do(ada,
		chromedp.Click(chromedp.CSS(".brand")),
		typeInto("#create-title", "Invited only"),
		chromedp.Click(chromedp.CSS("#create-room")),
	); err != nil {
		t.Fatal(err)
	}
	poll(t, ada, "Ada in her room, as its moderator", `window.__parley.state === 'room' && window.__parley.self?.role === 'moderator'`)
	roomID := jsString(t, ada, `window.__parley.room.id`)

	// The second person opens the link in their own browser.
	bob := newBrowser(t, ctx, "")
	if err := chromedp.Do(bob, chromedp.Navigate(link)); err != nil {
		t.Fatal(err)
	}
	poll(t, bob, "the sign-up page with the code filled in, and the code out of the address bar",
		`window.__parley.state === 'signup' && document.querySelector('#signup-invite').value.startsWith('pinv_') && !location.search.includes('invite')`)
	if err := chromedp.Do(bob,
		typeInto("#signup-username", "bob"),
		typeInto("#signup-display-name", "Bob"),
		typeInto("#signup-password", "short"),
		chromedp.Click(chromedp.CSS("#signup-submit")),
	); err != nil {
		t.Fatal(err)
	}
	// A bad field is shown next to it, and nothing else is lost.
	poll(t, bob, "the password's error", `!document.querySelector('#signup-password-error').hidden && document.querySelector('#signup-invite').value.startsWith('pinv_')`)
	if err := chromedp.Do(bob,
		typeInto("#signup-password", password),
		chromedp.Click(chromedp.CSS("#signup-submit")),
	); err != nil {
		t.Fatal(err)
	}
	poll(t, bob, "Bob signed in, invited by Ada",
		`window.__parley.state === 'list' && window.__parley.member?.username === 'bob' && window.__parley.member.invited_by === `+jsQuote(jsString(t, ada, `window.__parley.member.id`)))
	joinButton := `[data-testid=join-room][data-room-id="` + roomID + `"]`
	if err := chromedp.Do(bob, chromedp.WaitVisible(chromedp.CSS(joinButton)), chromedp.Click(chromedp.CSS(joinButton))); err != nil {
		t.Fatal(err)
	}
	poll(t, bob, "Bob in Ada's room, over signaling with his session's token",
		`window.__parley.state === 'room' && window.__parley.self?.role === 'listener'`)

	// The same link again, in a fresh tab: used.
	carl, closeCarl := chromedp.NewContext(bob)
	defer closeCarl()
	if err := chromedp.Do(carl,
		chromedp.Navigate(link),
		typeInto("#signup-username", "carl"),
		typeInto("#signup-display-name", "Carl"),
		typeInto("#signup-password", password),
		chromedp.Click(chromedp.CSS("#signup-submit")),
	); err != nil {
		t.Fatal(err)
	}
	poll(t, carl, "the used invite refused on its field", `document.querySelector('#signup-invite_code-error').textContent.includes('already been used')`)
	// Without the code: the waitlist.
	if err := chromedp.Do(carl,
		clearField("#signup-invite"),
		chromedp.Click(chromedp.CSS("#signup-submit")),
	); err != nil {
		t.Fatal(err)
	}
	poll(t, carl, "the waitlist message", `!document.querySelector('#signup-waitlisted').hidden && document.querySelector('#signup-waitlisted').textContent.includes('@carl')`)

	// Ada leaves the room and approves Carl.
	if err := chromedp.Do(ada,
		chromedp.Click(chromedp.CSS("#leave-room")),
		chromedp.Click(chromedp.CSS("#nav-waitlist")),
	); err != nil {
		t.Fatal(err)
	}
	approve := `[data-testid=waitlist-item][data-username=carl] [data-testid=waitlist-approve]`
	if err := chromedp.Do(ada, chromedp.WaitVisible(chromedp.CSS(approve)), chromedp.Click(chromedp.CSS(approve))); err != nil {
		t.Fatal(err)
	}
	poll(t, ada, "the waitlist empty", `!document.querySelector('#waitlist-empty').hidden`)
	// Carl signs in with his password.
	if err := chromedp.Do(carl,
		chromedp.Click(chromedp.CSS("#to-signin")),
		typeInto("#signin-username", "carl"),
		typeInto("#signin-password", password),
		chromedp.Click(chromedp.CSS("#signin-submit")),
	); err != nil {
		t.Fatal(err)
	}
	poll(t, carl, "Carl signed in", `window.__parley.state === 'list' && window.__parley.member?.username === 'carl'`)

	// Bob lets Dave in from the waitlist, spending one of his invites.
	if _, err := (&client.API{BaseURL: ts.BaseURL, HTTP: ts.http}).SignUp(ctx, "dave", password, "Dave", ""); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(bob,
		chromedp.Click(chromedp.CSS("#leave-room")),
		chromedp.Click(chromedp.CSS("#nav-invites")),
		typeInto("#letin-username", "dave"),
		chromedp.Click(chromedp.CSS("#letin-submit")),
	); err != nil {
		t.Fatal(err)
	}
	poll(t, bob, "Dave let in: a direct invite used, one fewer left",
		`document.querySelectorAll('[data-testid=invite-item][data-state=used]').length === 1 && document.querySelector('#invite-quota').textContent.includes('4 of 5')`)
	if _, err := (&client.API{BaseURL: ts.BaseURL, HTTP: ts.http}).SignIn(ctx, "dave", password); err != nil {
		t.Errorf("Dave cannot sign in after being let in: %v", err)
	}

	// Ada's invites page says the invite was used.
	if err := chromedp.Do(ada, chromedp.Click(chromedp.CSS("#nav-invites"))); err != nil {
		t.Fatal(err)
	}
	poll(t, ada, "the invite shown as used", `document.querySelectorAll('[data-testid=invite-item][data-state=used]').length === 1`)
	saveShot(t, ada, "browser-invites.png")

	// Ada signs out: back to the sign-in form, and her old token is refused.
	oldToken := jsString(t, ada, `JSON.parse(sessionStorage.getItem('parley.session')).token`)
	if err := chromedp.Do(ada, chromedp.Click(chromedp.CSS("#signout"))); err != nil {
		t.Fatal(err)
	}
	poll(t, ada, "Ada signed out", `window.__parley.state === 'signin' && sessionStorage.getItem('parley.session') === null`)
	status, err := chromedp.Run(ada, chromedp.Evaluate[string](`fetch('/api/v1/rooms', {headers: {Authorization: 'Bearer `+oldToken+`'}}).then(r => r.json()).then(b => b.error.code)`, chromedp.EvalAwaitPromise))
	if err != nil || status != "session_revoked" {
		t.Errorf("the signed-out token: %q, %v; want session_revoked", status, err)
	}

	noPageErrors(t, "Ada's", ada)
	noPageErrors(t, "Bob's", bob, "validation_failed")
	noPageErrors(t, "Carl's", carl, "invite_used")
}

func jsQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `\'`) + "'" }

// The page refreshes its access token before it lapses: with tokens that
// live two seconds, every request finds its token about to expire, and the
// page gets a new one with the refresh token, in the same session.
func TestBrowserKeepsTheAccessTokenFresh(t *testing.T) {
	needChromium(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	ts := startServer(t, func(c *serveConfig) { c.DevSignIn, c.AccessTokenTTL = false, 2*time.Second })
	ann := newBrowser(t, ctx, "")
	if err := chromedp.Do(ann,
		chromedp.Navigate(ts.BaseURL+"/signup"),
		typeInto("#signup-username", "ann"),
		typeInto("#signup-display-name", "Ann"),
		typeInto("#signup-password", "a good long password"),
		chromedp.Click(chromedp.CSS("#signup-submit")),
	); err != nil {
		t.Fatal(err)
	}
	poll(t, ann, "Ann signed in", `window.__parley.state === 'list'`)
	session := func() string { return jsString(t, ann, `sessionStorage.getItem('parley.session')`) }
	before := session()
	if err := chromedp.Do(ann, chromedp.Click(chromedp.CSS("#nav-invites"))); err != nil {
		t.Fatal(err)
	}
	poll(t, ann, "the invites page loaded", `document.querySelector('#invite-quota').textContent.includes('of 5')`)
	if err := chromedp.Do(ann, chromedp.Click(chromedp.CSS("#invite-create"))); err != nil {
		t.Fatal(err)
	}
	poll(t, ann, "an invite made", `document.querySelector('#invite-link').value.includes('/join?invite=')`)
	after := session()
	tok := func(s, field string) string {
		var v map[string]any
		if err := json.Unmarshal([]byte(s), &v); err != nil {
			t.Fatal(err)
		}
		str, _ := v[field].(string)
		return str
	}
	// (Two access tokens issued in the same second are the same string,
	// as JWT times are whole seconds; refresh tokens are random.)
	if tok(after, "session_id") != tok(before, "session_id") || tok(after, "refresh_token") == tok(before, "refresh_token") {
		t.Errorf("session before %s\nafter %s\nwant the same session with new tokens", before, after)
	}
	noPageErrors(t, "Ann's", ann)
}
