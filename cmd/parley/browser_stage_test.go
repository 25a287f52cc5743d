package main

import (
	"context"
	"encoding/binary"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/parley-audio/parley/rooms"
)

// silentWAV writes seconds of 48 kHz mono silence, a microphone that is
// plugged in and says nothing.
func silentWAV(t *testing.T, seconds int) string {
	t.Helper()
	n := 48000 * seconds
	b := make([]byte, 44+2*n)
	copy(b, "RIFF")
	binary.LittleEndian.PutUint32(b[4:], uint32(36+2*n))
	copy(b[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(b[16:], 16)
	binary.LittleEndian.PutUint16(b[20:], 1)     // PCM
	binary.LittleEndian.PutUint16(b[22:], 1)     // mono
	binary.LittleEndian.PutUint32(b[24:], 48000) // rate
	binary.LittleEndian.PutUint32(b[28:], 96000) // bytes a second
	binary.LittleEndian.PutUint16(b[32:], 2)     // block align
	binary.LittleEndian.PutUint16(b[34:], 16)    // bits
	copy(b[36:], "data")
	binary.LittleEndian.PutUint32(b[40:], uint32(2*n))
	path := filepath.Join(t.TempDir(), "silence.wav")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func jsString(t *testing.T, ctx context.Context, expr string) string {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[string](expr))
	if err != nil {
		t.Fatalf("%s: %v", expr, err)
	}
	return v
}

// In three browsers: a listener raises a hand in the web page, the
// moderator invites them from the hand queue, they accept, and their fake
// microphone is heard by a second listener, with the speaking ring on.
func TestBrowserHandInviteAcceptIsHeard(t *testing.T) {
	needChromium(t)
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Second)
	defer cancel()
	ts := startServer(t)
	speech, err := filepath.Abs(filepath.Join("..", "..", "testdata", "speech.wav"))
	if err != nil {
		t.Fatal(err)
	}

	mod := newBrowser(t, ctx, silentWAV(t, 5))
	if err := chromedp.Do(mod, chromedp.Navigate(ts.BaseURL+"/?name=Mod&create="+url.QueryEscape("Stage in the browser"))); err != nil {
		t.Fatal(err)
	}
	poll(t, mod, "the moderator in the room", `window.__parley?.state === 'room' && window.__parley.self?.role === 'moderator' && window.__parley.pcState === 'connected'`)
	roomID := jsString(t, mod, `window.__parley.room.id`)

	guest := newBrowser(t, ctx, speech)
	if err := chromedp.Do(guest, chromedp.Navigate(ts.BaseURL+"/rooms/"+roomID+"?name=Guest")); err != nil {
		t.Fatal(err)
	}
	poll(t, guest, "the guest in the audience", `window.__parley?.state === 'room' && window.__parley.self?.role === 'listener' && window.__parley.pcState === 'connected'`)
	guestID := jsString(t, guest, `window.__parley.self.user_id`)

	ear := newBrowser(t, ctx, "")
	if err := chromedp.Do(ear, chromedp.Navigate(ts.BaseURL+"/rooms/"+roomID+"?name=Ear")); err != nil {
		t.Fatal(err)
	}
	poll(t, ear, "the second listener in the room", `window.__parley?.state === 'room' && window.__parley.pcState === 'connected'`)

	// The guest raises a hand; it shows in the moderator's queue, where the
	// moderator invites them.
	if err := chromedp.Do(guest, chromedp.Click(chromedp.CSS("[data-testid=raise-hand]"))); err != nil {
		t.Fatal(err)
	}
	invite := `[data-testid=hand-queue] [data-testid=hand-item][data-user-id="` + guestID + `"] [data-testid=invite]`
	if err := chromedp.Do(mod, chromedp.WaitVisible(chromedp.CSS(invite)), chromedp.Click(chromedp.CSS(invite))); err != nil {
		t.Fatalf("the moderator inviting from the hand queue: %v", err)
	}
	if err := chromedp.Do(guest, chromedp.WaitVisible(chromedp.CSS("[data-testid=accept-invite]")), chromedp.Click(chromedp.CSS("[data-testid=accept-invite]"))); err != nil {
		t.Fatalf("the guest accepting: %v", err)
	}
	poll(t, guest, "the guest on stage, sending", `window.__parley.self?.role === 'speaker' && window.__parley.stats().then(s => s.outbound.packetsSent > 50)`)

	// The moderator's microphone is silent, so a level at the second
	// listener can only be the guest's voice.
	poll(t, ear, "the guest's voice at the second listener", `window.__parley.stats().then(s => s.inbound.packetsReceived > 50 && s.inbound.audioLevel > 0.01)`)
	poll(t, ear, "the guest's speaking ring", `!!document.querySelector('[data-testid=participant][data-user-id="`+guestID+`"][data-speaking="true"]')`)

	saveShot(t, mod, "browser-moderator-stage.png")
}

// A moderator acts on a listener from the tile's menu: the menu opens on
// its button and closes on Escape; remove asks first, Cancel keeps the
// listener, and OK removes them.
func TestBrowserModeratorRemovesFromTheTileMenu(t *testing.T) {
	needChromium(t)
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	ts := startServer(t)
	mod := newBrowser(t, ctx, silentWAV(t, 5))
	if err := chromedp.Do(mod, chromedp.Navigate(ts.BaseURL+"/?name=Mod&create="+url.QueryEscape("Menus"))); err != nil {
		t.Fatal(err)
	}
	poll(t, mod, "the moderator in the room", `window.__parley?.state === 'room' && window.__parley.self?.role === 'moderator'`)
	roomID := jsString(t, mod, `window.__parley.room.id`)
	lis := ts.signIn(t, ctx, "Lis")
	lis.connect(t, ctx, ts, rooms.RoomID(roomID), false)
	lisID := string(lis.id)

	tile := `[data-testid=audience] [data-testid=participant][data-user-id="` + lisID + `"]`
	menuOpen := `document.querySelector('` + tile + ` [data-testid=participant-menu]')?.getAttribute('aria-expanded') === 'true'`
	if err := chromedp.Do(mod, chromedp.WaitVisible(chromedp.CSS(tile+" [data-testid=participant-menu]")),
		chromedp.Click(chromedp.CSS(tile+" [data-testid=participant-menu]"))); err != nil {
		t.Fatalf("opening the listener's menu: %v", err)
	}
	poll(t, mod, "the menu open", menuOpen)
	if err := chromedp.Do(mod, chromedp.KeyEvent(kb.Escape)); err != nil {
		t.Fatal(err)
	}
	poll(t, mod, "the menu closed by Escape", `!(`+menuOpen+`)`)

	remove := tile + ` [data-testid=remove]`
	for _, answer := range []string{"confirm-cancel", "confirm-ok"} {
		if err := chromedp.Do(mod, chromedp.Click(chromedp.CSS(tile+" [data-testid=participant-menu]")),
			chromedp.WaitVisible(chromedp.CSS(remove)), chromedp.Click(chromedp.CSS(remove)),
			chromedp.WaitVisible(chromedp.CSS("[data-testid=confirm-dialog]")),
			chromedp.Click(chromedp.CSS("[data-testid="+answer+"]"))); err != nil {
			t.Fatalf("remove, then %s: %v", answer, err)
		}
		if answer == "confirm-cancel" {
			poll(t, mod, "the dialog closed", `!document.getElementById('confirm-dialog').open`)
			if jsString(t, mod, `String(window.__parley.participants.some(p => p.user_id === '`+lisID+`'))`) != "true" {
				t.Fatal("Cancel removed the listener")
			}
		}
	}
	poll(t, mod, "the listener gone", `!window.__parley.participants.some(p => p.user_id === '`+lisID+`')`)
	noPageErrors(t, "the moderator's", mod)
}
