package auth

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// MinSecretBytes is the shortest HMAC secret accepted: HS256 wants at least the hash size.
const MinSecretBytes = 32

const issuer = "bangbang"

var (
	// ErrTokenExpired: the token was valid but its expiry has passed. Log in again.
	ErrTokenExpired = errors.New("token expired")
	// ErrTokenInvalid: malformed, forged, signed with another key or algorithm.
	ErrTokenInvalid = errors.New("token invalid")
)

// Claims is what a verified token says.
type Claims struct {
	UserID    string
	Kind      string // "merchant" | "customer"
	ExpiresAt time.Time
	// ID (the JWT's jti) names this one token, for revoking it alone; IssuedAt, to the
	// millisecond, places it against a revocation of every token issued before a time.
	ID       string
	IssuedAt time.Time
}

type jwtClaims struct {
	Kind string `json:"knd"`
	// IssuedMs is iat to the millisecond (iat has whole seconds): a token issued just
	// after a revocation of all must not fall before its cutoff.
	IssuedMs int64 `json:"ims,omitempty"`
	jwt.RegisteredClaims
}

// Tokens signs and verifies tokens with one secret.
type Tokens struct {
	secret []byte
	ttl    time.Duration
	now    func() time.Time
	parser *jwt.Parser
}

// NewTokens returns a Tokens signing with secret; ttl is the token lifetime (0 means 24h).
// now may be nil (time.Now); tests pass a clock to reach expiry without waiting.
func NewTokens(secret []byte, ttl time.Duration, now func() time.Time) (*Tokens, error) {
	if len(secret) < MinSecretBytes {
		return nil, fmt.Errorf("token secret: %d bytes, want at least %d", len(secret), MinSecretBytes)
	}
	if ttl <= 0 {
		ttl = 24 * time.Hour
	}
	if now == nil {
		now = time.Now
	}
	return &Tokens{
		secret: append([]byte(nil), secret...),
		ttl:    ttl,
		now:    now,
		parser: jwt.NewParser(
			jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
			jwt.WithIssuer(issuer),
			jwt.WithExpirationRequired(),
			jwt.WithTimeFunc(now),
		),
	}, nil
}

// Issue returns a token for userID of kind and its expiry.
func (t *Tokens) Issue(userID, kind string) (string, time.Time, error) {
	if userID == "" || len(userID) > 128 {
		return "", time.Time{}, fmt.Errorf("issue token: user id length %d: %w", len(userID), ErrTokenInvalid)
	}
	now := t.now()
	exp := now.Add(t.ttl).Truncate(time.Second)
	var id [16]byte
	_, _ = rand.Read(id[:]) // crypto/rand.Read never fails on supported platforms
	c := jwtClaims{Kind: kind, IssuedMs: now.UnixMilli(), RegisteredClaims: jwt.RegisteredClaims{
		ID:        hex.EncodeToString(id[:]),
		Issuer:    issuer,
		Subject:   userID,
		IssuedAt:  jwt.NewNumericDate(now),
		ExpiresAt: jwt.NewNumericDate(exp),
	}}
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(t.secret)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("sign token: %w", err)
	}
	return s, exp, nil
}

// Verify checks the signature, algorithm, issuer and expiry of token. Errors are
// ErrTokenExpired or ErrTokenInvalid (wrapped with detail for the log).
func (t *Tokens) Verify(token string) (Claims, error) {
	if len(token) == 0 || len(token) > 4096 {
		return Claims{}, fmt.Errorf("token length %d: %w", len(token), ErrTokenInvalid)
	}
	var c jwtClaims
	_, err := t.parser.ParseWithClaims(token, &c, func(*jwt.Token) (any, error) { return t.secret, nil })
	switch {
	case errors.Is(err, jwt.ErrTokenExpired):
		return Claims{}, fmt.Errorf("verify token: %w", ErrTokenExpired)
	case err != nil:
		return Claims{}, fmt.Errorf("verify token: %v: %w", err, ErrTokenInvalid)
	case c.Subject == "":
		return Claims{}, fmt.Errorf("verify token: no subject: %w", ErrTokenInvalid)
	}
	issued := time.UnixMilli(c.IssuedMs)
	if c.IssuedMs == 0 && c.IssuedAt != nil {
		issued = c.IssuedAt.Time
	}
	return Claims{UserID: c.Subject, Kind: c.Kind, ExpiresAt: c.ExpiresAt.Time, ID: c.ID, IssuedAt: issued}, nil
}
