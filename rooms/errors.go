package rooms

import (
	"errors"
	"fmt"
	"time"
)

// Sentinel errors. Callers test them with errors.Is; the api package maps
// them to HTTP status codes and signaling maps them to error codes.
var (
	// ErrRoomNotFound means no room has that ID.
	ErrRoomNotFound = errors.New("room not found")
	// ErrRoomEnded means the room exists but has ended.
	ErrRoomEnded = errors.New("room has ended")
	// ErrMemberNotFound means no member has that ID.
	ErrMemberNotFound = errors.New("member not found")
	// ErrNotParticipant means the member (acting or acted on) is not in
	// the room.
	ErrNotParticipant = errors.New("not in the room")
	// ErrForbidden means the actor may not perform the action.
	ErrForbidden = errors.New("forbidden")
	// ErrInvalid means the input failed validation. It is wrapped by
	// *ValidationError, which names the field.
	ErrInvalid = errors.New("invalid input")
	// ErrUnavailable means a backing store could not be reached.
	ErrUnavailable = errors.New("store unavailable")
	// ErrStageFull means the stage is at its cap.
	ErrStageFull = errors.New("the stage is full")
	// ErrHandsDisabled means hand-raising is turned off in the room.
	ErrHandsDisabled = errors.New("hand-raising is turned off")
	// ErrNotInvited means there is no invitation to accept or decline.
	ErrNotInvited = errors.New("no invitation to speak")
	// ErrAlreadyOnStage means the target is on stage already.
	ErrAlreadyOnStage = errors.New("already on stage")
	// ErrNotOnStage means the action needs someone on stage.
	ErrNotOnStage = errors.New("not on stage")
	// ErrBlocked means the member was removed from the room and blocked.
	ErrBlocked = errors.New("blocked from this room")
	// ErrRateLimited means the member did that too often (joined rooms,
	// sent chat messages). It is wrapped by *RateLimitError, which says
	// when to try again.
	ErrRateLimited = errors.New("too many requests")
	// ErrNoSuchMember means a member named in the request (not the
	// caller) does not exist.
	ErrNoSuchMember = errors.New("no member has that ID")
	// ErrGuestsDisabled means this instance does not let guests listen.
	// It is a kind of ErrForbidden.
	ErrGuestsDisabled = fmt.Errorf("guest listening is off on this server: %w", ErrForbidden)
)

// RateLimitError says that something (a join, a chat message) was
// refused for going too fast, and when it may be tried again.
type RateLimitError struct {
	RetryAfter time.Duration
}

func (e *RateLimitError) Error() string {
	return "too many requests; retry after " + e.RetryAfter.Round(time.Second).String()
}

// Is makes errors.Is(err, ErrRateLimited) true.
func (e *RateLimitError) Is(target error) bool { return target == ErrRateLimited }

// ValidationError says which field of the input is wrong and why.
type ValidationError struct {
	Field  string
	Reason string
}

func (e *ValidationError) Error() string { return e.Field + ": " + e.Reason }

// Is makes errors.Is(err, ErrInvalid) true for every ValidationError.
func (e *ValidationError) Is(target error) bool { return target == ErrInvalid }

func errorsIsNotFound(err error) bool { return errors.Is(err, ErrRoomNotFound) }

// Sentinel errors of events, chat and reports.
var (
	// ErrEventNotFound means no scheduled room (event) has that ID.
	ErrEventNotFound = errors.New("event not found")
	// ErrEventCancelled means the event was cancelled.
	ErrEventCancelled = errors.New("the event was cancelled")
	// ErrEventStarted means the event has started: its room is open (or
	// was).
	ErrEventStarted = errors.New("the event has started")
	// ErrMessageNotFound means the room has no chat message with that ID.
	ErrMessageNotFound = errors.New("chat message not found")
	// ErrChatDisabled means a moderator turned the room's chat off.
	ErrChatDisabled = errors.New("chat is turned off in this room")
)
