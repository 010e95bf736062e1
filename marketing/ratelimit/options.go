package ratelimit

import (
	"log/slog"
	"time"
)

// Options tunes a limiter; the zero value is the production default.
type Options struct {
	// Now is the clock of the local limiter and of the Redis circuit; nil
	// means time.Now. Redis limits use Redis's own clock.
	Now func() time.Time
	// Logger receives the Redis state changes; nil discards them.
	Logger *slog.Logger
	// MaxKeys bounds the keys a local limiter keeps (merchant × class);
	// 0 means 100,000.
	MaxKeys int
	// KeyPrefix starts every Redis key; "" means "bb:rl:".
	KeyPrefix string
	// RedisTimeout bounds one Redis call; 0 means 50ms.
	RedisTimeout time.Duration
	// Cooldown is how long Redis is skipped after a failed call; 0 means 1s.
	Cooldown time.Duration
	// FallbackDivisor divides each limit while Redis is unreachable (see the
	// package documentation); 0 means 1.
	FallbackDivisor int
	// Metrics counts the decisions; nil counts none. Limiters may share one.
	Metrics *Metrics
}

const (
	defaultMaxKeys      = 100_000
	defaultKeyPrefix    = "bb:rl:"
	defaultRedisTimeout = 50 * time.Millisecond
	defaultCooldown     = time.Second
)

func (o Options) withDefaults() Options {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.MaxKeys <= 0 {
		o.MaxKeys = defaultMaxKeys
	}
	if o.KeyPrefix == "" {
		o.KeyPrefix = defaultKeyPrefix
	}
	if o.RedisTimeout <= 0 {
		o.RedisTimeout = defaultRedisTimeout
	}
	if o.Cooldown <= 0 {
		o.Cooldown = defaultCooldown
	}
	if o.FallbackDivisor <= 0 {
		o.FallbackDivisor = 1
	}
	return o
}
