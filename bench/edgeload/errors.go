package main

import (
	"errors"
	"fmt"
	"net"

	"github.com/hooklift/gowsdl/soap"
)

// LoginError is a refused POST /v1/login.
type LoginError struct {
	User   string
	Status int
	Body   string // the start of the answer, for the operator
}

func (e *LoginError) Error() string {
	return fmt.Sprintf("login %s: HTTP %d: %s", e.User, e.Status, e.Body)
}

// HTTPError is an edge answer other than 200; Code is the API's error code when the body
// carries one.
type HTTPError struct {
	Status int
	Code   string
}

func (e *HTTPError) Error() string {
	if e.Code == "" {
		return fmt.Sprintf("HTTP %d", e.Status)
	}
	return fmt.Sprintf("HTTP %d %s", e.Status, e.Code)
}

var (
	// ErrWrongAnswer is an answer that decodes but is not the one asked for (another
	// merchant's, a listing with missing days): the path under load is broken.
	ErrWrongAnswer = errors.New("wrong answer")
	// ErrConfig is a flag combination the program cannot run.
	ErrConfig = errors.New("invalid configuration")
)

// errKey groups failures for the report: by HTTP status and code, SOAP fault code, or kind.
func errKey(err error) string {
	var he *HTTPError
	var sf *soap.SOAPFault
	var sh *soap.HTTPError
	var ne net.Error
	switch {
	case errors.As(err, &he):
		return he.Error()
	case errors.As(err, &sf):
		return "soap fault " + sf.Code
	case errors.As(err, &sh):
		return fmt.Sprintf("soap HTTP %d", sh.StatusCode)
	case errors.Is(err, ErrWrongAnswer):
		return "wrong answer"
	case errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	default:
		return "transport"
	}
}
