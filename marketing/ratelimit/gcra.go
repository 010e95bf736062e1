package ratelimit

import "time"

// gcra is one step of the generic cell rate algorithm, the same arithmetic
// as redis_rate's allowN script with a cost of 1, in integer nanoseconds
// instead of Lua's float seconds. tat is the key's theoretical arrival time
// (zero for a new key); the returned newTat is what to store.
func gcra(l Limit, tat, now int64) (d Decision, newTat int64) {
	interval := int64(l.interval())
	burstOffset := interval * int64(l.Burst)
	tat = max(tat, now)
	next := tat + interval
	diff := now - (next - burstOffset)
	if diff < 0 {
		return Decision{
			Limit:      l,
			RetryAfter: time.Duration(-diff),
			ResetAfter: time.Duration(tat - now),
		}, tat
	}
	return Decision{
		Allowed:    true,
		Limit:      l,
		Remaining:  int(diff / interval),
		ResetAfter: time.Duration(next - now),
	}, next
}
