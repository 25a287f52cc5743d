package api

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/parley-audio/parley/rooms"
)

// stageRoute is the REST route of one stage action of docs/stage.md. The
// actions differ only in their path, method and body, so one handler
// serves them all and this table is the whole of the mapping.
type stageRoute struct {
	method string
	// path is below /rooms/{id}. A {user_id} in it names the target.
	path string
	kind rooms.ActionKind
	// body reads the request body into the action; nil means the action
	// takes none (see noBody).
	body func(w http.ResponseWriter, r *http.Request, a *rooms.Action) error
}

// stageRoutes are the stage's routes, as docs/api.md lists them.
var stageRoutes = []stageRoute{
	{method: http.MethodPost, path: "/hand", kind: rooms.ActRaiseHand},
	{method: http.MethodDelete, path: "/hand", kind: rooms.ActLowerHand},
	{method: http.MethodPost, path: "/invitation/accept", kind: rooms.ActAcceptInvite},
	{method: http.MethodPost, path: "/invitation/decline", kind: rooms.ActDeclineInvite},
	{method: http.MethodPost, path: "/participants/{user_id}/invite", kind: rooms.ActInvite},
	{method: http.MethodPost, path: "/participants/{user_id}/move-to-audience", kind: rooms.ActMoveToAudience},
	{method: http.MethodPost, path: "/participants/{user_id}/make-moderator", kind: rooms.ActMakeModerator},
	{method: http.MethodPost, path: "/participants/{user_id}/mute", kind: rooms.ActMute},
	{method: http.MethodPost, path: "/participants/{user_id}/unmute", kind: rooms.ActUnmute},
	{method: http.MethodPost, path: "/participants/{user_id}/remove", kind: rooms.ActRemove, body: removeBody},
	{method: http.MethodPost, path: "/mute-all", kind: rooms.ActMuteAll},
	{method: http.MethodPost, path: "/step-down", kind: rooms.ActStepDown},
	{method: http.MethodPut, path: "/hands", kind: rooms.ActSetHands, body: setHandsBody},
}

// errNotAUser answers a path whose user_id is not even shaped like one. No
// such user can be in the room, so it is the same not_in_room as for a
// real user who is not; writeError's fixed message never echoes the path.
var errNotAUser = fmt.Errorf("api: the path does not name a user: %w", rooms.ErrNotParticipant)

// act returns the handler of one stage route: the caller, acting in room
// {id}, on {user_id} if the route names one. rooms decides whether they
// may; success is 204 No Content, and everyone in the room learns of the
// change over signaling.
func (s *server) act(rt stageRoute) http.HandlerFunc {
	targeted := strings.Contains(rt.path, "{user_id}")
	body := rt.body
	if body == nil {
		body = noBody
	}
	return s.withRoom(func(w http.ResponseWriter, r *http.Request, p Principal, id rooms.RoomID) {
		a := rooms.Action{Kind: rt.kind, Actor: p.UserID}
		if targeted {
			var err error
			if a.Target, err = rooms.ParseParticipantID(chi.URLParam(r, "user_id")); err != nil {
				writeError(w, r, s.log, errNotAUser)
				return
			}
		}
		if err := body(w, r, &a); err != nil {
			writeError(w, r, s.log, err)
			return
		}
		if err := s.rooms.Act(r.Context(), id, a); err != nil {
			writeError(w, r, s.log, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

// noBody reads the body of an action that takes nothing: none at all, or
// an empty object. Anything in it is refused, as a client's mistake.
func noBody(w http.ResponseWriter, r *http.Request, _ *rooms.Action) error {
	var req struct{}
	return decodeOptionalJSON(w, r, &req)
}

type removeRequest struct {
	Block bool `json:"block"`
}

// removeBody reads remove's optional {"block": true}.
func removeBody(w http.ResponseWriter, r *http.Request, a *rooms.Action) error {
	var req removeRequest
	if err := decodeOptionalJSON(w, r, &req); err != nil {
		return err
	}
	a.Block = req.Block
	return nil
}

type setHandsRequest struct {
	// Enabled is a pointer so that a missing field is told apart from
	// false: turning hands off by omission would be a silent surprise.
	Enabled *bool `json:"enabled"`
}

// setHandsBody reads set_hands' required {"enabled": bool}.
func setHandsBody(w http.ResponseWriter, r *http.Request, a *rooms.Action) error {
	var req setHandsRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	if req.Enabled == nil {
		return &rooms.ValidationError{Field: "enabled", Reason: "is required: true or false"}
	}
	a.Enabled = *req.Enabled
	return nil
}
