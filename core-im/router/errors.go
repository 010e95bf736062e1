package router

import (
	"errors"
	"fmt"
	"time"
)

// ErrInvalid is matched (errors.Is) by every validation error: an empty id,
// an id over MaxIDLen bytes, a ttl that is not positive.
var ErrInvalid = errors.New("invalid route argument")

// ErrClosed is returned by every method called after Close.
var ErrClosed = errors.New("route table closed")

// MaxIDLen bounds user, device, node and connection ids and the platform, in
// bytes, so one bad client cannot make every route of a node expensive.
const MaxIDLen = 128

// ValidationError says which argument was rejected and why.
type ValidationError struct {
	Field  string
	Reason string
}

func (e *ValidationError) Error() string {
	return fmt.Sprintf("invalid route argument: %s %s", e.Field, e.Reason)
}

// Is makes errors.Is(err, ErrInvalid) hold for every ValidationError.
func (e *ValidationError) Is(target error) bool { return target == ErrInvalid }

func invalid(field, reason string) error {
	return &ValidationError{Field: field, Reason: reason}
}

func checkID(field, v string) error {
	if v == "" {
		return invalid(field, "is empty")
	}
	if len(v) > MaxIDLen {
		return invalid(field, fmt.Sprintf("is over %d bytes", MaxIDLen))
	}
	return nil
}

// checkConn validates the ids that name a route's connection.
func checkConn(r *Route) error {
	if err := checkID("user id", r.UserID); err != nil {
		return err
	}
	if err := checkID("device id", r.DeviceID); err != nil {
		return err
	}
	if err := checkID("node", r.Node); err != nil {
		return err
	}
	return checkID("conn id", r.ConnID)
}

// checkRoute validates a route about to be stored.
func checkRoute(r *Route) error {
	if err := checkConn(r); err != nil {
		return err
	}
	if len(r.Platform) > MaxIDLen {
		return invalid("platform", fmt.Sprintf("is over %d bytes", MaxIDLen))
	}
	return nil
}

func checkTTL(ttl time.Duration) error {
	if ttl <= 0 {
		return invalid("ttl", "is not positive")
	}
	return nil
}

func checkUsers(users []string) error {
	for _, u := range users {
		if err := checkID("user id", u); err != nil {
			return err
		}
	}
	return nil
}
