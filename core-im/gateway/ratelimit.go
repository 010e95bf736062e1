package gateway

import (
	"math"
	"time"
)

// bucket is a token bucket for one connection's inbound frames. It is owned by the
// connection's reader (frames are handled one at a time), so it needs no lock, and it is
// 24 bytes because every idle connection carries one.
type bucket struct {
	tokens float64
	last   int64 // nanoseconds on the gateway's monotonic clock
	drops  int32 // frames refused since the bucket was last full
}

// allow takes one token at now. When none is left it says how long until one is.
func (b *bucket) allow(now int64, rate float64, burst int) (ok bool, retryAfter time.Duration) {
	capacity := float64(burst)
	if b.last == 0 {
		b.tokens = capacity
	} else if elapsed := now - b.last; elapsed > 0 {
		b.tokens = math.Min(capacity, b.tokens+float64(elapsed)*rate/1e9)
	}
	b.last = now
	if b.tokens >= capacity {
		// The client calmed down long enough to refill: forget past refusals.
		b.drops = 0
	}
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	b.drops++
	wait := time.Duration((1 - b.tokens) / rate * 1e9)
	return false, max(wait, time.Millisecond)
}
