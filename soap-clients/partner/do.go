package partner

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/hooklift/gowsdl/soap"
)

// errNoClient is the cause when Do gets a nil Client (a line not configured).
var errNoClient = errors.New("no client for this third party")

// Do runs one SOAP operation through the policy. op is the WSDL operation
// name ("PromoteListing"); idempotent says whether a retry is safe: reads
// yes; paid or state-changing calls no, even though they carry a requestId,
// since a lost answer is the caller's to reconcile, not ours to repeat.
// call must use the ctx it is given: it carries the deadline and the record
// the transport fills in.
//
// Do returns within the smaller of ctx's deadline and Config.Timeout. Every
// error is a *Fault or wraps ErrUnavailable, ErrTimeout, ErrBadResponse or
// ErrTransport.
func Do[T any](ctx context.Context, c *Client, op string, idempotent bool, call func(context.Context) (T, error)) (T, error) {
	if c == nil {
		var zero T
		return zero, &callError{op: op, kind: ErrUnavailable, cause: errNoClient}
	}
	start := time.Now()
	res, err := run(ctx, c, op, idempotent, call)
	c.metrics.call(ctx, c.cfg.Name, op, err, time.Since(start))
	return res, err
}

// run is Do's attempts, retries and backoff, for a non-nil c.
func run[T any](ctx context.Context, c *Client, op string, idempotent bool, call func(context.Context) (T, error)) (T, error) {
	var zero T
	caller := ctx
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	c.budget.deposit()
	attempts := 1
	if idempotent {
		attempts += c.cfg.ReadRetries
	}
	for n := 1; ; n++ {
		res, err := try(ctx, caller, c, op, call)
		if err == nil {
			return res, nil
		}
		if n >= attempts || !retryable(err) || ctx.Err() != nil {
			return zero, err
		}
		delay := backoff(n)
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < delay+minAttempt {
			return zero, err
		}
		if !c.budget.withdraw() {
			c.log.DebugContext(ctx, "retry budget spent: not retrying", "op", op, "err", err)
			return zero, err
		}
		c.log.DebugContext(ctx, "retrying", "op", op, "attempt", n+1, "after", delay, "err", err)
		if !wait(ctx, delay) {
			return zero, err
		}
	}
}

// try is one attempt: through the breaker, under AttemptTimeout.
func try[T any](ctx, caller context.Context, c *Client, op string, call func(context.Context) (T, error)) (T, error) {
	var zero T
	done, err := c.breaker.Allow()
	if err != nil {
		return zero, c.unavailable(op, err)
	}
	c.metrics.attempt(c.cfg.Name, op)
	actx := ctx
	if c.cfg.AttemptTimeout < c.cfg.Timeout {
		var cancel context.CancelFunc
		actx, cancel = context.WithTimeout(ctx, c.cfg.AttemptTimeout)
		defer cancel()
	}
	att := &attempt{op: op}
	res, callErr := call(context.WithValue(actx, attemptKey{}, att))
	err = c.classify(actx, op, att, callErr)
	done(outcome(caller.Err(), err))
	if err != nil {
		return zero, err
	}
	return res, nil
}

// classify turns what the generated client returned, and what the transport
// saw, into Do's errors.
func (c *Client) classify(actx context.Context, op string, att *attempt, callErr error) error {
	switch {
	case att.fault != nil:
		att.fault.Line, att.fault.Op = c.cfg.Name, op
		return att.fault
	case att.bad != nil:
		return c.fail(op, ErrBadResponse, att.bad)
	case callErr == nil:
		return nil
	case actx.Err() != nil:
		return c.fail(op, ErrTimeout, context.Cause(actx))
	case att.status != 0:
		// A whole answer arrived that the generated client could not decode.
		return c.fail(op, ErrBadResponse, callErr)
	}
	return c.uncaptured(op, callErr)
}

// uncaptured classifies an error without the transport's record: no answer
// arrived, or call did not pass on the context Do gave it. Then the generated
// client's own errors are all there is: a fault with HTTP 500 is a
// *soap.HTTPError holding the raw body, one with HTTP 200 a *soap.SOAPFault
// without its detail.
func (c *Client) uncaptured(op string, err error) error {
	var he *soap.HTTPError
	var sf *soap.SOAPFault
	var se *xml.SyntaxError
	var ue xml.UnmarshalError
	switch {
	case errors.As(err, &he):
		if he.StatusCode == http.StatusUnauthorized || he.StatusCode == http.StatusForbidden {
			return &Fault{Line: c.cfg.Name, Op: op, Kind: FaultAuth, Code: fmt.Sprintf("HTTP %d", he.StatusCode), Message: "credentials refused"}
		}
		p, perr := parseResponse(he.ResponseBody, c.cfg.Namespace)
		if perr != nil || p.fault == nil {
			return c.fail(op, ErrBadResponse, fmt.Errorf("HTTP %d without a soap fault", he.StatusCode))
		}
		p.fault.Line, p.fault.Op = c.cfg.Name, op
		return p.fault
	case errors.As(err, &sf):
		return &Fault{Line: c.cfg.Name, Op: op, Kind: FaultServer, Code: clip(sf.Code, maxFaultField), Message: clip(sf.String, maxFaultText)}
	case errors.As(err, &se), errors.As(err, &ue), errors.Is(err, errMalformed), errors.Is(err, errTooLarge):
		return c.fail(op, ErrBadResponse, err)
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return c.fail(op, ErrTimeout, err)
	}
	return c.fail(op, ErrTransport, err)
}

func (c *Client) fail(op string, kind, cause error) error {
	return &callError{line: c.cfg.Name, op: op, kind: kind, cause: cause}
}
