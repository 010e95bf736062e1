package admin

import (
	"crypto/rand"
	"crypto/sha256"
	"sync"
	"time"

	"github.com/bangbang-im/bangbang/marketing/campaign"
)

// Browser sessions: what POST /admin/login opens.
const (
	// DefaultSessionTTL is how long a browser session lasts when Config.SessionTTL is 0.
	DefaultSessionTTL = 12 * time.Hour
	// MaxSessions bounds the session table; opening one more closes the oldest.
	MaxSessions = 256
)

// sessions are the open browser sessions: opaque random tokens, kept only as their
// SHA-256 (so a lookup compares no secret byte by byte) with an expiry and the actor of
// the key that logged in (never the key itself), in memory. Expired sessions go when
// looked up or when the table is full; no goroutine sweeps.
type sessions struct {
	ttl time.Duration
	max int
	now func() time.Time

	mu   sync.Mutex
	open map[[sha256.Size]byte]session
}

type session struct {
	actor   campaign.Actor
	csrf    string // the token a state-changing request with this session's cookie must carry
	expires time.Time
}

func newSessions(ttl time.Duration, limit int) *sessions {
	return &sessions{ttl: ttl, max: limit, now: time.Now, open: make(map[[sha256.Size]byte]session)}
}

// start opens a session for actor and returns its token: 128 random bits, as text.
func (ss *sessions) start(actor campaign.Actor) string {
	token := rand.Text()
	h := sha256.Sum256([]byte(token))
	actor.TraceID = ""
	ss.mu.Lock()
	defer ss.mu.Unlock()
	now := ss.now()
	if len(ss.open) >= ss.max {
		ss.sweep(now)
	}
	if len(ss.open) >= ss.max {
		ss.evictOldest()
	}
	ss.open[h] = session{actor: actor, csrf: rand.Text(), expires: now.Add(ss.ttl)}
	return token
}

// get returns the live session token names.
func (ss *sessions) get(token string) (session, bool) {
	if token == "" {
		return session{}, false
	}
	h := sha256.Sum256([]byte(token))
	ss.mu.Lock()
	defer ss.mu.Unlock()
	s, ok := ss.open[h]
	if ok && !ss.now().Before(s.expires) {
		delete(ss.open, h)
		return session{}, false
	}
	return s, ok
}

// close ends the session token names, if any.
func (ss *sessions) close(token string) {
	h := sha256.Sum256([]byte(token))
	ss.mu.Lock()
	defer ss.mu.Unlock()
	delete(ss.open, h)
}

// closeKey ends every session opened with the stored key keyID: revoking a key logs its
// browsers out.
func (ss *sessions) closeKey(keyID string) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	for h, s := range ss.open {
		if s.actor.KeyID == keyID {
			delete(ss.open, h)
		}
	}
}

// len is the number of sessions held, expired or not.
func (ss *sessions) len() int {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return len(ss.open)
}

// sweep drops expired sessions. Callers hold ss.mu.
func (ss *sessions) sweep(now time.Time) {
	for h, s := range ss.open {
		if !now.Before(s.expires) {
			delete(ss.open, h)
		}
	}
}

// evictOldest drops the session that expires first: with one TTL for all, the oldest.
// Callers hold ss.mu.
func (ss *sessions) evictOldest() {
	var oldest [sha256.Size]byte
	var first time.Time
	for h, s := range ss.open {
		if first.IsZero() || s.expires.Before(first) {
			oldest, first = h, s.expires
		}
	}
	delete(ss.open, oldest)
}
