package idempotency

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"time"
)

// Record is the response kept for a key: what a replay gets.
type Record struct {
	Status      int
	Body        []byte
	ContentType string
	// Fingerprint identifies the request the record answers (see
	// Fingerprint); Complete requires the one given to Begin.
	Fingerprint string
	CreatedAt   time.Time // set by Complete when zero
}

// Store claims, completes and releases idempotency keys. The package
// documentation describes the protocol.
type Store interface {
	// Begin claims key for fingerprint. If new: returns (nil, true, nil) and
	// the caller must Complete or Abort. If completed before: returns
	// (rec, false, nil). If another request holds it in flight: ErrInFlight.
	// If the fingerprint differs: ErrMismatch.
	Begin(ctx context.Context, scope, key, fingerprint string, lease time.Duration) (*Record, bool, error)
	// Complete stores rec as the answer for key for ttl.
	Complete(ctx context.Context, scope, key string, rec Record, ttl time.Duration) error
	// Abort releases the claim, e.g. when the call failed before reaching
	// the third party or its outcome is unknown.
	Abort(ctx context.Context, scope, key string) error
}

// Options tunes a store; the zero value is the production default.
type Options struct {
	// Now stamps CreatedAt and, for the memory store, drives expiry; nil
	// means time.Now. Redis expires keys on its own clock.
	Now func() time.Time
	// Prefix starts every Redis key; "" means "bb:idem:".
	Prefix string
	// MaxKeys bounds the memory store; 0 means 100,000.
	MaxKeys int
	// MaxBodyBytes bounds a record's body; 0 means 64 KiB.
	MaxBodyBytes int
}

const (
	defaultPrefix   = "bb:idem:"
	defaultMaxKeys  = 100_000
	defaultMaxBody  = 64 << 10
	maxContentType  = 128
	minStoredStatus = 200
	maxStoredStatus = 499
)

func (o Options) withDefaults() Options {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Prefix == "" {
		o.Prefix = defaultPrefix
	}
	if o.MaxKeys <= 0 {
		o.MaxKeys = defaultMaxKeys
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = defaultMaxBody
	}
	return o
}

// Fingerprint identifies a request: the same key sent with a different
// method, route, merchant or body is a different request. The body is
// hashed as received: a client replays the bytes it sent, and canonicalising
// JSON would make two different requests look alike more easily than it
// would help. The result is 64 hex characters.
func Fingerprint(method, route, merchant string, body []byte) string {
	h := sha256.New()
	// Length prefixes keep ("a", "bc") apart from ("ab", "c").
	for _, part := range [][]byte{[]byte(method), []byte(route), []byte(merchant), body} {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(part)))
		h.Write(n[:])
		h.Write(part)
	}
	return hex.EncodeToString(h.Sum(nil))
}
