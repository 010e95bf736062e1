package ratelimit

import (
	"strconv"
	"time"
)

// Headers renders d as HTTP response headers in the form of
// draft-ietf-httpapi-ratelimit-headers-07 (see the package documentation),
// with Retry-After on a denial. A Decision without a limit gives none.
func Headers(d Decision) map[string]string {
	if d.Limit.Validate() != nil {
		return map[string]string{}
	}
	window := time.Duration(d.Limit.Burst) * d.Limit.interval()
	h := map[string]string{
		"RateLimit-Limit":     strconv.Itoa(d.Limit.Burst),
		"RateLimit-Remaining": strconv.Itoa(max(0, d.Remaining)),
		"RateLimit-Reset":     strconv.FormatInt(ceilSeconds(d.ResetAfter), 10),
		"RateLimit-Policy":    strconv.Itoa(d.Limit.Burst) + ";w=" + strconv.FormatInt(max(1, ceilSeconds(window)), 10),
	}
	if !d.Allowed {
		// Retry-After: 0 would invite an immediate retry that is denied again.
		h["Retry-After"] = strconv.FormatInt(max(1, ceilSeconds(d.RetryAfter)), 10)
	}
	return h
}

func ceilSeconds(d time.Duration) int64 {
	if d <= 0 {
		return 0
	}
	return int64((d + time.Second - 1) / time.Second)
}
