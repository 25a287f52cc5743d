package api

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/go-chi/chi/v5/middleware"
)

// isAPIPath reports whether a path belongs to the JSON API rather than to
// the web client, so that it gets the API's headers and error shape.
func isAPIPath(path string) bool {
	return path == "/api" || strings.HasPrefix(path, "/api/") || path == "/healthz" || path == "/readyz" ||
		strings.HasPrefix(path, "/internal/")
}

// securityHeaders sets the headers every response carries. They are set
// before the handler runs so that even a panic's 500 has them.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		// Browsers must not guess that a JSON error is HTML and run it.
		h.Set("X-Content-Type-Options", "nosniff")
		// Room URLs are capabilities of a sort; do not leak them to
		// whatever a page links to.
		h.Set("Referrer-Policy", "no-referrer")
		if isAPIPath(r.URL.Path) {
			// Answers depend on the token; no cache may keep them.
			h.Set("Cache-Control", "no-store")
		}
		next.ServeHTTP(w, r)
	})
}

// requestID returns the ID that assignRequestID gave the request.
func requestID(ctx context.Context) string { return middleware.GetReqID(ctx) }

// assignRequestID gives every request a random ID, under chi's context key
// so that middleware.GetReqID finds it, and returns it in X-Request-Id so
// that a client reporting a 500 can name the log lines that explain it.
//
// Not chi's RequestID: that one adopts whatever X-Request-Id the client
// sends (we trust no client headers by default, as with RealIP), and its
// IDs start with the host name, which a response must not reveal.
func assignRequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var b [12]byte
		// crypto/rand.Read never fails on supported platforms (Go 1.24+).
		_, _ = rand.Read(b[:])
		id := "req_" + base64.RawURLEncoding.EncodeToString(b[:])
		w.Header().Set(middleware.RequestIDHeader, id)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), middleware.RequestIDKey, id)))
	})
}

// logRequests logs one line per request: method, path, status, duration and
// request ID. Never headers (the Authorization header is a credential) and
// never the query (it may carry cursors; nothing secret today, but the
// habit is cheap). chi's wrapper keeps Flush and Hijack working for the
// WebSocket.
func logRequests(log *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
			defer func() {
				status := ww.Status()
				if status == 0 {
					// Nothing written: net/http sends 200, unless the
					// connection was hijacked, which chi cannot see.
					status = http.StatusOK
				}
				level := slog.LevelInfo
				if status >= http.StatusInternalServerError {
					level = slog.LevelWarn
				}
				log.LogAttrs(r.Context(), level, "http request",
					slog.String("method", r.Method),
					slog.String("path", r.URL.Path),
					slog.Int("status", status),
					slog.Duration("duration", time.Since(start)),
					slog.String("request_id", requestID(r.Context())),
				)
			}()
			next.ServeHTTP(ww, r)
		})
	}
}

// recoverPanics turns a panic into a 500 in the API's error shape, logged
// with its stack, instead of a dropped connection. http.ErrAbortHandler is
// re-raised: it is net/http's way to abort a response on purpose.
func recoverPanics(log *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			defer func() {
				v := recover()
				if v == nil {
					return
				}
				if v == http.ErrAbortHandler {
					panic(v)
				}
				err := fmt.Errorf("panic: %v", v)
				log.ErrorContext(r.Context(), "handler panicked", "method", r.Method, "path", r.URL.Path,
					"request_id", requestID(r.Context()), "panic", v, "stack", string(debug.Stack()))
				if ww, ok := w.(middleware.WrapResponseWriter); ok && ww.Status() != 0 {
					// The response has begun; a second status would be
					// ignored. net/http closes the half-written response.
					return
				}
				// Logged above, with the stack; writeError need not again.
				writeError(w, r, slog.New(slog.DiscardHandler), err)
			}()
			next.ServeHTTP(w, r)
		})
	}
}

// withDeadline bounds the REST handlers: the stores see the deadline
// through the context and give up, and writeError answers 503. Unlike
// chi's Timeout it writes nothing itself (chi's sends a bodiless 504, which
// is not in docs/api.md, and may write over a response already sent).
func withDeadline(d time.Duration) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ctx, cancel := context.WithTimeout(r.Context(), d)
			defer cancel()
			next.ServeHTTP(w, r.WithContext(ctx))
		})
	}
}
