// Package ratelimit owns the per-merchant, per-action-class request limits of
// the merchant edge: how many reads, refreshes, promotions and purchases a
// merchant may make, and the HTTP headers that tell the app about them.
//
// The algorithm is GCRA (a leaky bucket kept as one "theoretical arrival
// time" per key), as in github.com/go-redis/redis_rate. NewRedis runs
// redis_rate's script on Redis so every edge instance shares one budget per
// merchant and class (keys "rate:bb:rl:{m1001}:promote", redis_rate adding
// "rate:"); NewLocal runs the same formula in process for a single
// node with nothing installed (and for tests, with an injected clock). Given
// the same sequence of calls at the same instants both answer the same.
//
// A Limit{Rate, Burst, Period} lets Burst requests through at once, then one
// request every Period/Rate. DefaultLimits documents the default policy.
//
// # When Redis is unreachable
//
// A rate limiter must neither become a hole nor an outage. When the Redis call
// fails or takes longer than Options.RedisTimeout (50ms by default), that call
// is decided by an in-process limiter (Decision.Source == SourceFallback), and
// for Options.Cooldown (1s by default) later calls go straight to the local
// limiter without touching Redis, so a dead Redis costs no latency per request.
// After the cooldown one call probes Redis (the others keep using the local
// limiter until the probe returns); its success switches back to Redis. Each
// transition is logged once, at warn when Redis is lost and at info when it
// is back. The Redis client must be built with ContextTimeoutEnabled, or
// go-redis ignores the timeout on the socket and a Redis that accepts
// connections but never answers costs its read timeout (seconds); NewRedis
// logs a warning for such a client.
//
// The fallback limit is the configured limit divided by
// Options.FallbackDivisor (1 by default, never below 1 request and a burst of
// 1). With N edge instances each keeping its own fallback budget a merchant is
// at most N times too lenient while Redis is down, and only if its requests
// are spread over all instances; an app keeps its connection to one instance,
// so most merchants see exactly their limit. Dividing by N would instead make
// such merchants N times too strict, which turns a Redis outage into
// refused paid actions; deployments that do balance each request
// independently can set FallbackDivisor to their instance count. The
// third parties charge in credits and paid actions carry idempotency keys, so
// a short lenient window cannot double charge or overdraw.
//
// # Headers
//
// Headers renders a Decision in the form of draft-ietf-httpapi-ratelimit-headers-07:
// RateLimit-Limit (the burst, the most requests the app may send at once),
// RateLimit-Remaining, RateLimit-Reset (seconds until the full burst is
// available again), RateLimit-Policy ("5;w=30": Burst requests per the time
// it takes to earn them back, which is the configured Rate per Period), and
// Retry-After in whole seconds, rounded up, on a denial.
//
// # Metrics
//
// With Options.Metrics (NewMetrics on the process's Prometheus registry) every
// decision Allow returns is counted once, by class, result and source, so a
// Redis outage shows as decisions moving to "local-fallback". Errors are no
// decision and are not counted.
//
// # Concurrency
//
// Every Limiter is safe for concurrent use and starts no goroutine. The local
// limiter keeps at most Options.MaxKeys keys (100,000 by default) in sharded
// LRU lists; evicting a key only forgets a merchant that has been idle longer
// than every other key of its shard. NewRedis does not close the Redis client
// it is given: its caller owns it.
//
// This package must not import the edge, the SOAP clients or any core-im
// package, and knows nothing of HTTP servers: Headers returns plain strings.
package ratelimit
