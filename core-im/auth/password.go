package auth

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

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

// CheckPassword compares password with hash in constant time. An empty hash (an unknown
// user, or one without a password) is compared with a fixed hash no password matches, so
// the answer costs the same bcrypt work and its timing does not tell a guesser whether the
// account exists.
func CheckPassword(hash []byte, password string) error {
	if len(hash) == 0 {
		hash = decoyHash()
	}
	if len(password) == 0 || len(password) > MaxPasswordBytes {
		password = "-" // still do the work: the length is not a tell either
	}
	compares.Add(1)
	if err := bcrypt.CompareHashAndPassword(hash, []byte(password)); err != nil || isDecoy(hash) {
		return ErrBadCredentials
	}
	return nil
}

// compares counts bcrypt comparisons, so a test can see that a refusal did the work.
var compares atomic.Int64

// decoyHash is a bcrypt hash at the default cost of 32 random bytes nobody knows.
var decoyHash = sync.OnceValue(func() []byte {
	var secret [32]byte
	_, _ = rand.Read(secret[:]) // crypto/rand.Read never fails on supported platforms
	h, err := bcrypt.GenerateFromPassword([]byte(hex.EncodeToString(secret[:])[:MaxPasswordBytes/2]), bcrypt.DefaultCost)
	if err != nil {
		return []byte("$2a$10$invalidinvalidinvalidinvalidinvalidinvalidinvalidinva")
	}
	return h
})

func isDecoy(hash []byte) bool { return &hash[0] == &decoyHash()[0] }
