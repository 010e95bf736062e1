package ratelimit

import (
	"context"
	"fmt"
	"maps"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"
)

// RedisLimiter applies limits shared by every edge instance through Redis.
// Its keys are redis_rate's "rate:" followed by KeyPrefix, the merchant in
// braces (a Redis Cluster hash tag, so one merchant's keys share a slot) and
// the class: "rate:bb:rl:{m1001}:promote".
type RedisLimiter struct {
	rl       *redis_rate.Limiter
	limits   map[Class]Limit
	prefix   string
	timeout  time.Duration
	circuit  circuit
	fallback *LocalLimiter
	divisor  int
	metrics  *Metrics
}

var _ Limiter = (*RedisLimiter)(nil)

// NewRedis returns a limiter on c, falling back to an in-process limiter
// while c is unreachable (see the package documentation). c should be built
// with ContextTimeoutEnabled so Options.RedisTimeout also bounds a Redis
// that hangs; NewRedis logs a warning when it is not.
func NewRedis(c redis.UniversalClient, limits map[Class]Limit, opt Options) *RedisLimiter {
	opt = opt.withDefaults()
	if enabled, known := honoursDeadlines(c); known && !enabled {
		opt.Logger.Warn("redis client ignores context deadlines (ContextTimeoutEnabled is off): a hung redis delays rate limit checks by its read timeout",
			"redis_timeout", opt.RedisTimeout)
	}
	return &RedisLimiter{
		rl:      redis_rate.NewLimiter(c),
		limits:  maps.Clone(limits),
		prefix:  opt.KeyPrefix,
		timeout: opt.RedisTimeout,
		circuit: circuit{cooldown: opt.Cooldown, now: opt.Now, log: opt.Logger},
		// Allow hands the fallback each call's limit, already validated and
		// divided, so it needs no table of its own.
		fallback: newLocal(nil, opt, SourceFallback),
		divisor:  opt.FallbackDivisor,
		metrics:  opt.Metrics,
	}
}

// Allow charges one request of class to merchant if its budget allows it.
func (l *RedisLimiter) Allow(ctx context.Context, merchant string, class Class) (Decision, error) {
	lim, err := checkCall(ctx, merchant, class, l.limits)
	if err != nil {
		return Decision{}, err
	}
	d, err := l.decide(ctx, merchant, class, lim)
	if err != nil {
		return Decision{}, err
	}
	l.metrics.count(class, d)
	return d, nil
}

// decide asks Redis, or the fallback while Redis is unreachable.
func (l *RedisLimiter) decide(ctx context.Context, merchant string, class Class, lim Limit) (Decision, error) {
	use, probe := l.circuit.attempt()
	if !use {
		return l.fallback.decide(merchant, class, lim.divide(l.divisor)), nil
	}
	rctx, cancel := context.WithTimeout(ctx, l.timeout)
	res, err := l.rl.Allow(rctx, l.prefix+"{"+merchant+"}:"+string(class), redis_rate.Limit(lim))
	cancel()
	if err != nil {
		if ctx.Err() != nil {
			// The caller gave up; that says nothing about Redis.
			l.circuit.abandon(probe)
			return Decision{}, fmt.Errorf("rate limit %s: %w", class, ctx.Err())
		}
		l.circuit.failure(ctx, err)
		return l.fallback.decide(merchant, class, lim.divide(l.divisor)), nil
	}
	l.circuit.success(ctx, probe)
	return fromResult(res), nil
}

func fromResult(r *redis_rate.Result) Decision {
	return Decision{
		Allowed:    r.Allowed > 0,
		Limit:      Limit(r.Limit),
		Remaining:  r.Remaining,
		RetryAfter: max(0, r.RetryAfter), // redis_rate says -1 when allowed
		ResetAfter: max(0, r.ResetAfter),
		Source:     SourceRedis,
	}
}
