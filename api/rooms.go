package api

import (
	"context"
	"errors"
	"net/http"
	"strconv"

	"github.com/parley-audio/parley/rooms"
)

type createRoomRequest struct {
	Title       string `json:"title"`
	Description string `json:"description"`
	LoudestN    int    `json:"loudest_n"`
	Visibility  string `json:"visibility"`
}

type roomListResponse struct {
	Rooms      []rooms.RoomJSON `json:"rooms"`
	NextCursor string           `json:"next_cursor,omitempty"`
}

// roomDetail is a room with its stage and who is in it. Embedding keeps
// the room's fields at the top level, exactly as rooms.RoomJSON defines
// them.
type roomDetail struct {
	rooms.RoomJSON
	HandsEnabled bool                    `json:"hands_enabled"`
	StageCap     int                     `json:"stage_cap"`
	Participants []rooms.ParticipantJSON `json:"participants"`
	// ChatEnabled is whether the room's chat is on (chat.go).
	ChatEnabled bool `json:"chat_enabled"`
}

// createRoom opens a room for the caller: POST /api/v1/rooms.
func (s *server) createRoom(w http.ResponseWriter, r *http.Request) {
	p, err := principal(r)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	var req createRoomRequest
	if err := decodeJSON(w, r, &req); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	room, err := s.rooms.CreateRoom(r.Context(), p.UserID, rooms.NewRoom{
		Title: req.Title, Description: req.Description, LoudestN: req.LoudestN, Visibility: rooms.Visibility(req.Visibility),
	})
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	// A new room has nobody in it yet: its creator joins over signaling,
	// so its counts are zero without asking the live store.
	w.Header().Set("Location", "/api/v1/rooms/"+string(room.ID))
	writeJSON(w, http.StatusCreated, rooms.RoomView{Room: room}.JSON())
}

var errLimit = newAPIError(http.StatusBadRequest, codeInvalidRequest, "query parameter limit must be an integer")

// listRooms pages through the live rooms the caller may see:
// GET /api/v1/rooms?limit=&cursor=.
func (s *server) listRooms(w http.ResponseWriter, r *http.Request) {
	p, err := principal(r)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	q := r.URL.Query()
	limit := 0 // the service's default page size
	if q.Has("limit") {
		n, err := strconv.Atoi(q.Get("limit"))
		// Out of int's range is well-formed, only too large: Atoi then
		// returns the nearest int, which the service refuses as such.
		if err != nil && !errors.Is(err, strconv.ErrRange) {
			writeError(w, r, s.log, errLimit)
			return
		}
		if n == 0 {
			// The service reads 0 as "not given". An explicit 0 is out
			// of range like any other non-positive limit, so hand it one
			// that the service refuses for what it is.
			n = -1
		}
		limit = n
	}
	list, next, err := s.rooms.VisibleRooms(r.Context(), p.UserID, limit, q.Get("cursor"))
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	out := roomListResponse{Rooms: make([]rooms.RoomJSON, 0, len(list)), NextCursor: next}
	for _, v := range list {
		out.Rooms = append(out.Rooms, v.JSON())
	}
	writeJSON(w, http.StatusOK, out)
}

// getRoom returns a room, live or ended, with its participants:
// GET /api/v1/rooms/{id}.
func (s *server) getRoom(w http.ResponseWriter, r *http.Request, p Principal, id rooms.RoomID) {
	v, err := s.rooms.RoomFor(r.Context(), p.UserID, id)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	snap, err := s.liveState(r.Context(), v.Room)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	out := roomDetail{
		RoomJSON: v.JSON(), HandsEnabled: snap.HandsEnabled, StageCap: s.rooms.Limits().StageCap,
		Participants: make([]rooms.ParticipantJSON, 0, len(snap.Participants)), ChatEnabled: !v.ChatDisabled,
	}
	for _, p := range snap.Participants {
		out.Participants = append(out.Participants, p.JSON())
	}
	writeJSON(w, http.StatusOK, out)
}

// liveState returns the live state of a room whose record was just read.
// An ended room has no one in it and no hands to raise. The live store
// may disagree with the record in two harmless races, and then the record
// wins: the room ended between the two reads (ErrRoomEnded), or it is
// live but its live state is not open yet (ErrRoomNotFound: the server has
// just started, and rooms.Service.Recover or the first join opens it, with
// hands on, as every room starts).
func (s *server) liveState(ctx context.Context, room rooms.Room) (rooms.Snapshot, error) {
	if !room.Live() {
		return rooms.Snapshot{}, nil
	}
	snap, err := s.rooms.Snapshot(ctx, room.ID)
	switch {
	case errors.Is(err, rooms.ErrRoomEnded):
		return rooms.Snapshot{}, nil
	case errors.Is(err, rooms.ErrRoomNotFound):
		return rooms.Snapshot{HandsEnabled: true}, nil
	}
	return snap, err
}

// endRoom ends a room: POST /api/v1/rooms/{id}/end. rooms lets its
// creator do it, and any moderator in it. It takes no body; whatever is
// sent is ignored.
func (s *server) endRoom(w http.ResponseWriter, r *http.Request, p Principal, id rooms.RoomID) {
	ended, err := s.rooms.EndRoom(r.Context(), p.UserID, id)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	// An ended room has no one in it: zero counts, as docs/api.md says.
	writeJSON(w, http.StatusOK, rooms.RoomView{Room: ended}.JSON())
}
