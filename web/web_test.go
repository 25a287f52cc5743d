package web

import (
	"bytes"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"
)

// get serves one request from h and returns the recorded response.
func get(t *testing.T, h http.Handler, method, target string, hdr ...string) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(method, target, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Set(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func checkSecurityHeaders(t *testing.T, w *httptest.ResponseRecorder) {
	t.Helper()
	h := w.Header()
	for k, want := range map[string]string{
		"X-Content-Type-Options": "nosniff",
		"Referrer-Policy":        "no-referrer",
	} {
		if got := h.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if got := h.Get("Permissions-Policy"); !strings.Contains(got, "microphone=(self)") {
		t.Errorf("Permissions-Policy = %q, want microphone=(self)", got)
	}
	csp := h.Get("Content-Security-Policy")
	for _, want := range []string{
		"default-src 'none'", "script-src 'self'", "style-src 'self'",
		"connect-src 'self' ws: wss:", "media-src 'self' blob: mediastream:", "frame-ancestors 'none'",
	} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	for _, bad := range []string{"unsafe-inline", "unsafe-eval", "http:", "https:", "*"} {
		if strings.Contains(csp, bad) {
			t.Errorf("CSP %q allows %q", csp, bad)
		}
	}
}

func readStatic(t *testing.T, name string) string {
	t.Helper()
	b, err := fs.ReadFile(embedded, "static/"+name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestIndexIsServedWithItsHeaders(t *testing.T) {
	t.Parallel()
	w := get(t, Handler(), "GET", "/")
	if w.Code != http.StatusOK {
		t.Fatalf("GET / = %d", w.Code)
	}
	checkSecurityHeaders(t, w)
	if got := w.Header().Get("Content-Type"); got != "text/html; charset=utf-8" {
		t.Errorf("Content-Type = %q", got)
	}
	if got := w.Header().Get("Cache-Control"); got != "no-cache" {
		t.Errorf("Cache-Control = %q, want no-cache", got)
	}
	if w.Body.String() != readStatic(t, "index.html") {
		t.Error("GET / did not return index.html")
	}
}

func TestAssetsHaveTheirContentTypes(t *testing.T) {
	t.Parallel()
	h := Handler()
	for _, tc := range []struct{ path, ctype string }{
		{"/app.js", "text/javascript; charset=utf-8"},
		{"/signal.js", "text/javascript; charset=utf-8"},
		{"/rtc.js", "text/javascript; charset=utf-8"},
		{"/stage.js", "text/javascript; charset=utf-8"},
		{"/app.css", "text/css; charset=utf-8"},
		{"/favicon.svg", "image/svg+xml"},
	} {
		t.Run(tc.path, func(t *testing.T) {
			w := get(t, h, "GET", tc.path)
			if w.Code != http.StatusOK {
				t.Fatalf("GET %s = %d", tc.path, w.Code)
			}
			if got := w.Header().Get("Content-Type"); got != tc.ctype {
				t.Errorf("Content-Type = %q, want %q", got, tc.ctype)
			}
			checkSecurityHeaders(t, w)
			if w.Header().Get("ETag") == "" {
				t.Error("no ETag")
			}
		})
	}
}

func TestEveryStaticFileIsServedAsItself(t *testing.T) {
	t.Parallel()
	h := Handler()
	err := fs.WalkDir(embedded, "static", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		urlPath := strings.TrimPrefix(name, "static")
		if urlPath == "/index.html" {
			return nil // redirected to /, tested elsewhere
		}
		w := get(t, h, "GET", urlPath)
		if w.Code != http.StatusOK || w.Body.String() != readStatic(t, strings.TrimPrefix(urlPath, "/")) {
			t.Errorf("GET %s = %d, or not the file", urlPath, w.Code)
		}
		if _, ok := contentTypes[path.Ext(name)]; !ok {
			t.Errorf("%s: add its extension to contentTypes", name)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestClientRoutesGetIndex(t *testing.T) {
	t.Parallel()
	h := Handler()
	index := readStatic(t, "index.html")
	for _, p := range []string{"/rooms/rm_abcdefghijklmnopqrstuvwxyz", "/rooms/rm_x/", "/rooms", "/some/deep/route"} {
		w := get(t, h, "GET", p)
		if w.Code != http.StatusOK || w.Body.String() != index {
			t.Errorf("GET %s = %d, want index.html", p, w.Code)
		}
		if got := w.Header().Get("Content-Type"); got != "text/html; charset=utf-8" {
			t.Errorf("GET %s: Content-Type = %q", p, got)
		}
		if got := w.Header().Get("Cache-Control"); got != "no-cache" {
			t.Errorf("GET %s: Cache-Control = %q", p, got)
		}
		checkSecurityHeaders(t, w)
	}
}

func TestMissingAssetsAre404(t *testing.T) {
	t.Parallel()
	h := Handler()
	for _, p := range []string{
		"/missing.js", "/favicon.ico", "/rooms/app.js", "/rooms/rm_x/app.css",
		"/api/v1/nope", "/api", "/%2e%2e/web.go", "/../web_test.go", "/static/app.js",
	} {
		w := get(t, h, "GET", p)
		if w.Code != http.StatusNotFound {
			t.Errorf("GET %s = %d, want 404", p, w.Code)
		}
		if strings.Contains(w.Body.String(), "<html") {
			t.Errorf("GET %s returned HTML", p)
		}
		checkSecurityHeaders(t, w)
	}
}

func TestNoDirectoryListings(t *testing.T) {
	t.Parallel()
	fsys := fstest.MapFS{
		"index.html":       {Data: []byte("<!doctype html><title>index</title>")},
		"img/logo.svg":     {Data: []byte("<svg/>")},
		"img/sub/deep.svg": {Data: []byte("<svg/>")},
		"assets.d/x.js":    {Data: []byte("1")},
	}
	h := newHandler(fsys)
	for _, p := range []string{"/img", "/img/", "/img/sub/", "/assets.d/", "/assets.d"} {
		w := get(t, h, "GET", p)
		body := w.Body.String()
		if strings.Contains(body, "logo.svg") || strings.Contains(body, "x.js") || strings.Contains(body, "<pre>") {
			t.Errorf("GET %s listed the directory: %q", p, body)
		}
		if w.Code != http.StatusOK && w.Code != http.StatusNotFound {
			t.Errorf("GET %s = %d", p, w.Code)
		}
	}
	if w := get(t, h, "GET", "/img/logo.svg"); w.Code != http.StatusOK || w.Body.String() != "<svg/>" {
		t.Errorf("GET /img/logo.svg = %d %q", w.Code, w.Body.String())
	}
	// The real tree, too: every directory in it.
	real := Handler()
	_ = fs.WalkDir(embedded, "static", func(name string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			p := strings.TrimPrefix(name, "static") + "/"
			if w := get(t, real, "GET", p); !strings.Contains(w.Body.String(), "<!doctype html>") {
				t.Errorf("GET %s is not index.html", p)
			}
		}
		return nil
	})
}

func TestIndexHTMLRedirectsToRoot(t *testing.T) {
	t.Parallel()
	w := get(t, Handler(), "GET", "/index.html")
	if w.Code != http.StatusMovedPermanently || w.Header().Get("Location") != "./" {
		t.Errorf("GET /index.html = %d Location %q", w.Code, w.Header().Get("Location"))
	}
}

func TestMethodsOtherThanGetAndHead(t *testing.T) {
	t.Parallel()
	h := Handler()
	w := get(t, h, "HEAD", "/rooms/rm_x")
	if w.Code != http.StatusOK || w.Body.Len() != 0 || w.Header().Get("Content-Type") != "text/html; charset=utf-8" {
		t.Errorf("HEAD = %d, %d bytes, %q", w.Code, w.Body.Len(), w.Header().Get("Content-Type"))
	}
	for _, m := range []string{"POST", "PUT", "DELETE"} {
		w := get(t, h, m, "/")
		if w.Code != http.StatusMethodNotAllowed || w.Header().Get("Allow") != "GET, HEAD" {
			t.Errorf("%s / = %d, Allow %q", m, w.Code, w.Header().Get("Allow"))
		}
	}
}

func TestRevalidationGets304(t *testing.T) {
	t.Parallel()
	h := Handler()
	for _, p := range []string{"/", "/app.js", "/rooms/rm_x"} {
		tag := get(t, h, "GET", p).Header().Get("ETag")
		if tag == "" {
			t.Fatalf("GET %s: no ETag", p)
		}
		if w := get(t, h, "GET", p, "If-None-Match", tag); w.Code != http.StatusNotModified {
			t.Errorf("GET %s with its ETag = %d, want 304", p, w.Code)
		}
	}
}

// The page loads with no build step, so check what a bundler would: every
// file index.html and the modules refer to is embedded, and paths are
// absolute (index.html is also served at /rooms/{id}).
func TestReferencedFilesExist(t *testing.T) {
	t.Parallel()
	index := readStatic(t, "index.html")
	for _, m := range regexp.MustCompile(`(?:src|href)="([^"#]+)"`).FindAllStringSubmatch(index, -1) {
		ref := m[1]
		if ref == "/" || (strings.HasPrefix(ref, "/") && path.Ext(ref) == "") {
			// The page itself, at a client route (/invites): served as
			// index.html, see TestClientRoutesGetIndex.
			continue
		}
		if !strings.HasPrefix(ref, "/") || strings.HasPrefix(ref, "//") {
			t.Errorf("index.html: %q is not an absolute same-origin path", ref)
			continue
		}
		if _, err := fs.Stat(embedded, "static"+ref); err != nil {
			t.Errorf("index.html refers to missing %s", ref)
		}
	}
	if strings.Contains(index, "<script>") || strings.Contains(index, " style=") || strings.Contains(index, " onclick=") {
		t.Error("index.html has inline script or style, which the CSP blocks")
	}
	css := readStatic(t, "app.css")
	for _, m := range regexp.MustCompile(`url\("?([^")]+)"?\)`).FindAllStringSubmatch(css, -1) {
		ref := m[1]
		if !strings.HasPrefix(ref, "/") || strings.HasPrefix(ref, "//") {
			t.Errorf("app.css: %q is not an absolute same-origin path", ref)
			continue
		}
		if _, err := fs.Stat(embedded, "static"+ref); err != nil {
			t.Errorf("app.css refers to missing %s", ref)
		}
	}
	imports := regexp.MustCompile(`(?m)^import .* from '(\./[^']+)';$`)
	files, _ := fs.Glob(embedded, "static/*.js")
	for _, f := range files {
		src, _ := fs.ReadFile(embedded, f)
		for _, m := range imports.FindAllStringSubmatch(string(src), -1) {
			if _, err := fs.Stat(embedded, path.Join("static", m[1])); err != nil {
				t.Errorf("%s imports missing %s", f, m[1])
			}
		}
	}
}

// Syntax-checks the modules when Node is installed. Plain `node --check
// file.js` passes ES modules with syntax errors (Node 20), so feed each one
// through --input-type=module.
func TestJavaScriptParses(t *testing.T) {
	t.Parallel()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node not installed")
	}
	files, _ := fs.Glob(embedded, "static/*.js")
	if len(files) == 0 {
		t.Fatal("no JavaScript embedded")
	}
	for _, f := range files {
		src, _ := fs.ReadFile(embedded, f)
		cmd := exec.Command(node, "--input-type=module", "--check")
		cmd.Stdin = bytes.NewReader(src)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			t.Errorf("%s: %v\n%s", f, err, out.String())
		}
	}
}

// Runs the client's unit tests (testdata/*.test.mjs: the room session's
// handling of signaling and the stage rules) with Node's test runner, when
// Node is installed.
func TestClientLogic(t *testing.T) {
	t.Parallel()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node not installed")
	}
	files, _ := filepath.Glob(filepath.Join("testdata", "*.test.mjs"))
	if len(files) == 0 {
		t.Fatal("no tests in testdata")
	}
	cmd := exec.Command(node, append([]string{"--test"}, files...)...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("node --test: %v\n%s", err, out.String())
	}
}
