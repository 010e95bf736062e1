package partner

import (
	"context"
	"errors"
	"time"

	"github.com/sony/gobreaker/v2"
)

// The breaker judges the third party over a rolling window of breakerWindow,
// in buckets of breakerBucket, so that old failures age out gradually.
const (
	breakerWindow = 10 * time.Second
	breakerBucket = time.Second
)

// Outcomes reported to the breaker: nil is a success.
var (
	errAttemptFailed = errors.New("attempt failed")
	errCallerGone    = errors.New("caller canceled")
)

func newBreaker(c *Client) *gobreaker.TwoStepCircuitBreaker[struct{}] {
	ratio, minRequests := c.cfg.BreakerFailureRatio, c.cfg.BreakerMinRequests
	return gobreaker.NewTwoStepCircuitBreaker[struct{}](gobreaker.Settings{
		Name:         c.cfg.Name,
		MaxRequests:  1, // one probe when half-open
		Interval:     breakerWindow,
		BucketPeriod: breakerBucket,
		Timeout:      c.cfg.BreakerOpenTimeout,
		ReadyToTrip: func(n gobreaker.Counts) bool {
			done := n.TotalSuccesses + n.TotalFailures
			return done >= minRequests && float64(n.TotalFailures) >= ratio*float64(done)
		},
		// Called with the breaker's lock held: it only records and logs.
		OnStateChange: func(name string, from, to gobreaker.State) {
			if to == gobreaker.StateOpen {
				c.openUntil.Store(time.Now().Add(c.cfg.BreakerOpenTimeout).UnixNano())
			}
			c.log.Warn("third party circuit breaker changed state", "from", from.String(), "to", to.String())
		},
		IsSuccessful: func(err error) bool { return err == nil },
		IsExcluded:   func(err error) bool { return errors.Is(err, errCallerGone) },
	})
}

// outcome is what an attempt's result tells the breaker about the third
// party: declared faults and refused credentials are answers from a healthy
// service; a caller's cancellation tells nothing.
func outcome(callerErr, err error) error {
	var f *Fault
	switch {
	case err == nil:
		return nil
	case errors.Is(callerErr, context.Canceled):
		return errCallerGone
	case errors.As(err, &f) && (f.declared() || f.Kind == FaultAuth):
		return nil
	}
	return errAttemptFailed
}

// unavailable is the error of an attempt the breaker refused.
func (c *Client) unavailable(op string, cause error) error {
	wait := time.Until(time.Unix(0, c.openUntil.Load()))
	if wait <= 0 { // half-open: a probe is under way, and ends within an attempt
		wait = c.cfg.AttemptTimeout
	}
	return &callError{line: c.cfg.Name, op: op, kind: ErrUnavailable, retryAfter: wait, cause: cause}
}
