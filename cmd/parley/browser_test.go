package main

import (
	"context"
	"errors"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

const chromiumPath = "/usr/bin/chromium"

// needChromium skips loudly when Debian's chromium is missing, except under
// CI=true, where .ci/run has installed it and its absence is a failure.
func needChromium(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath(chromiumPath); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is missing under CI=true: .ci/run should have installed it", chromiumPath)
		}
		t.Skipf("SKIPPED LOUDLY: %s not found; install Debian's chromium (apt-get install chromium) to run the browser tests", chromiumPath)
	}
}

// newBrowser starts a headless Chromium with the flags that make WebRTC
// work on a loopback-only machine (../shared/BROWSER-TESTS.md). fakeMic, if
// set, is the WAV file its microphone plays.
func newBrowser(t *testing.T, ctx context.Context, fakeMic string) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath), chromedp.UserDataDir(t.TempDir()),
		chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("use-fake-ui-for-media-stream", true), chromedp.Flag("use-fake-device-for-media-stream", true),
		chromedp.Flag("autoplay-policy", "no-user-gesture-required"),
		chromedp.Flag("allow-loopback-in-peer-connection", true),
		// DefaultExecAllocatorOptions sets disable-features already, and a
		// second flag replaces it, so its values are repeated here.
		chromedp.Flag("disable-features", "Translate,BlinkGenPropertyTrees,WebRtcHideLocalIpsWithMdns"),
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND , EXCLUDE 127.0.0.1 , EXCLUDE localhost"),
		chromedp.WindowSize(1000, 800),
	)
	if fakeMic != "" {
		opts = append(opts, chromedp.Flag("use-file-for-fake-audio-capture", fakeMic))
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	bctx, cancelBrowser := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelBrowser(); cancelAlloc() })
	return bctx
}

// poll evaluates a JavaScript condition until it is true.
func poll(t *testing.T, ctx context.Context, what, expr string) {
	t.Helper()
	for {
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](expr, chromedp.EvalAwaitPromise))
		if err == nil && ok {
			return
		}
		select {
		case <-ctx.Done():
			state, _ := chromedp.Run(context.WithoutCancel(ctx), chromedp.Evaluate[string](`JSON.stringify({state: window.__parley?.state, pc: window.__parley?.pcState, errors: window.__parley?.errors})`))
			t.Fatalf("waiting for %s: %v (last error %v; page %s)", what, ctx.Err(), err, state)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// pageErrors returns the error codes the page has seen.
func pageErrors(t *testing.T, ctx context.Context) []string {
	t.Helper()
	errs, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`window.__parley.errors`))
	if err != nil && !errors.Is(err, chromedp.ErrJSNull) {
		t.Fatal(err)
	}
	return errs
}

// noPageErrors fails the test if the page recorded any error code but
// the allowed ones.
func noPageErrors(t *testing.T, name string, ctx context.Context, allowed ...string) {
	t.Helper()
	var bad []string
	for _, e := range pageErrors(t, ctx) {
		if !slices.Contains(allowed, e) {
			bad = append(bad, e)
		}
	}
	if len(bad) > 0 {
		t.Errorf("%s page saw errors: %s", name, strings.Join(bad, ", "))
	}
}

// saveShot writes a PNG of the whole page to test-artifacts (or
// $PARLEY_TEST_ARTIFACTS), where CI keeps them.
func saveShot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)) // quality 100 means PNG
	if err != nil {
		t.Fatal(err)
	}
	dir := os.Getenv("PARLEY_TEST_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join("..", "..", "test-artifacts")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, shot, 0o644); err != nil {
		t.Fatal(err)
	}
	abs, _ := filepath.Abs(path)
	t.Logf("screenshot: %s (%d bytes)", abs, len(shot))
}

// A speaker with a fake microphone and a listener, each in their own
// headless Chromium, meet through the web page; the listener hears audio.
func TestBrowserSpeakerToBrowserListener(t *testing.T) {
	needChromium(t)
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	ts := startServer(t)
	wav, err := filepath.Abs(filepath.Join("..", "..", "testdata", "speech.wav"))
	if err != nil {
		t.Fatal(err)
	}

	speaker := newBrowser(t, ctx, wav)
	if err := chromedp.Do(speaker, chromedp.Navigate(ts.BaseURL+"/?name=Ada&create="+url.QueryEscape("Browser test"))); err != nil {
		t.Fatal(err)
	}
	poll(t, speaker, "the speaker to be on stage and connected",
		`window.__parley?.state === 'room' && window.__parley.self?.role === 'moderator' && window.__parley.pcState === 'connected'`)
	roomID, err := chromedp.Run(speaker, chromedp.Evaluate[string](`window.__parley.room.id`))
	if err != nil {
		t.Fatal(err)
	}
	speakerID, err := chromedp.Run(speaker, chromedp.Evaluate[string](`window.__parley.self.user_id`))
	if err != nil {
		t.Fatal(err)
	}
	poll(t, speaker, "the fake microphone to send", `window.__parley.stats().then(s => s.outbound.packetsSent > 50)`)

	// The listener goes the way a person would: sign in with the form,
	// find the room in the live list, and click Join.
	listener := newBrowser(t, ctx, "")
	joinButton := `[data-testid=join-room][data-room-id="` + roomID + `"]`
	if err := chromedp.Do(listener,
		chromedp.Navigate(ts.BaseURL+"/"),
		chromedp.WaitVisible(chromedp.CSS("#signin-name")),
		chromedp.SendKeys(chromedp.CSS("#signin-name"), "Bob"),
		chromedp.Click(chromedp.CSS("#signin-button")),
		chromedp.WaitVisible(chromedp.CSS(joinButton)),
	); err != nil {
		t.Fatalf("sign in and find the room in the list: %v", err)
	}
	listed, err := chromedp.Run(listener, chromedp.Evaluate[string](`document.querySelector('[data-testid=room-item][data-room-id="`+roomID+`"]').innerText`))
	if err != nil || !strings.Contains(listed, "Browser test") {
		t.Fatalf("the room list shows %q (%v), want the room's title", listed, err)
	}
	if err := chromedp.Do(listener, chromedp.Click(chromedp.CSS(joinButton))); err != nil {
		t.Fatal(err)
	}
	poll(t, listener, "the listener to join as a listener",
		`window.__parley?.state === 'room' && window.__parley.self?.role === 'listener'`)
	poll(t, listener, "inbound audio with a level above 0.01",
		`window.__parley.stats().then(s => s.inbound.packetsReceived > 50 && s.inbound.audioLevel > 0.01)`)
	poll(t, listener, "the speaker's tile to show them speaking",
		`!!document.querySelector('[data-testid=participant][data-user-id="`+speakerID+`"][data-speaking="true"]')`)

	saveShot(t, listener, "browser-listener-room.png")

	// No signaling or media errors on either page.
	noPageErrors(t, "speaker", speaker)
	noPageErrors(t, "listener", listener)
}
