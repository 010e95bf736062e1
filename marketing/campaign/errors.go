package campaign

import (
	"errors"
	"fmt"
)

// Errors every caller can match with errors.Is or errors.As. The admin API maps them to
// statuses: FieldError 422, StateError 409, ErrNotFound 404, ErrConflict 409,
// ErrUnavailable 503.
var (
	ErrNotFound    = errors.New("not found")
	ErrConflict    = errors.New("already exists")
	ErrUnavailable = errors.New("temporarily unavailable") // the database or logic; retry
	ErrClosed      = errors.New("campaign store closed")
	ErrLeaseLost   = errors.New("campaign lease lost")
)

// FieldError names the input field at fault and why. Field is a JSON path such as
// "message.body" or "audience.merchant_ids[3]".
type FieldError struct {
	Field   string
	Message string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Message }

func fieldErr(field, format string, args ...any) *FieldError {
	return &FieldError{Field: field, Message: fmt.Sprintf(format, args...)}
}

// StateError is an operation the campaign's state does not allow.
type StateError struct {
	Op    string // "start", "pause", "edit"...
	State State  // the state the campaign is in
}

func (e *StateError) Error() string {
	return fmt.Sprintf("cannot %s a campaign that is %s", e.Op, e.State)
}
