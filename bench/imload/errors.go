package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/bangbang-im/bangbang/gen/common"
	"github.com/bangbang-im/bangbang/gen/frame"
)

// ServerError is an ERROR frame the server answered a request with.
type ServerError struct {
	Code       common.ErrorCode
	Message    string
	RetryAfter time.Duration
}

func (e *ServerError) Error() string {
	return fmt.Sprintf("server error %s: %s", e.Code, e.Message)
}

// LoginError is a refused POST /v1/login.
type LoginError struct {
	User   string
	Status int
	Body   string // the start of the response, for the operator
}

func (e *LoginError) Error() string {
	return fmt.Sprintf("login %s: HTTP %d: %s", e.User, e.Status, e.Body)
}

var (
	// ErrUnexpectedFrame is a frame the exchange in progress cannot explain.
	ErrUnexpectedFrame = errors.New("unexpected frame")
	// ErrCapacity says the run asks for more connections than the file descriptor limit
	// or the source addresses allow.
	ErrCapacity = errors.New("not enough capacity for the connections asked")
	// ErrUnstable says memory did not settle within the settle timeout; the figure taken
	// is the last sample.
	ErrUnstable = errors.New("memory did not settle")
	// ErrFramesLost says the clients did not read every frame pushed to them: a connection
	// failed, or the gateway reported it missing or dropped.
	ErrFramesLost = errors.New("pushed frames not all received")
)

// KickError is a KICK the server closed a connection with.
type KickError struct {
	Reason  frame.KickReason
	Message string
}

func (e *KickError) Error() string {
	return fmt.Sprintf("kicked (%s): %s", e.Reason, e.Message)
}
