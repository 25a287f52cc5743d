// Package web serves Parley's browser client: plain HTML, CSS and JavaScript
// modules embedded into the binary. There is no build step; what is in
// static/ is what the browser gets.
package web

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"net/http"
	"path"
	"strings"
)

//go:embed static
var embedded embed.FS

// csp allows the page to load only its own files. Scripts are modules from
// this origin (no inline script, no eval); the WebSocket may go to any ws:/wss:
// URL because browsers before CSP 3 do not count same-host ws: as 'self'.
// Remote audio is played from MediaStreams, hence media-src mediastream: blob:.
const csp = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; " +
	"media-src 'self' blob: mediastream:; connect-src 'self' ws: wss:; manifest-src 'self'; " +
	"base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// contentTypes pins the types of the files we ship. mime.TypeByExtension
// reads the host's mime.types files, which may say something else for .js;
// a module script with the wrong type is refused under nosniff.
var contentTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".svg":  "image/svg+xml",
	".png":  "image/png",
	".ico":  "image/x-icon",
	".json": "application/json",
	".txt":  "text/plain; charset=utf-8",
}

// Handler returns the handler for the browser client. Mount it at "/" after
// the API routes; it answers GET and HEAD for everything else:
//
//   - files in static/ as themselves;
//   - "/" and any other path without a file extension (client-side routes
//     such as /rooms/rm_...) with index.html;
//   - paths with an extension that match no file, and anything under /api/,
//     with 404, so a missing script or API route never gets HTML back.
//
// It never lists a directory.
func Handler() http.Handler {
	sub, err := fs.Sub(embedded, "static")
	if err != nil {
		panic("web: static files not embedded: " + err.Error()) // cannot happen: go:embed checked it
	}
	return newHandler(sub)
}

type handler struct {
	fsys  fs.FS
	files http.Handler
	// etags maps file names to strong validators. Embedded files have no
	// modification time, so without them every revalidation would be a full
	// download.
	etags map[string]string
}

func newHandler(fsys fs.FS) *handler {
	h := &handler{fsys: fsys, files: http.FileServerFS(fsys), etags: map[string]string{}}
	// Errors from WalkDir or ReadFile leave a file without an ETag, which
	// only costs a re-download.
	_ = fs.WalkDir(fsys, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		if b, err := fs.ReadFile(fsys, name); err == nil {
			sum := sha256.Sum256(b)
			h.etags[name] = `"` + hex.EncodeToString(sum[:12]) + `"`
		}
		return nil
	})
	return h
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hdr := w.Header()
	hdr.Set("Content-Security-Policy", csp)
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("Referrer-Policy", "no-referrer")
	hdr.Set("Permissions-Policy", "microphone=(self), camera=(), geolocation=()")
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		hdr.Set("Allow", "GET, HEAD")
		http.Error(w, "405 method not allowed", http.StatusMethodNotAllowed)
		return
	}

	name := strings.TrimPrefix(path.Clean("/"+r.URL.Path), "/")
	switch {
	case name == "":
		h.serve(w, r, "index.html")
	case name == "api" || strings.HasPrefix(name, "api/"):
		http.NotFound(w, r)
	case h.isFile(name):
		// This includes /index.html, which the FileServer redirects to /.
		h.serve(w, r, name)
	case path.Ext(name) == "":
		h.serve(w, withPath(r, "/"), "index.html")
	default:
		http.NotFound(w, r)
	}
}

func (h *handler) isFile(name string) bool {
	fi, err := fs.Stat(h.fsys, name)
	return err == nil && !fi.IsDir()
}

// serve sets the headers for the file name and lets the FileServer answer
// r, which asks for that file (or for "/", meaning index.html). The
// FileServer handles Range, HEAD and If-None-Match against the ETag set here.
func (h *handler) serve(w http.ResponseWriter, r *http.Request, name string) {
	hdr := w.Header()
	// File names carry no content hash, so every file is revalidated; the
	// ETag makes that a 304 when nothing changed.
	hdr.Set("Cache-Control", "no-cache")
	if tag, ok := h.etags[name]; ok {
		hdr.Set("ETag", tag)
	}
	if ct, ok := contentTypes[path.Ext(name)]; ok {
		hdr.Set("Content-Type", ct)
	}
	h.files.ServeHTTP(w, r)
}

// withPath returns a shallow copy of r asking for p instead.
func withPath(r *http.Request, p string) *http.Request {
	r2 := new(http.Request)
	*r2 = *r
	u := *r.URL
	u.Path, u.RawPath = p, ""
	r2.URL = &u
	return r2
}
