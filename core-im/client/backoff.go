package client

import (
	"math/rand/v2"
	"time"
)

// backoff is the delay before connection attempt number attempt (0-based): uniform in
// [0, min(hi, lo·2^attempt)] ("full jitter"), so a gateway restart does not bring every
// client back in the same instant.
func backoff(lo, hi time.Duration, attempt int) time.Duration {
	ceil := hi
	if attempt < 32 {
		if d := lo << attempt; d > 0 && d < hi {
			ceil = d
		}
	}
	if ceil <= 0 {
		return 0
	}
	return rand.N(ceil + 1)
}
