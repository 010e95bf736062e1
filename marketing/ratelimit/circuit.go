package ratelimit

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// circuit remembers that Redis failed so calls skip it for a cooldown, and
// lets a single call probe it afterwards.
type circuit struct {
	cooldown time.Duration
	now      func() time.Time
	log      *slog.Logger

	open atomic.Bool // fast path: false while Redis is healthy

	mu      sync.Mutex
	until   time.Time // Redis is skipped before this instant
	probing bool      // a call is trying Redis after the cooldown
}

// attempt reports whether this call should use Redis; probe is true when it
// is the single call allowed through after a cooldown, which must then
// report success, failure or abandon.
func (c *circuit) attempt() (use, probe bool) {
	if !c.open.Load() {
		return true, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.open.Load() {
		return true, false
	}
	if c.probing || c.now().Before(c.until) {
		return false, false
	}
	c.probing = true
	return true, true
}

func (c *circuit) success(ctx context.Context, probe bool) {
	if !probe && !c.open.Load() {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.probing = false
	if c.open.Swap(false) {
		c.log.InfoContext(ctx, "rate limits back on redis")
	}
}

func (c *circuit) failure(ctx context.Context, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.probing = false
	c.until = c.now().Add(c.cooldown)
	if !c.open.Swap(true) {
		c.log.WarnContext(ctx, "redis unreachable, rate limits decided locally",
			"err", err, "cooldown", c.cooldown)
	}
}

// abandon ends a probe that said nothing about Redis (its caller gave up).
func (c *circuit) abandon(probe bool) {
	if !probe {
		return
	}
	c.mu.Lock()
	c.probing = false
	c.mu.Unlock()
}
