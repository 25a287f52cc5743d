package api

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/parley-audio/parley/members"
	"github.com/parley-audio/parley/rooms"
)

// Error codes, as listed in docs/api.md. Clients switch on these, so they
// never change once released.
const (
	codeInvalidJSON          = "invalid_json"
	codeInvalidRequest       = "invalid_request"
	codeUnauthorized         = "unauthorized"
	codeTokenExpired         = "token_expired"
	codeForbidden            = "forbidden"
	codeNotFound             = "not_found"
	codeRoomNotFound         = "room_not_found"
	codeMethodNotAllowed     = "method_not_allowed"
	codeRoomEnded            = "room_ended"
	codeNotInRoom            = "not_in_room"
	codeStageFull            = "stage_full"
	codeHandsDisabled        = "hands_disabled"
	codeNotInvited           = "not_invited"
	codeAlreadyOnStage       = "already_on_stage"
	codeNotOnStage           = "not_on_stage"
	codeBlocked              = "blocked"
	codeBodyTooLarge         = "body_too_large"
	codeUnsupportedMediaType = "unsupported_media_type"
	codeValidationFailed     = "validation_failed"
	codeInternal             = "internal"
	codeNotReady             = "not_ready"
	// Events, chat and reports.
	codeEventNotFound   = "event_not_found"
	codeEventCancelled  = "event_cancelled"
	codeEventStarted    = "event_started"
	codeMessageNotFound = "message_not_found"
	codeChatDisabled    = "chat_disabled"
)

// apiError is an error the api package decides on itself (bad JSON, a
// missing token, an unknown endpoint), as opposed to one that comes from
// rooms. It carries its own status and code so that writeError stays the
// one place that turns errors into responses.
type apiError struct {
	status  int
	code    string
	message string
	// cause is logged, never sent.
	cause error
}

func (e *apiError) Error() string {
	if e.cause != nil {
		return e.code + ": " + e.message + ": " + e.cause.Error()
	}
	return e.code + ": " + e.message
}

func (e *apiError) Unwrap() error { return e.cause }

func newAPIError(status int, code, message string) *apiError {
	return &apiError{status: status, code: code, message: message}
}

// errorBody is the one error shape of the API.
type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	// Fields lists every wrong field of a validation_failed input.
	Fields []fieldError `json:"fields,omitempty"`
}

// fieldError is one wrong field, named as the request names it.
type fieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// writeError maps err to a status, a code and a message and writes it. It
// is the only place in Parley where errors become HTTP statuses. Details of
// server-side failures are logged with the request ID and never sent.
func writeError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	status, code, message := classify(err)
	fields := invalidFields(err)
	if status >= http.StatusInternalServerError {
		// 503 is a store or a shutdown, expected in operation; 500 is a bug.
		level := slog.LevelError
		if status == http.StatusServiceUnavailable {
			level = slog.LevelWarn
		}
		log.Log(r.Context(), level, "request failed", "method", r.Method, "path", r.URL.Path,
			"status", status, "request_id", requestID(r.Context()), "err", err)
	}
	if status == http.StatusUnauthorized {
		// RFC 6750 §3: a 401 for a bearer-protected resource names the scheme.
		w.Header().Set("WWW-Authenticate", `Bearer realm="parley"`)
	}
	setRetryAfter(w, err)
	writeJSON(w, status, errorBody{Error: errorDetail{Code: code, Message: message, Fields: fields}})
}

// classify decides the status, code and message of err. The order matters
// only where one error could match twice; rooms sentinels do not overlap.
func classify(err error) (status int, code, message string) {
	if status, code, message, ok := classifySocial(err); ok {
		return status, code, message
	}
	var ae *apiError
	var ve *rooms.ValidationError
	var mve *members.ValidationError
	switch {
	case errors.As(err, &ae):
		return ae.status, ae.code, ae.message
	case errors.Is(err, ErrTokenExpired):
		return http.StatusUnauthorized, codeTokenExpired, "the token has expired; refresh it, or sign in again"
	case errors.Is(err, ErrTokenInvalid):
		return http.StatusUnauthorized, codeUnauthorized, "the token is not valid"
	case errors.Is(err, rooms.ErrRoomNotFound):
		return http.StatusNotFound, codeRoomNotFound, "room not found"
	case errors.Is(err, rooms.ErrRoomEnded):
		return http.StatusConflict, codeRoomEnded, "the room has already ended"
	case errors.Is(err, rooms.ErrForbidden):
		return http.StatusForbidden, codeForbidden, "this action is not yours to take"
	case errors.Is(err, rooms.ErrBlocked):
		return http.StatusForbidden, codeBlocked, "you were removed from this room and cannot rejoin it"
	// The stage's refusals (docs/stage.md). The messages are fixed, never
	// the error's text: that names users and may quote a path verbatim.
	case errors.Is(err, rooms.ErrNotParticipant):
		return http.StatusConflict, codeNotInRoom, "you, or the participant named, are not in the room"
	case errors.Is(err, rooms.ErrStageFull):
		return http.StatusConflict, codeStageFull, "the stage is full"
	case errors.Is(err, rooms.ErrHandsDisabled):
		return http.StatusConflict, codeHandsDisabled, "hand-raising is turned off in this room"
	case errors.Is(err, rooms.ErrNotInvited):
		return http.StatusConflict, codeNotInvited, "there is no invitation to speak to answer"
	case errors.Is(err, rooms.ErrAlreadyOnStage):
		return http.StatusConflict, codeAlreadyOnStage, "the participant is already on stage"
	case errors.Is(err, rooms.ErrNotOnStage):
		return http.StatusConflict, codeNotOnStage, "the participant is not on stage"
	case errors.Is(err, rooms.ErrEventNotFound):
		return http.StatusNotFound, codeEventNotFound, "event not found"
	case errors.Is(err, rooms.ErrEventCancelled):
		return http.StatusConflict, codeEventCancelled, "the event was cancelled"
	case errors.Is(err, rooms.ErrEventStarted):
		return http.StatusConflict, codeEventStarted, "the event has started"
	case errors.Is(err, rooms.ErrMessageNotFound):
		return http.StatusNotFound, codeMessageNotFound, "the room has no such chat message"
	case errors.Is(err, rooms.ErrChatDisabled):
		return http.StatusConflict, codeChatDisabled, "chat is turned off in this room"
	case errors.As(err, &ve):
		return http.StatusBadRequest, codeValidationFailed, validationMessage(err)
	case errors.As(err, &mve):
		return http.StatusBadRequest, codeValidationFailed, mve.Error()
	case errors.Is(err, rooms.ErrInvalid), errors.Is(err, members.ErrInvalid):
		return http.StatusBadRequest, codeValidationFailed, "invalid input"
	case errors.Is(err, rooms.ErrMemberNotFound):
		// Every member the REST API looks up is the caller, named by a
		// token we signed: the account behind the token is gone (a wiped
		// store, say), so the token is no good any more.
		return http.StatusUnauthorized, codeUnauthorized, "the account of this token no longer exists; sign in again"
	case errors.Is(err, rooms.ErrUnavailable), errors.Is(err, members.ErrUnavailable), errors.Is(err, context.DeadlineExceeded):
		// A store that does not answer within the request's deadline is,
		// to the client, a store that cannot be reached.
		return http.StatusServiceUnavailable, codeNotReady, "a store cannot be reached; try again later"
	default:
		if status, code, message, ok := classifyMembers(err); ok {
			return status, code, message
		}
		return http.StatusInternalServerError, codeInternal, "the server failed"
	}
}

// invalidFields lists the wrong fields of a validation error, or nil.
func invalidFields(err error) []fieldError {
	var ve *rooms.ValidationError
	var mve *members.ValidationError
	switch {
	case errors.As(err, &ve):
		// rooms joins the errors of several fields (errors.Join).
		var out []fieldError
		for _, v := range roomsFieldErrors(err) {
			out = append(out, fieldError{Field: v.Field, Message: v.Reason})
		}
		return out
	case errors.As(err, &mve):
		out := make([]fieldError, len(mve.Fields))
		for i, f := range mve.Fields {
			out[i] = fieldError{Field: f.Field, Message: f.Message}
		}
		return out
	}
	return nil
}

// writeJSON writes v as the JSON body of a response with the given status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		// Only our own response types reach here, and they always
		// marshal; fail loudly in the one way left.
		status = http.StatusInternalServerError
		body = []byte(`{"error":{"code":"internal","message":"the server failed"}}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	// A failed write means the client has gone; there is no one to tell.
	_, _ = w.Write(append(body, '\n'))
}

// roomsFieldErrors collects every *rooms.ValidationError in err, which
// may join several (one per wrong field), in order.
func roomsFieldErrors(err error) []*rooms.ValidationError {
	var out []*rooms.ValidationError
	var walk func(error)
	walk = func(e error) {
		if ve, ok := e.(*rooms.ValidationError); ok {
			out = append(out, ve)
			return
		}
		switch u := e.(type) {
		case interface{ Unwrap() []error }:
			for _, c := range u.Unwrap() {
				walk(c)
			}
		case interface{ Unwrap() error }:
			if c := u.Unwrap(); c != nil {
				walk(c)
			}
		}
	}
	walk(err)
	return out
}

// validationMessage names every wrong field of a rooms validation error.
func validationMessage(err error) string {
	var parts []string
	for _, v := range roomsFieldErrors(err) {
		parts = append(parts, v.Error())
	}
	return "invalid input: " + strings.Join(parts, "; ")
}
