package admin

import (
	"crypto/rand"
	"crypto/sha256"
	"sync"
	"time"
)

// Browser sessions: what POST /admin/login opens.
const (
	// DefaultSessionTTL is how long a browser session lasts when Config.SessionTTL is 0.
	DefaultSessionTTL = 12 * time.Hour
	// MaxSessions bounds the session table; opening one more closes the oldest.
	MaxSessions = 256
)

// sessions are the open browser sessions: opaque random tokens, kept only as their
// SHA-256 (so a lookup compares no secret byte by byte) with an expiry, in memory.
// Expired sessions go when looked up or when the table is full; no goroutine sweeps.
type sessions struct {
	ttl time.Duration
	max int
	now func() time.Time

	mu      sync.Mutex
	expires map[[sha256.Size]byte]time.Time
}

func newSessions(ttl time.Duration, limit int) *sessions {
	return &sessions{ttl: ttl, max: limit, now: time.Now, expires: make(map[[sha256.Size]byte]time.Time)}
}

// open starts a session and returns its token: 128 random bits, as text.
func (ss *sessions) open() string {
	token := rand.Text()
	h := sha256.Sum256([]byte(token))
	ss.mu.Lock()
	defer ss.mu.Unlock()
	now := ss.now()
	if len(ss.expires) >= ss.max {
		ss.sweep(now)
	}
	if len(ss.expires) >= ss.max {
		ss.evictOldest()
	}
	ss.expires[h] = now.Add(ss.ttl)
	return token
}

// valid reports whether token names a live session.
func (ss *sessions) valid(token string) bool {
	if token == "" {
		return false
	}
	h := sha256.Sum256([]byte(token))
	ss.mu.Lock()
	defer ss.mu.Unlock()
	exp, ok := ss.expires[h]
	if ok && !ss.now().Before(exp) {
		delete(ss.expires, h)
		return false
	}
	return ok
}

// close ends the session token names, if any.
func (ss *sessions) close(token string) {
	h := sha256.Sum256([]byte(token))
	ss.mu.Lock()
	defer ss.mu.Unlock()
	delete(ss.expires, h)
}

// len is the number of sessions held, expired or not.
func (ss *sessions) len() int {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return len(ss.expires)
}

// sweep drops expired sessions. Callers hold ss.mu.
func (ss *sessions) sweep(now time.Time) {
	for h, exp := range ss.expires {
		if !now.Before(exp) {
			delete(ss.expires, h)
		}
	}
}

// evictOldest drops the session that expires first: with one TTL for all, the oldest.
// Callers hold ss.mu.
func (ss *sessions) evictOldest() {
	var oldest [sha256.Size]byte
	var first time.Time
	for h, exp := range ss.expires {
		if first.IsZero() || exp.Before(first) {
			oldest, first = h, exp
		}
	}
	delete(ss.expires, oldest)
}
