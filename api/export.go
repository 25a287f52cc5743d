package api

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/parley-audio/parley/rooms"
)

// Exporter writes a member's data export, a zip archive, as it reads it.
type Exporter interface {
	Export(ctx context.Context, user rooms.UserID, w io.Writer) error
}

// exportTimeout bounds an export. It streams, so its time is the client's
// download more than the server's work; an hour covers a slow phone link.
const exportTimeout = time.Hour

// export streams the caller's data export: GET /api/v1/me/export.
func (s *server) export(ex Exporter) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p, err := principal(r)
		if err != nil {
			writeError(w, r, s.log, err)
			return
		}
		// The account must exist before the 200 goes out: after it, no
		// error can be reported but by cutting the archive short.
		if _, err := s.rooms.Member(r.Context(), p.UserID); err != nil {
			writeError(w, r, s.log, err)
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), exportTimeout)
		defer cancel()
		h := w.Header()
		h.Set("Content-Type", "application/zip")
		h.Set("Content-Disposition", `attachment; filename="parley-export-`+time.Now().UTC().Format("2006-01-02")+`.zip"`)
		h.Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusOK)
		if err := ex.Export(ctx, p.UserID, w); err != nil {
			s.log.LogAttrs(ctx, slog.LevelWarn, "export cut short", slog.String("user", string(p.UserID)),
				slog.String("request_id", requestID(r.Context())), slog.Any("err", err))
			// The archive is truncated, which no zip reader accepts;
			// aborting also tells the client the response is incomplete
			// rather than ending it cleanly.
			panic(http.ErrAbortHandler)
		}
	}
}
