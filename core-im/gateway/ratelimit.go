package gateway

import (
	"math"
	"time"
)

// tokenEpsilon absorbs float rounding: a frame resent exactly when it was told to finds
// its token even if the refill computes 0.9999999.
const tokenEpsilon = 1e-9

// bucket is a token bucket for one connection's inbound frames. It is owned by the
// connection's reader (frames are handled one at a time), so it needs no lock, and it is
// 24 bytes because every idle connection carries one.
//
// A refused frame is given a turn: its retry_after is when a token is free for it after
// the turns given to the frames refused before it (first come, first served). A client that
// resends each refused frame once its retry_after has passed finds its token then and never
// owes more turns than it has frames in flight. A flood piles up turns faster than time
// passes: how far ahead the turns reach measures it, however fast the server reads.
type bucket struct {
	tokens float64
	last   int64 // nanoseconds on the gateway's monotonic clock
	turns  int64 // the turn given to the last refused frame (same clock); <= now when none is owed
}

// allow takes one token at now. When none is left it gives the frame its turn: how long
// until then (never less than a millisecond), and how many turns are now owed (this one
// included).
func (b *bucket) allow(now int64, rate float64, burst int) (ok bool, retryAfter time.Duration, owed int) {
	capacity := float64(burst)
	if b.last == 0 {
		b.tokens = capacity
	} else if elapsed := now - b.last; elapsed > 0 {
		b.tokens = math.Min(capacity, b.tokens+float64(elapsed)*rate/1e9)
	}
	b.last = now
	if b.tokens >= 1-tokenEpsilon {
		b.tokens = math.Max(b.tokens-1, 0)
		return true, 0, 0
	}
	interval := 1e9 / rate
	turn := now + int64(math.Ceil((1-b.tokens)*interval))
	if b.turns > now {
		turn = max(turn, b.turns+int64(math.Ceil(interval)))
	}
	b.turns = turn
	// Whole milliseconds, rounded up: waiting exactly retry_after_ms is never too early.
	wait := time.Duration(turn - now)
	ms := (wait + time.Millisecond - 1) / time.Millisecond * time.Millisecond
	// Less a nanosecond per turn of rounding.
	owed = int(math.Ceil(float64(turn-now)/interval - 1e-6))
	return false, max(ms, time.Millisecond), owed
}
