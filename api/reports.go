package api

import (
	"context"
	"fmt"
	"net/http"

	"github.com/parley-audio/parley/rooms"
)

// RecordService is what the routes of room history, the moderation log
// and reports need of rooms.Service.
type RecordService interface {
	RoomHistory(ctx context.Context, id rooms.RoomID) (rooms.History, map[rooms.UserID]string, error)
	ModLog(ctx context.Context, room rooms.RoomID, viewer rooms.UserID, admin bool, limit int, cursor string) ([]rooms.ModAction, map[rooms.UserID]string, string, error)
	CreateReport(ctx context.Context, reporter rooms.UserID, in rooms.ReportInput) (rooms.ReportView, error)
	Reports(ctx context.Context, limit int, cursor string) ([]rooms.ReportView, string, error)
}

var _ RecordService = (*rooms.Service)(nil)

// Admins tells whether a member is an instance admin. Admin status is the
// members package's (members.Account.Admin); cmd adapts its store.
type Admins interface {
	IsAdmin(ctx context.Context, id rooms.UserID) (bool, error)
}

type reportRequest struct {
	MemberID string `json:"member_id"`
	RoomID   string `json:"room_id"`
	Reason   string `json:"reason"`
}

type reportListResponse struct {
	Reports    []rooms.ReportJSON `json:"reports"`
	NextCursor string             `json:"next_cursor,omitempty"`
}

type modLogResponse struct {
	Entries    []rooms.ModActionJSON `json:"entries"`
	NextCursor string                `json:"next_cursor,omitempty"`
}

// isAdmin reports whether the caller is an instance admin; without an
// Admins configured, nobody is.
func (s *server) isAdmin(ctx context.Context, id rooms.UserID) (bool, error) {
	if s.admins == nil {
		return false, nil
	}
	ok, err := s.admins.IsAdmin(ctx, id)
	if err != nil {
		return false, fmt.Errorf("is %s an admin: %w", id, err)
	}
	return ok, nil
}

// createReport reports a member, a room, or a member in a room:
// POST /api/v1/reports.
func (s *server) createReport(w http.ResponseWriter, r *http.Request) {
	p, err := principal(r)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	var req reportRequest
	if err := decodeJSON(w, r, &req); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	v, err := s.records.CreateReport(r.Context(), p.UserID, rooms.ReportInput{Member: req.MemberID, Room: req.RoomID, Reason: req.Reason})
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusCreated, v.JSON())
}

var errAdminsOnly = newAPIError(http.StatusForbidden, codeForbidden, "only instance admins read reports")

// listReports pages through every report, newest first, for admins:
// GET /api/v1/reports.
func (s *server) listReports(w http.ResponseWriter, r *http.Request) {
	p, err := principal(r)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	admin, err := s.isAdmin(r.Context(), p.UserID)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	if !admin {
		writeError(w, r, s.log, errAdminsOnly)
		return
	}
	limit, cursor, err := pageParams(r)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	list, next, err := s.records.Reports(r.Context(), limit, cursor)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	out := reportListResponse{Reports: make([]rooms.ReportJSON, 0, len(list)), NextCursor: next}
	for _, v := range list {
		out.Reports = append(out.Reports, v.JSON())
	}
	writeJSON(w, http.StatusOK, out)
}

// roomHistory answers a room's history: GET /api/v1/rooms/{id}/history.
func (s *server) roomHistory(w http.ResponseWriter, r *http.Request, p Principal, id rooms.RoomID) {
	// A room's history is for whoever may see the room.
	if _, err := s.rooms.RoomFor(r.Context(), p.UserID, id); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	h, names, err := s.records.RoomHistory(r.Context(), id)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusOK, h.JSON(names))
}

// modLog pages through a room's moderation log, for its hosts, its
// moderators and admins: GET /api/v1/rooms/{id}/moderation-log.
func (s *server) modLog(w http.ResponseWriter, r *http.Request, p Principal, id rooms.RoomID) {
	limit, cursor, err := pageParams(r)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	admin, err := s.isAdmin(r.Context(), p.UserID)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	list, names, next, err := s.records.ModLog(r.Context(), id, p.UserID, admin, limit, cursor)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	out := modLogResponse{Entries: make([]rooms.ModActionJSON, 0, len(list)), NextCursor: next}
	for _, a := range list {
		out.Entries = append(out.Entries, a.JSON(names))
	}
	writeJSON(w, http.StatusOK, out)
}
