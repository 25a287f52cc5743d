package api

import (
	"context"
	"errors"
	"net/http"

	"github.com/parley-audio/parley/members"
)

// AccountDeleter deletes a member's own account: members.Deleter.
type AccountDeleter interface {
	DeleteAccount(ctx context.Context, req members.DeleteRequest) (members.DeleteResult, error)
}

var _ AccountDeleter = (*members.Deleter)(nil)

type deleteAccountRequest struct {
	// Password confirms the deletion of an account that has one.
	Password string `json:"password"`
}

// deletionPending answers a deletion whose erasure the server finishes
// later (202).
type deletionPending struct {
	Status  string `json:"status"`
	Message string `json:"message"`
}

// deleteMe deletes the caller's account: DELETE /api/v1/me. 204 once
// everything is erased; 202 when the account is deleted (nothing of it
// can be used any more) but some of its data could not be erased yet,
// which the server finishes by itself.
func (s *server) deleteMe(d AccountDeleter) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p, err := principal(r)
		var req deleteAccountRequest
		if err == nil {
			err = decodeOptionalJSON(w, r, &req)
		}
		var res members.DeleteResult
		if err == nil {
			res, err = d.DeleteAccount(r.Context(), members.DeleteRequest{User: p.UserID, Password: req.Password, From: clientKey(r)})
		}
		if errors.Is(err, members.ErrAccountNotFound) {
			// The token's account is gone (a wiped store): the token is
			// no good, as every route says of it.
			err = &apiError{status: http.StatusUnauthorized, code: codeUnauthorized,
				message: "the account of this token no longer exists; sign in again", cause: err}
		}
		if err != nil {
			writeError(w, r, s.log, err)
			return
		}
		if res.Pending {
			writeJSON(w, http.StatusAccepted, deletionPending{
				Status:  "deleted",
				Message: "the account is deleted; some of its data will be erased shortly",
			})
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}
}
