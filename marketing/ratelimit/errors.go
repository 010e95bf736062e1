package ratelimit

import (
	"errors"
	"fmt"
)

// ErrUnknownClass is returned (wrapped) by Allow for a class with no limit.
var ErrUnknownClass = errors.New("unknown rate limit class")

// ErrInvalidMerchant is returned (wrapped) by Allow for an empty, oversized
// or unprintable merchant id.
var ErrInvalidMerchant = errors.New("invalid merchant id")

// ErrInvalidLimit is returned (wrapped) by ValidateLimits, and by Allow for a
// class whose configured limit cannot be applied.
var ErrInvalidLimit = errors.New("invalid rate limit")

// MaxMerchantLen bounds a merchant id, in bytes.
const MaxMerchantLen = 128

// checkMerchant keeps keys unambiguous: the id is framed by braces in the
// Redis key, so it must not contain them.
func checkMerchant(m string) error {
	if m == "" || len(m) > MaxMerchantLen {
		return fmt.Errorf("merchant id of %d bytes: %w", len(m), ErrInvalidMerchant)
	}
	for i := 0; i < len(m); i++ {
		if c := m[i]; c <= ' ' || c > '~' || c == '{' || c == '}' {
			return fmt.Errorf("merchant id byte %#x: %w", c, ErrInvalidMerchant)
		}
	}
	return nil
}

func checkClass(c Class) error {
	if c == "" || len(c) > 32 {
		return fmt.Errorf("class of %d bytes: %w", len(c), ErrInvalidLimit)
	}
	for i := 0; i < len(c); i++ {
		if b := c[i]; b <= ' ' || b > '~' {
			return fmt.Errorf("class byte %#x: %w", b, ErrInvalidLimit)
		}
	}
	return nil
}

// lookup finds the limit of class, or says why there is none usable.
func lookup(limits map[Class]Limit, c Class) (Limit, error) {
	l, ok := limits[c]
	if !ok {
		return Limit{}, fmt.Errorf("class %q: %w", c, ErrUnknownClass)
	}
	if err := l.Validate(); err != nil {
		return Limit{}, fmt.Errorf("class %q: %w", c, err)
	}
	return l, nil
}
