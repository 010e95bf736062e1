package client

import (
	"errors"
	"fmt"
	"time"

	"github.com/bangbang-im/bangbang/gen/common"
	"github.com/bangbang-im/bangbang/gen/frame"
)

// Error is an ERROR frame from the server.
type Error struct {
	Code       common.ErrorCode
	Message    string
	Temporary  bool          // the same request may succeed later
	RetryAfter time.Duration // how long to wait first, when the server says
	TraceID    string        // where the server logged the details
}

func (e *Error) Error() string {
	s := fmt.Sprintf("server error %s: %s", e.Code, e.Message)
	if e.TraceID != "" {
		s += " (trace " + e.TraceID + ")"
	}
	return s
}

// Is matches any *Error with the same code, so errors.Is(err, &Error{Code: c}) works.
func (e *Error) Is(target error) bool {
	var t *Error
	return errors.As(target, &t) && t.Code == e.Code
}

func errorFromFrame(f *frame.Error) *Error {
	return &Error{
		Code:       common.ErrorCode(f.Code),
		Message:    f.Message,
		Temporary:  f.Temporary,
		RetryAfter: time.Duration(f.RetryAfterMs) * time.Millisecond,
		TraceID:    f.TraceId,
	}
}

var (
	// ErrClosed: Close was called.
	ErrClosed = errors.New("client: closed")
	// ErrKicked: the server kicked this device off for good (REPLACED, AUTH_REVOKED); the
	// client has stopped. The error wrapping it names the reason.
	ErrKicked = errors.New("client: kicked")
	// ErrConnLost: the connection dropped before the response came. It is temporary: Send
	// and MarkRead retry on the next connection by themselves.
	ErrConnLost = errors.New("client: connection lost")
	// ErrInvalid: an argument or a Config field is out of range.
	ErrInvalid = errors.New("client: invalid argument")
)

// Internal reasons a connection ends, for logs and Events.
var (
	errSilent   = errors.New("connection silent for 3 heartbeat intervals")
	errDraining = errors.New("server asked to reconnect")
)

func kickError(k *frame.Kick) error {
	return fmt.Errorf("%w: %s: %s", ErrKicked, frame.KickReason(k.Reason), k.Message)
}
