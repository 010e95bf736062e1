package admin

import (
	"crypto/sha256"
	"sync"
	"time"

	"github.com/bangbang-im/bangbang/marketing/campaign"
)

// The stored-key cache's bounds.
const (
	// KeyCacheTTL is how long a stored key found in the database is trusted without looking
	// again: a key revoked on another admin node stops working here within it.
	KeyCacheTTL = 5 * time.Second
	// MaxCachedKeys bounds the cache; when full, expired entries go, then the oldest.
	MaxCachedKeys = 1024
)

// keyCache remembers, for at most its TTL, which actor a stored key's secret stands for,
// so a script making many calls costs one database lookup per key every few seconds. It
// holds the secrets' SHA-256, never a secret, and only keys that were found: a wrong key
// is looked up every time, and cannot fill the cache. Revoking a key through this server
// forgets it at once (forget); a lookup that raced with the revocation is not cached
// (the generation put checks).
type keyCache struct {
	ttl time.Duration
	max int
	now func() time.Time

	mu      sync.Mutex
	gen     uint64 // bumped by every forget
	entries map[[sha256.Size]byte]cachedKey
}

type cachedKey struct {
	actor   campaign.Actor
	expires time.Time
}

func newKeyCache(ttl time.Duration, limit int) *keyCache {
	return &keyCache{ttl: ttl, max: limit, now: time.Now, entries: make(map[[sha256.Size]byte]cachedKey)}
}

// get returns the actor cached for the secret whose digest is h.
func (kc *keyCache) get(h [sha256.Size]byte) (campaign.Actor, bool) {
	kc.mu.Lock()
	defer kc.mu.Unlock()
	e, ok := kc.entries[h]
	if ok && !kc.now().Before(e.expires) {
		delete(kc.entries, h)
		return campaign.Actor{}, false
	}
	return e.actor, ok
}

// generation is read before a database lookup and handed to put with its result.
func (kc *keyCache) generation() uint64 {
	kc.mu.Lock()
	defer kc.mu.Unlock()
	return kc.gen
}

// put caches actor for h, unless a key was forgotten since gen was read: the lookup may
// then have seen a key that is revoked by now.
func (kc *keyCache) put(h [sha256.Size]byte, actor campaign.Actor, gen uint64) {
	kc.mu.Lock()
	defer kc.mu.Unlock()
	if gen != kc.gen {
		return
	}
	now := kc.now()
	if _, ok := kc.entries[h]; !ok && len(kc.entries) >= kc.max {
		for k, e := range kc.entries {
			if !now.Before(e.expires) {
				delete(kc.entries, k)
			}
		}
		if len(kc.entries) >= kc.max {
			var oldest [sha256.Size]byte
			var first time.Time
			for k, e := range kc.entries {
				if first.IsZero() || e.expires.Before(first) {
					oldest, first = k, e.expires
				}
			}
			delete(kc.entries, oldest)
		}
	}
	kc.entries[h] = cachedKey{actor: actor, expires: now.Add(kc.ttl)}
}

// forget drops the key keyID.
func (kc *keyCache) forget(keyID string) {
	kc.mu.Lock()
	defer kc.mu.Unlock()
	kc.gen++
	for k, e := range kc.entries {
		if e.actor.KeyID == keyID {
			delete(kc.entries, k)
		}
	}
}

// len is the number of entries held, expired or not.
func (kc *keyCache) len() int {
	kc.mu.Lock()
	defer kc.mu.Unlock()
	return len(kc.entries)
}
