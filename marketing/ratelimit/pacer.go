package ratelimit

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"
)

// Pacer holds a stream of work to a rate: Wait returns once n more units may go. A
// campaign calls it before each batch with its cap in messages per second; the key names
// the stream (one budget per campaign, shared by every worker that could send it).
type Pacer interface {
	Wait(ctx context.Context, key string, perSecond, n int) error
}

// paceLimit is the GCRA limit that lets perSecond through each second with room for one
// batch of n at once: a burst of n is what makes AllowN(n) possible at all, and no more
// than that keeps the rate even.
func paceLimit(perSecond, n int) (Limit, error) {
	l := Limit{Rate: perSecond, Burst: max(n, 1), Period: time.Second}
	if n < 1 || n > perSecond {
		return l, fmt.Errorf("pace %d at once at %d/s: %w", n, perSecond, ErrInvalidLimit)
	}
	return l, l.Validate()
}

// LocalPacer paces in process: the embedded default, and exact within one process.
type LocalPacer struct {
	mu   sync.Mutex
	tats map[string]int64
	now  func() time.Time
}

// NewLocalPacer returns an in-process pacer; now is its clock (nil: time.Now).
func NewLocalPacer(now func() time.Time) *LocalPacer {
	if now == nil {
		now = time.Now
	}
	return &LocalPacer{tats: map[string]int64{}, now: now}
}

// Wait blocks until n units of key may go at perSecond.
func (p *LocalPacer) Wait(ctx context.Context, key string, perSecond, n int) error {
	l, err := paceLimit(perSecond, n)
	if err != nil {
		return err
	}
	for {
		p.mu.Lock()
		d, tat := gcraN(l, p.tats[key], p.now().UnixNano(), n)
		if d == 0 {
			p.tats[key] = tat
		}
		p.mu.Unlock()
		if d == 0 {
			return nil
		}
		if err := sleep(ctx, d); err != nil {
			return err
		}
	}
}

// Forget drops key's state (a campaign that ended).
func (p *LocalPacer) Forget(key string) {
	p.mu.Lock()
	delete(p.tats, key)
	p.mu.Unlock()
}

// gcraN is gcra for a cost of n: it returns 0 and the new theoretical arrival time when n
// may go now, else how long to wait.
func gcraN(l Limit, tat, now int64, n int) (wait time.Duration, newTat int64) {
	interval := int64(l.interval())
	burstOffset := interval * int64(l.Burst)
	tat = max(tat, now)
	next := tat + interval*int64(n)
	if diff := now - (next - burstOffset); diff < 0 {
		return time.Duration(-diff), tat
	}
	return 0, next
}

// RedisPacer paces through Redis with redis_rate, so the budget holds across processes
// (a campaign handed to another worker keeps its pace). Its keys are redis_rate's "rate:"
// followed by the prefix and the stream's key.
type RedisPacer struct {
	rl     *redis_rate.Limiter
	prefix string
}

// NewRedisPacer paces on c, its keys starting with prefix ("" means "bb:pace:").
func NewRedisPacer(c redis.UniversalClient, prefix string) *RedisPacer {
	if prefix == "" {
		prefix = "bb:pace:"
	}
	return &RedisPacer{rl: redis_rate.NewLimiter(c), prefix: prefix}
}

// Wait blocks until n units of key may go at perSecond. A Redis error is returned: the
// caller decides whether to retry (a campaign worker backs off and counts it as a
// delivery error).
func (p *RedisPacer) Wait(ctx context.Context, key string, perSecond, n int) error {
	l, err := paceLimit(perSecond, n)
	if err != nil {
		return err
	}
	for {
		res, err := p.rl.AllowN(ctx, p.prefix+key, redis_rate.Limit(l), n)
		if err != nil {
			return fmt.Errorf("pace %s: %w", key, err)
		}
		if res.Allowed >= n {
			return nil
		}
		if err := sleep(ctx, max(res.RetryAfter, time.Millisecond)); err != nil {
			return err
		}
	}
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
