package protocol

import (
	"errors"
	"fmt"

	"github.com/bangbang-im/bangbang/gen/common"
)

const (
	codeBadFrame   = common.ErrorCode_BAD_FRAME
	codeTooLarge   = common.ErrorCode_FRAME_TOO_LARGE
	codeVersion    = common.ErrorCode_UNSUPPORTED_VERSION
	codeBadRequest = common.ErrorCode_BAD_REQUEST
)

// Error is a decoding failure with the code the peer is told.
type Error struct {
	Code    common.ErrorCode
	Message string
}

func (e *Error) Error() string { return fmt.Sprintf("protocol: %s: %s", e.Code, e.Message) }

// Is matches any *Error with the same code, so errors.Is(err, ErrTooLarge) works.
func (e *Error) Is(target error) bool {
	var t *Error
	return errors.As(target, &t) && t.Code == e.Code
}

// Fatal reports whether the connection can no longer be read: the stream position is lost.
func (e *Error) Fatal() bool { return e.Code != codeBadRequest }

// Sentinels for errors.Is.
var (
	ErrBadFrame   = &Error{Code: codeBadFrame}
	ErrTooLarge   = &Error{Code: codeTooLarge}
	ErrVersion    = &Error{Code: codeVersion}
	ErrBadRequest = &Error{Code: codeBadRequest}
)

func errorf(code common.ErrorCode, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}
