package admin

import (
	"crypto/sha256"
	"testing"
	"time"

	"github.com/bangbang-im/bangbang/marketing/campaign"
)

func testKeyCache(limit int) (*keyCache, *clock) {
	c := &clock{t: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)}
	kc := newKeyCache(KeyCacheTTL, limit)
	kc.now = c.now
	return kc, c
}

func digest(s string) [sha256.Size]byte { return sha256.Sum256([]byte(s)) }

// A stored key is trusted for KeyCacheTTL at most: a key revoked on another node stops
// working here within it.
func TestKeyCacheExpires(t *testing.T) {
	kc, c := testKeyCache(10)
	a := campaign.Actor{KeyID: "key_a", Name: "a", Role: campaign.RoleAuthor}
	kc.put(digest("bbk_a"), a, kc.generation())
	if got, ok := kc.get(digest("bbk_a")); !ok || got != a {
		t.Fatalf("get = %+v %v", got, ok)
	}
	if _, ok := kc.get(digest("bbk_b")); ok {
		t.Fatal("an unknown secret is cached")
	}
	c.t = c.t.Add(KeyCacheTTL - time.Nanosecond)
	if _, ok := kc.get(digest("bbk_a")); !ok {
		t.Fatal("entry gone before its TTL")
	}
	c.t = c.t.Add(time.Nanosecond)
	if _, ok := kc.get(digest("bbk_a")); ok || kc.len() != 0 {
		t.Fatalf("entry kept after its TTL (%d held)", kc.len())
	}
}

// Revoking a key forgets it at once, and a lookup that started before the revocation
// does not put it back.
func TestKeyCacheForget(t *testing.T) {
	kc, _ := testKeyCache(10)
	a := campaign.Actor{KeyID: "key_a", Name: "a", Role: campaign.RoleAuthor}
	b := campaign.Actor{KeyID: "key_b", Name: "b", Role: campaign.RoleViewer}
	kc.put(digest("bbk_a"), a, kc.generation())
	kc.put(digest("bbk_b"), b, kc.generation())
	racing := kc.generation() // a lookup of key_a reads the store...
	kc.forget("key_a")        // ...while key_a is revoked
	kc.put(digest("bbk_a"), a, racing)
	if _, ok := kc.get(digest("bbk_a")); ok {
		t.Fatal("a revoked key is cached")
	}
	if _, ok := kc.get(digest("bbk_b")); !ok {
		t.Fatal("forgetting key_a dropped key_b")
	}
	kc.put(digest("bbk_a"), a, kc.generation())
	if _, ok := kc.get(digest("bbk_a")); !ok {
		t.Fatal("a lookup after the revocation is not cached")
	}
}

func TestKeyCacheIsBounded(t *testing.T) {
	kc, c := testKeyCache(3)
	for _, s := range []string{"1", "2", "3", "4"} {
		kc.put(digest(s), campaign.Actor{KeyID: "key_" + s}, kc.generation())
		c.t = c.t.Add(time.Second)
	}
	if _, ok := kc.get(digest("1")); ok || kc.len() != 3 {
		t.Fatalf("full cache: %d held, oldest kept %v", kc.len(), ok)
	}
	for _, s := range []string{"2", "3", "4"} {
		if _, ok := kc.get(digest(s)); !ok {
			t.Fatalf("entry %s dropped", s)
		}
	}
}
