package store

import (
	"errors"
	"fmt"
)

// Sentinel errors, matched with errors.Is.
var (
	ErrNotFound = errors.New("store: not found")
	ErrInvalid  = errors.New("store: invalid argument")
	ErrClosed   = errors.New("store: closed")
)

// InvalidError describes a rejected argument. It matches ErrInvalid with
// errors.Is; errors.As gives the field.
type InvalidError struct {
	Field  string // e.g. "ConvID", "Recipients[2]", "limit"
	Reason string
}

func (e *InvalidError) Error() string {
	return fmt.Sprintf("store: invalid %s: %s", e.Field, e.Reason)
}

// Unwrap lets errors.Is(err, ErrInvalid) hold.
func (e *InvalidError) Unwrap() error { return ErrInvalid }

func invalid(field, reason string) error {
	return &InvalidError{Field: field, Reason: reason}
}
