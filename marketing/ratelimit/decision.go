package ratelimit

import (
	"context"
	"time"
)

// Where a Decision was made: its Source, and the source label of Metrics.
const (
	SourceRedis    = "redis"          // the shared budget on Redis
	SourceLocal    = "local"          // a LocalLimiter, the embedded default
	SourceFallback = "local-fallback" // a RedisLimiter's local limiter while Redis is unreachable
)

// Decision is the answer for one request.
type Decision struct {
	Allowed bool
	// Limit is the limit applied: the configured one, or its per-instance
	// share on SourceFallback.
	Limit Limit
	// Remaining is how many more requests would be allowed right now.
	Remaining int
	// RetryAfter is how long until a request would be allowed; 0 when
	// Allowed.
	RetryAfter time.Duration
	// ResetAfter is how long until the full burst is available again.
	ResetAfter time.Duration
	Source     string
}

// Limiter decides whether a merchant may make one more request of a class.
// An error means no decision (invalid arguments, unknown class, a canceled
// context); an unreachable Redis is not an error.
type Limiter interface {
	Allow(ctx context.Context, merchant string, class Class) (Decision, error)
}
