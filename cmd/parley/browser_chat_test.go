package main

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// In two browsers: a listener chats from the page and the moderator sees
// it; the moderator deletes it and it goes from both pages; the moderator
// turns chat off and the listener's box goes quiet until it is on again;
// the history is there for whoever comes later.
func TestBrowserChatBetweenTwoPeople(t *testing.T) {
	needChromium(t)
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	ts := startServer(t)

	mod := newBrowser(t, ctx, silentWAV(t, 5))
	if err := chromedp.Do(mod, chromedp.Navigate(ts.BaseURL+"/?name=Mod&create="+url.QueryEscape("Chat in the browser"))); err != nil {
		t.Fatal(err)
	}
	poll(t, mod, "the moderator in the room", `window.__parley?.state === 'room' && window.__parley.self?.role === 'moderator'`)
	roomID := jsString(t, mod, `window.__parley.room.id`)

	guest := newBrowser(t, ctx, "")
	if err := chromedp.Do(guest, chromedp.Navigate(ts.BaseURL+"/rooms/"+roomID+"?name=Guest")); err != nil {
		t.Fatal(err)
	}
	poll(t, guest, "the guest in the audience", `window.__parley?.state === 'room' && window.__parley.self?.role === 'listener'`)

	// The guest types and sends with Enter.
	if err := chromedp.Do(guest,
		chromedp.WaitVisible(chromedp.CSS("[data-testid=chat-input]")),
		chromedp.SendKeys(chromedp.CSS("[data-testid=chat-input]"), "Hello from the audience\r"),
	); err != nil {
		t.Fatal(err)
	}
	item := `[data-testid=chat-log] [data-testid=chat-message]`
	poll(t, mod, "the guest's message at the moderator", `[...document.querySelectorAll('`+item+`')].some(li => li.innerText.includes('Hello from the audience') && li.innerText.includes('Guest'))`)
	poll(t, guest, "the guest's own message, sent", `window.__parley.chat.messages.length === 1 && document.querySelector('[data-testid=chat-input]').value === ''`)
	msgID := jsString(t, mod, `window.__parley.chat.messages[0].id`)

	// The moderator answers with the button.
	if err := chromedp.Do(mod,
		chromedp.SendKeys(chromedp.CSS("[data-testid=chat-input]"), "Welcome!"),
		chromedp.Click(chromedp.CSS("[data-testid=chat-send]")),
	); err != nil {
		t.Fatal(err)
	}
	poll(t, guest, "the moderator's answer, after the guest's message", `(m => m.length === 2 && m[0].body === 'Hello from the audience' && m[1].body === 'Welcome!')(window.__parley.chat.messages)`)
	// A listener may delete their own message only: the moderator's has no button.
	welcomeDelete := `[data-testid=chat-message]:not([data-message-id="` + msgID + `"]) [data-testid=chat-delete]`
	if hidden := jsString(t, guest, `String(document.querySelector('`+welcomeDelete+`').hidden)`); hidden != "true" {
		t.Error("the guest is offered to delete the moderator's message")
	}
	saveShot(t, guest, "browser-chat-guest.png")

	// The moderator deletes the guest's message: gone from both pages.
	del := `[data-testid=chat-message][data-message-id="` + msgID + `"] [data-testid=chat-delete]`
	if err := chromedp.Do(mod, chromedp.WaitVisible(chromedp.CSS(del)), chromedp.Click(chromedp.CSS(del))); err != nil {
		t.Fatal(err)
	}
	for name, b := range map[string]context.Context{"moderator": mod, "guest": guest} {
		poll(t, b, "the deleted message gone at the "+name, `!document.querySelector('[data-message-id="`+msgID+`"]') && window.__parley.chat.messages.length === 1`)
	}

	// Chat off: the guest's box is disabled and says why.
	if err := chromedp.Do(mod, chromedp.Click(chromedp.CSS("[data-testid=chat-toggle]"))); err != nil {
		t.Fatal(err)
	}
	poll(t, guest, "the guest's chat turned off", `!window.__parley.chat.enabled && document.querySelector('[data-testid=chat-input]').disabled && !document.querySelector('[data-testid=chat-note]').hidden`)
	poll(t, mod, "the moderator's switch off", `document.querySelector('[data-testid=chat-toggle]').getAttribute('aria-pressed') === 'false'`)
	if err := chromedp.Do(mod, chromedp.Click(chromedp.CSS("[data-testid=chat-toggle]"))); err != nil {
		t.Fatal(err)
	}
	poll(t, guest, "the guest's chat on again", `window.__parley.chat.enabled && !document.querySelector('[data-testid=chat-input]').disabled`)

	// Someone who comes later reads the history.
	late := newBrowser(t, ctx, "")
	if err := chromedp.Do(late, chromedp.Navigate(ts.BaseURL+"/rooms/"+roomID+"?name=Late")); err != nil {
		t.Fatal(err)
	}
	poll(t, late, "the history for a late listener", `(m => m.length === 1 && m[0].body === 'Welcome!')(window.__parley.chat.messages)`)

	for name, b := range map[string]context.Context{"moderator": mod, "guest": guest, "late": late} {
		noPageErrors(t, name, b)
	}
}

// In two browsers: a host schedules an event with a co-host from the list
// page; a member RSVPs to it; the co-host starts it from the list and
// lands in its room as a moderator, where the host joins as one too.
func TestBrowserEventScheduledAndStartedByACohost(t *testing.T) {
	needChromium(t)
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	ts := startServer(t)

	cohost := newBrowser(t, ctx, silentWAV(t, 5))
	if err := chromedp.Do(cohost, chromedp.Navigate(ts.BaseURL+"/?name=Cohost")); err != nil {
		t.Fatal(err)
	}
	poll(t, cohost, "the co-host on the list with their member ID", `window.__parley?.state === 'list' && document.querySelector('[data-testid=my-member-id]').textContent.startsWith('usr_')`)
	cohostID := jsString(t, cohost, `document.querySelector('[data-testid=my-member-id]').textContent`)
	if !strings.HasPrefix(cohostID, "usr_") {
		t.Fatalf("the page shows the member ID %q", cohostID)
	}

	host := newBrowser(t, ctx, silentWAV(t, 5))
	if err := chromedp.Do(host, chromedp.Navigate(ts.BaseURL+"/?name=Host")); err != nil {
		t.Fatal(err)
	}
	poll(t, host, "the host on the list", `window.__parley?.state === 'list'`)
	// A wrong form is refused with every wrong field.
	if err := chromedp.Do(host, chromedp.Click(chromedp.CSS("[data-testid=event-create]"))); err != nil {
		t.Fatal(err)
	}
	poll(t, host, "the form's errors", `(t => t.includes('title') && t.includes('starts_at'))(document.querySelector('[data-testid=event-error]').textContent)`)
	// Tomorrow, in the browser's own time zone, as a datetime-local input.
	if _, err := chromedp.Run(host, chromedp.Evaluate[bool](`(() => {
		const d = new Date(Date.now() + 24 * 3600 * 1000);
		const pad = (n) => String(n).padStart(2, '0');
		const el = document.querySelector('[data-testid=event-starts-at]');
		el.value = d.getFullYear() + '-' + pad(d.getMonth() + 1) + '-' + pad(d.getDate()) + 'T' + pad(d.getHours()) + ':' + pad(d.getMinutes());
		return true;
	})()`)); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(host,
		chromedp.SendKeys(chromedp.CSS("[data-testid=event-title]"), "Launch party"),
		chromedp.SendKeys(chromedp.CSS("[data-testid=event-cohosts]"), cohostID),
		chromedp.Click(chromedp.CSS("[data-testid=event-create]")),
	); err != nil {
		t.Fatal(err)
	}
	poll(t, host, "the event in the host's list", `window.__parley.events.some(e => e.title === 'Launch party')`)
	eventID := jsString(t, host, `window.__parley.events.find(e => e.title === 'Launch party').id`)

	// The co-host sees it (after a refresh of the list), RSVPs, and starts it.
	ev := `[data-testid=event-item][data-event-id="` + eventID + `"]`
	if err := chromedp.Do(cohost, chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS(ev+` [data-testid=event-rsvp]`)),
		chromedp.Click(chromedp.CSS(ev+` [data-testid=event-rsvp]`))); err != nil {
		t.Fatal(err)
	}
	poll(t, cohost, "the co-host's RSVP", `document.querySelector('`+ev+` [data-testid=event-rsvp]').getAttribute('aria-pressed') === 'true' && window.__parley.events[0].rsvp_count === 1`)
	saveShot(t, cohost, "browser-events-list.png")
	if err := chromedp.Do(cohost, chromedp.Click(chromedp.CSS(ev+` [data-testid=event-start]`))); err != nil {
		t.Fatal(err)
	}
	poll(t, cohost, "the co-host in the event's room as a moderator", `window.__parley?.state === 'room' && window.__parley.room?.title === 'Launch party' && window.__parley.self?.role === 'moderator'`)
	roomID := jsString(t, cohost, `window.__parley.room.id`)

	if err := chromedp.Do(host, chromedp.Navigate(ts.BaseURL+"/rooms/"+roomID)); err != nil {
		t.Fatal(err)
	}
	poll(t, host, "the host in the room as a moderator", `window.__parley?.state === 'room' && window.__parley.self?.role === 'moderator' && window.__parley.room.created_by.display_name === 'Host'`)
	// Started, it leaves the upcoming list.
	if err := chromedp.Do(host, chromedp.Navigate(ts.BaseURL+"/")); err != nil {
		t.Fatal(err)
	}
	poll(t, host, "the started event gone from the list", `window.__parley?.state === 'list' && !document.querySelector('`+ev+`') && window.__parley.events.length === 0 && !!document.querySelector('[data-testid=room-item][data-room-id="`+roomID+`"]')`)
}
