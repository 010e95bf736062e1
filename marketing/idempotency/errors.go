package idempotency

import (
	"errors"
	"fmt"
	"time"
)

var (
	// ErrInvalidKey: the key is empty, over MaxKeyLen bytes or not
	// printable ASCII. The edge answers 400.
	ErrInvalidKey = errors.New("invalid idempotency key")
	// ErrInFlight: another request holds the key. The edge answers 409.
	ErrInFlight = errors.New("idempotency key in use by a request in flight")
	// ErrMismatch: the key was used with a different request. The edge
	// answers 422.
	ErrMismatch = errors.New("idempotency key reused with a different request")
	// ErrNotClaimed: Complete found the key completed already, or claimed by
	// a different request; the stored state was left alone.
	ErrNotClaimed = errors.New("idempotency key not claimed by this request")
	// ErrTooLarge: a record's body is over Options.MaxBodyBytes.
	ErrTooLarge = errors.New("idempotency record too large")
	// ErrFull: the memory store holds MaxKeys unfinished claims.
	ErrFull = errors.New("idempotency store full")
	// ErrInvalidArgument: a bad scope, fingerprint, lease, ttl or record;
	// a bug in the caller rather than bad client input.
	ErrInvalidArgument = errors.New("invalid idempotency argument")
)

// MaxKeyLen bounds an Idempotency-Key, in bytes.
const MaxKeyLen = 128

// maxIDLen bounds a scope and a fingerprint, in bytes.
const maxIDLen = 128

func checkKey(key string) error {
	if key == "" || len(key) > MaxKeyLen {
		return fmt.Errorf("key of %d bytes: %w", len(key), ErrInvalidKey)
	}
	for i := 0; i < len(key); i++ {
		if c := key[i]; c < ' ' || c > '~' {
			return fmt.Errorf("key byte %#x: %w", c, ErrInvalidKey)
		}
	}
	return nil
}

// checkScope keeps Redis keys unambiguous: the scope sits in braces.
func checkScope(scope string) error {
	if scope == "" || len(scope) > maxIDLen {
		return fmt.Errorf("scope of %d bytes: %w", len(scope), ErrInvalidArgument)
	}
	for i := 0; i < len(scope); i++ {
		if c := scope[i]; c <= ' ' || c > '~' || c == '{' || c == '}' {
			return fmt.Errorf("scope byte %#x: %w", c, ErrInvalidArgument)
		}
	}
	return nil
}

func checkScopeKey(scope, key string) error {
	if err := checkScope(scope); err != nil {
		return err
	}
	return checkKey(key)
}

func checkBegin(scope, key, fingerprint string, lease time.Duration) error {
	if err := checkScopeKey(scope, key); err != nil {
		return err
	}
	if fingerprint == "" || len(fingerprint) > maxIDLen {
		return fmt.Errorf("fingerprint of %d bytes: %w", len(fingerprint), ErrInvalidArgument)
	}
	if lease <= 0 {
		return fmt.Errorf("lease %s: %w", lease, ErrInvalidArgument)
	}
	return nil
}

func checkComplete(scope, key string, rec *Record, ttl time.Duration, maxBody int) error {
	if err := checkScopeKey(scope, key); err != nil {
		return err
	}
	switch {
	case rec.Fingerprint == "" || len(rec.Fingerprint) > maxIDLen:
		return fmt.Errorf("record fingerprint of %d bytes: %w", len(rec.Fingerprint), ErrInvalidArgument)
	case rec.Status < minStoredStatus || rec.Status > maxStoredStatus:
		// 5xx and timeouts are not definitive: Abort instead.
		return fmt.Errorf("record status %d: %w", rec.Status, ErrInvalidArgument)
	case len(rec.ContentType) > maxContentType:
		return fmt.Errorf("record content type of %d bytes: %w", len(rec.ContentType), ErrInvalidArgument)
	case len(rec.Body) > maxBody:
		return fmt.Errorf("record body of %d bytes, limit %d: %w", len(rec.Body), maxBody, ErrTooLarge)
	case ttl <= 0:
		return fmt.Errorf("ttl %s: %w", ttl, ErrInvalidArgument)
	}
	return nil
}
