package auth

import (
	"errors"
	"fmt"

	"golang.org/x/crypto/bcrypt"
)

// ErrBadCredentials: unknown user or wrong password (never say which).
var ErrBadCredentials = errors.New("bad credentials")

// MaxPasswordBytes is bcrypt's input limit; longer passwords are refused, not truncated.
const MaxPasswordBytes = 72

// HashPassword returns a bcrypt hash of password at the default cost.
func HashPassword(password string) ([]byte, error) {
	if len(password) == 0 || len(password) > MaxPasswordBytes {
		return nil, fmt.Errorf("hash password: length %d: %w", len(password), ErrBadCredentials)
	}
	h, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
	if err != nil {
		return nil, fmt.Errorf("hash password: %w", err)
	}
	return h, nil
}

// CheckPassword compares password with hash in constant time.
func CheckPassword(hash []byte, password string) error {
	if len(password) == 0 || len(password) > MaxPasswordBytes {
		return ErrBadCredentials
	}
	if err := bcrypt.CompareHashAndPassword(hash, []byte(password)); err != nil {
		return ErrBadCredentials
	}
	return nil
}
