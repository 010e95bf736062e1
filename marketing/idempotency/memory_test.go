package idempotency

import (
	"errors"
	"fmt"
	"testing"
	"time"
)

// TestMemoryBoundEvictsOldestRecord: when full, the record nearest its
// expiry makes room; the others still replay.
func TestMemoryBoundEvictsOldestRecord(t *testing.T) {
	clock := newFakeClock()
	s := NewMemory(Options{Now: clock.Now, MaxKeys: 3})
	for i, ttl := range []time.Duration{3 * time.Hour, time.Hour, 2 * time.Hour} {
		key := fmt.Sprintf("k%d", i)
		mustClaim(t, s, "m1001", key, fpA, long)
		mustComplete(t, s, "m1001", key, okRecord(fpA), ttl)
	}
	mustClaim(t, s, "m1001", "k3", fpA, long)
	// k1 had the shortest ttl: it went, so its key is claimable again.
	mustReplay(t, s, "m1001", "k0", fpA)
	mustReplay(t, s, "m1001", "k2", fpA)
	if n := s.(*memoryStore).size(); n != 3 {
		t.Fatalf("%d keys, bound 3", n)
	}
	// Full again: k2 is now the record nearest its expiry and makes room
	// for k1; k3's claim is never the one to go.
	mustClaim(t, s, "m1001", "k1", fpA, long)
	mustReplay(t, s, "m1001", "k0", fpA)
	_, _, err := begin(t, s, "m1001", "k3", fpA, long)
	wantErr(t, err, ErrInFlight)
}

// TestMemoryFullOfClaims: unfinished claims are never evicted; a new key
// gets ErrFull until a lease runs out.
func TestMemoryFullOfClaims(t *testing.T) {
	clock := newFakeClock()
	s := NewMemory(Options{Now: clock.Now, MaxKeys: 2})
	mustClaim(t, s, "m1001", "a", fpA, time.Minute)
	mustClaim(t, s, "m1001", "b", fpA, 2*time.Minute)
	_, _, err := begin(t, s, "m1001", "c", fpA, long)
	wantErr(t, err, ErrFull)
	// Replays of held keys are still answered.
	_, _, err = begin(t, s, "m1001", "a", fpA, long)
	wantErr(t, err, ErrInFlight)
	clock.Advance(time.Minute)
	mustClaim(t, s, "m1001", "c", fpA, long)
}

// TestMemoryFlood: many keys never grow the store past its bound.
func TestMemoryFlood(t *testing.T) {
	clock := newFakeClock()
	s := NewMemory(Options{Now: clock.Now, MaxKeys: 100})
	for i := range 5000 {
		key := fmt.Sprintf("k%d", i)
		mustClaim(t, s, "m1001", key, fpA, time.Minute)
		if i%2 == 0 {
			mustComplete(t, s, "m1001", key, okRecord(fpA), time.Hour)
		} else if err := s.Abort(ctxT(t), "m1001", key); err != nil {
			t.Fatal(err)
		}
		clock.Advance(time.Millisecond)
	}
	if n := s.(*memoryStore).size(); n > 100 {
		t.Fatalf("%d keys, bound 100", n)
	}
	// The newest records are the ones kept.
	mustReplay(t, s, "m1001", "k4998", fpA)
}

// TestMemoryCompleteWhenFull: completing an expired claim in a full store
// makes room like Begin does.
func TestMemoryCompleteWhenFull(t *testing.T) {
	clock := newFakeClock()
	s := NewMemory(Options{Now: clock.Now, MaxKeys: 1})
	mustClaim(t, s, "m1001", "a", fpA, time.Second)
	clock.Advance(time.Second)
	mustClaim(t, s, "m1001", "b", fpA, time.Minute) // a's claim expired and went
	if err := s.Complete(ctxT(t), "m1001", "a", okRecord(fpA), time.Hour); !errors.Is(err, ErrFull) {
		t.Fatalf("complete into a store full of claims: %v", err)
	}
}
