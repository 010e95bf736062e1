package partner

import (
	"errors"
	"strings"
	"time"
)

// The failures of Do other than a *Fault. Each error Do returns wraps exactly
// one of them (errors.Is), with the line and operation in its message.
var (
	// ErrUnavailable: the circuit breaker is open (or probing), so the call
	// was not attempted. RetryAfter tells when to try again.
	ErrUnavailable = errors.New("partner: unavailable")
	// ErrTimeout: the deadline (the caller's, Timeout or AttemptTimeout)
	// was reached, or the caller gave up, before a complete answer.
	ErrTimeout = errors.New("partner: deadline reached")
	// ErrBadResponse: the answer is not a usable SOAP message: malformed or
	// truncated XML, an error page instead of a fault, a body over
	// MaxResponseBytes or one that never ends.
	ErrBadResponse = errors.New("partner: bad response")
	// ErrTransport: no answer at all: connection refused or reset, DNS.
	ErrTransport = errors.New("partner: transport failure")
)

// FaultKind classifies a soap:Fault (or a refusal of the credentials).
type FaultKind string

// The kinds of Fault. The first five are the faults the WSDLs declare, sent
// in soap:Fault/detail; FaultAuth is HTTP 401 or 403; FaultServer is every
// other fault: soap:Server, or a fault without a declared detail.
const (
	FaultNotFound            FaultKind = "not_found"
	FaultNotOwner            FaultKind = "not_owner"
	FaultInsufficientCredits FaultKind = "insufficient_credits"
	FaultQuotaExceeded       FaultKind = "quota_exceeded"
	FaultInvalidRequest      FaultKind = "invalid_request"
	FaultAuth                FaultKind = "auth"
	FaultServer              FaultKind = "server"
)

// Fault is a soap:Fault from a third party, with its declared detail.
type Fault struct {
	Line, Op string
	Kind     FaultKind
	// Code and Message are faultcode and faultstring: for logs. A merchant
	// must never see them when Kind is FaultServer or FaultAuth.
	Code, Message string
	// ResourceType and ResourceID: FaultNotFound and FaultNotOwner.
	ResourceType, ResourceID string
	// Needed and Available are credits: FaultInsufficientCredits.
	Needed, Available int64
	// RetryAfter is retryAfterSeconds: FaultQuotaExceeded.
	RetryAfter time.Duration
	// Field and Reason: FaultInvalidRequest.
	Field, Reason string
}

func (f *Fault) Error() string {
	var b strings.Builder
	b.WriteString(f.Line)
	b.WriteByte(' ')
	b.WriteString(f.Op)
	b.WriteString(": ")
	b.WriteString(string(f.Kind))
	b.WriteString(" fault")
	if f.Code != "" {
		b.WriteString(" (")
		b.WriteString(f.Code)
		b.WriteByte(')')
	}
	if f.Message != "" {
		b.WriteString(": ")
		b.WriteString(f.Message)
	}
	return b.String()
}

// declared reports whether the fault is the merchant's business (a declared
// fault), which says nothing about the third party's health.
func (f *Fault) declared() bool {
	switch f.Kind {
	case FaultNotFound, FaultNotOwner, FaultInsufficientCredits, FaultQuotaExceeded, FaultInvalidRequest:
		return true
	}
	return false
}

// serverSide reports whether the third party blames itself (faultcode
// Server or Server.something, in any prefix): only then may a retry help.
func (f *Fault) serverSide() bool {
	code := f.Code
	if i := strings.LastIndexByte(code, ':'); i >= 0 {
		code = code[i+1:]
	}
	return code == "Server" || strings.HasPrefix(code, "Server.")
}

// callError is every failure of Do that is not a *Fault.
type callError struct {
	line, op   string
	kind       error // ErrUnavailable, ErrTimeout, ErrBadResponse or ErrTransport
	retryAfter time.Duration
	cause      error
}

func (e *callError) Error() string {
	s := e.line + " " + e.op + ": " + strings.TrimPrefix(e.kind.Error(), "partner: ")
	if e.cause != nil {
		s += ": " + e.cause.Error()
	}
	return s
}

func (e *callError) Unwrap() []error {
	if e.cause == nil {
		return []error{e.kind}
	}
	return []error{e.kind, e.cause}
}

// RetryAfter returns how long to wait before calling again: the time until
// the breaker lets a probe through for ErrUnavailable, retryAfterSeconds for
// a FaultQuotaExceeded, and 0 for anything else.
func RetryAfter(err error) time.Duration {
	var ce *callError
	if errors.As(err, &ce) {
		return ce.retryAfter
	}
	var f *Fault
	if errors.As(err, &f) {
		return f.RetryAfter
	}
	return 0
}
