package router

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// RedisOptions configures NewRedis.
type RedisOptions struct {
	// Prefix of every key: "" means "bb:rt:". It must not contain '{' or
	// '}', which would change the Redis Cluster hash tag of the keys.
	Prefix string
	// Logger receives housekeeping failures that do not fail the call
	// (pruning stale entries); nil discards them.
	Logger *slog.Logger
}

// indexSlack keeps a node's index set a while after its last route's expiry:
// on Redis Cluster the set and the user hashes live on servers whose clocks
// may differ, and a set that outlives its routes costs nothing (Count checks
// every member).
const indexSlack = time.Minute

// redisTable keeps, per user, a hash "<prefix>u:{<user>}" of device ->
// encoded route (see redis_codec.go), and per node a set "<prefix>n:{<node>}"
// of candidate members that Count verifies against the hashes. The hash is
// the truth; the set only bounds the work of Count and may briefly hold
// stale members or, after a rare race, miss one until its next Renew.
type redisTable struct {
	c       redis.UniversalClient
	prefix  string
	log     *slog.Logger
	scripts scripts
	closed  atomic.Bool
}

// NewRedis returns a Table stored in Redis (standalone, Sentinel or
// Cluster). It needs Redis 7.0 or later. Close does not close c.
func NewRedis(c redis.UniversalClient, opt RedisOptions) Table {
	t := &redisTable{c: c, prefix: opt.Prefix, log: opt.Logger, scripts: newScripts()}
	if t.prefix == "" {
		t.prefix = "bb:rt:"
	}
	if t.log == nil {
		t.log = slog.New(slog.DiscardHandler)
	}
	return t
}

func (t *redisTable) userKey(user string) string { return t.prefix + "u:{" + user + "}" }
func (t *redisTable) nodeKey(node string) string { return t.prefix + "n:{" + node + "}" }

// Close marks the table closed; the client belongs to the caller.
func (t *redisTable) Close() error {
	t.closed.Store(true)
	return nil
}

func (t *redisTable) check() error {
	if t.closed.Load() {
		return ErrClosed
	}
	return nil
}

// exec runs the commands fill queues in one round trip. EVALSHA fails with
// NOSCRIPT after a Redis restart or SCRIPT FLUSH: then the scripts are
// loaded and the whole batch runs once more, which is safe because every
// batch this package sends is idempotent.
func (t *redisTable) exec(ctx context.Context, fill func(p redis.Pipeliner)) error {
	for attempt := 0; ; attempt++ {
		p := t.c.Pipeline()
		fill(p)
		cmds, _ := p.Exec(ctx)
		err := firstErr(cmds)
		if attempt > 0 || !isNoScript(err) {
			return err
		}
		if err := t.loadScripts(ctx); err != nil {
			return err
		}
	}
}

// firstErr is the first failure of cmds; the per-command error is what
// counts, since Exec reports redis.Nil replies as failures too.
func firstErr(cmds []redis.Cmder) error {
	var nosc error
	for _, c := range cmds {
		err := c.Err()
		if err == nil || errors.Is(err, redis.Nil) {
			continue
		}
		if !isNoScript(err) {
			return err
		}
		if nosc == nil {
			nosc = err
		}
	}
	return nosc
}

func isNoScript(err error) bool {
	return err != nil && (errors.Is(err, redis.ErrNoScript) || redis.HasErrorPrefix(err, "NOSCRIPT"))
}

func (t *redisTable) loadScripts(ctx context.Context) error {
	for _, s := range t.scripts.all() {
		if err := s.Load(ctx, t.c).Err(); err != nil {
			return fmt.Errorf("load route script: %w", err)
		}
	}
	return nil
}

// ttlMs is ttl in whole milliseconds, rounded up so a sub-millisecond ttl
// still lives.
func ttlMs(ttl time.Duration) int64 {
	return int64((ttl + time.Millisecond - 1) / time.Millisecond)
}

// touchIndex keeps a node's index set alive while its routes are: NX gives
// a new set an expiry, GT only ever pushes it later.
func (t *redisTable) touchIndex(ctx context.Context, p redis.Pipeliner, key string, ttl time.Duration) {
	p.ExpireNX(ctx, key, ttl+indexSlack)
	p.ExpireGT(ctx, key, ttl+indexSlack)
}
