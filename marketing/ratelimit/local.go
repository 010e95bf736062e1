package ratelimit

import (
	"context"
	"hash/maphash"
	"maps"
)

// shardCount spreads keys over locks so concurrent merchants rarely contend.
const shardCount = 32

// LocalLimiter applies limits in process, for one node.
type LocalLimiter struct {
	limits map[Class]Limit
	now    func() int64
	seed   maphash.Seed
	shards [shardCount]lruShard
	source string
	// metrics counts what Allow decides; decide alone counts nothing, since
	// a RedisLimiter's fallback decides for the RedisLimiter's Allow.
	metrics *Metrics
}

var _ Limiter = (*LocalLimiter)(nil)

// NewLocal returns an in-process limiter with the semantics of NewRedis.
// Options.Now drives its clock; Options.MaxKeys bounds its memory.
func NewLocal(limits map[Class]Limit, opt Options) *LocalLimiter {
	return newLocal(limits, opt, SourceLocal)
}

func newLocal(limits map[Class]Limit, opt Options, source string) *LocalLimiter {
	opt = opt.withDefaults()
	l := &LocalLimiter{
		limits:  maps.Clone(limits),
		now:     func() int64 { return opt.Now().UnixNano() },
		seed:    maphash.MakeSeed(),
		source:  source,
		metrics: opt.Metrics,
	}
	perShard := max(1, (opt.MaxKeys+shardCount-1)/shardCount)
	for i := range l.shards {
		l.shards[i].init(perShard)
	}
	return l
}

// Allow charges one request of class to merchant if its budget allows it.
func (l *LocalLimiter) Allow(ctx context.Context, merchant string, class Class) (Decision, error) {
	lim, err := checkCall(ctx, merchant, class, l.limits)
	if err != nil {
		return Decision{}, err
	}
	d := l.decide(merchant, class, lim)
	l.metrics.count(class, d)
	return d, nil
}

// decide runs GCRA on the key's state; the caller has validated everything.
func (l *LocalLimiter) decide(merchant string, class Class, lim Limit) Decision {
	key := string(class) + "\x00" + merchant
	s := &l.shards[maphash.String(l.seed, key)%shardCount]
	s.mu.Lock()
	defer s.mu.Unlock()
	now := l.now()
	e := s.get(key)
	d, tat := gcra(lim, e.tat, now)
	e.tat = tat
	d.Source = l.source
	return d
}

// keys counts the keys held, for tests of the memory bound.
func (l *LocalLimiter) keys() int {
	n := 0
	for i := range l.shards {
		s := &l.shards[i]
		s.mu.Lock()
		n += len(s.m)
		s.mu.Unlock()
	}
	return n
}

// checkCall is the validation every limiter runs before deciding: the caller still wants an
// answer, the merchant id is sane and the class has a limit.
func checkCall(ctx context.Context, merchant string, class Class, limits map[Class]Limit) (Limit, error) {
	if err := ctx.Err(); err != nil {
		return Limit{}, err
	}
	if err := checkMerchant(merchant); err != nil {
		return Limit{}, err
	}
	return lookup(limits, class)
}
