package api

import (
	"cmp"
	"net/http"
	"slices"

	"github.com/parley-audio/parley/rooms"
)

type handsResponse struct {
	Hands []rooms.ParticipantJSON `json:"hands"`
}

// hands returns the queue of raised hands, first raised first:
// GET /api/v1/rooms/{id}/hands. It shows nothing GET /rooms/{id} does
// not, so, like it, it is open to anyone who may see the room.
func (s *server) hands(w http.ResponseWriter, r *http.Request, p Principal, id rooms.RoomID) {
	if _, err := s.rooms.RoomFor(r.Context(), p.UserID, id); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	snap, err := s.rooms.Snapshot(r.Context(), id)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	var raised []rooms.Participant
	for _, p := range snap.Participants {
		if p.HandSeq > 0 {
			raised = append(raised, p)
		}
	}
	// HandSeq is the room's sequence number when the hand went up, so it
	// orders the queue; no two hands share one.
	slices.SortFunc(raised, func(a, b rooms.Participant) int { return cmp.Compare(a.HandSeq, b.HandSeq) })
	out := handsResponse{Hands: make([]rooms.ParticipantJSON, 0, len(raised))}
	for _, p := range raised {
		out.Hands = append(out.Hands, p.JSON())
	}
	writeJSON(w, http.StatusOK, out)
}
