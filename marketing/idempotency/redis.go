package idempotency

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// redisStore keeps keys in Redis, shared by every edge process.
type redisStore struct {
	c       redis.UniversalClient
	opt     Options
	scripts scripts
}

// NewRedis returns a Store on c. c should be built with
// ContextTimeoutEnabled so the caller's deadline bounds a hung Redis.
func NewRedis(c redis.UniversalClient, opt Options) Store {
	return &redisStore{c: c, opt: opt.withDefaults(), scripts: newScripts()}
}

func (s *redisStore) redisKey(scope, key string) string {
	return s.opt.Prefix + "{" + scope + "}:" + key
}

func (s *redisStore) Begin(ctx context.Context, scope, key, fingerprint string, lease time.Duration) (*Record, bool, error) {
	if err := checkBegin(scope, key, fingerprint, lease); err != nil {
		return nil, false, err
	}
	v, err := s.scripts.begin.Run(ctx, s.c, []string{s.redisKey(scope, key)}, fingerprint, ms(lease)).Slice()
	if err != nil {
		return nil, false, fmt.Errorf("idempotency begin: %w", err)
	}
	if len(v) == 1 {
		return nil, true, nil
	}
	st, err := decodeState(v)
	if err != nil {
		return nil, false, fmt.Errorf("idempotency begin %s: %w", key, err)
	}
	switch {
	case st.rec.Fingerprint != fingerprint:
		return nil, false, ErrMismatch
	case !st.done:
		return nil, false, ErrInFlight
	}
	return &st.rec, false, nil
}

func (s *redisStore) Complete(ctx context.Context, scope, key string, rec Record, ttl time.Duration) error {
	if err := checkComplete(scope, key, &rec, ttl, s.opt.MaxBodyBytes); err != nil {
		return err
	}
	if rec.CreatedAt.IsZero() {
		rec.CreatedAt = s.opt.Now()
	}
	stored, err := s.scripts.complete.Run(ctx, s.c, []string{s.redisKey(scope, key)},
		rec.Fingerprint, rec.Status, rec.ContentType, rec.Body, rec.CreatedAt.UnixMilli(), ms(ttl)).Int()
	if err != nil {
		return fmt.Errorf("idempotency complete: %w", err)
	}
	if stored != 1 {
		return ErrNotClaimed
	}
	return nil
}

func (s *redisStore) Abort(ctx context.Context, scope, key string) error {
	if err := checkScopeKey(scope, key); err != nil {
		return err
	}
	if err := s.scripts.abort.Run(ctx, s.c, []string{s.redisKey(scope, key)}).Err(); err != nil {
		return fmt.Errorf("idempotency abort: %w", err)
	}
	return nil
}

// ms renders a duration for PEXPIRE, at least 1ms: Redis rejects 0.
func ms(d time.Duration) int64 { return max(1, d.Milliseconds()) }

// errCorrupt: a key under our prefix holds something we did not write.
var errCorrupt = errors.New("corrupt idempotency record")

type state struct {
	done bool
	rec  Record
}

// decodeState reads the begin script's {0, state, fp, status, ct, body, at}.
func decodeState(v []any) (state, error) {
	if len(v) != 7 {
		return state{}, fmt.Errorf("%d fields: %w", len(v), errCorrupt)
	}
	f := make([]string, 6)
	for i := range f {
		s, ok := v[i+1].(string)
		if !ok {
			return state{}, fmt.Errorf("field %d is %T: %w", i+1, v[i+1], errCorrupt)
		}
		f[i] = s
	}
	st := state{rec: Record{Fingerprint: f[1]}}
	switch f[0] {
	case "pending":
		return st, nil
	case "done":
	default:
		return state{}, fmt.Errorf("state %q: %w", f[0], errCorrupt)
	}
	status, err := strconv.Atoi(f[2])
	if err != nil {
		return state{}, fmt.Errorf("status %q: %w", f[2], errCorrupt)
	}
	at, err := strconv.ParseInt(f[5], 10, 64)
	if err != nil {
		return state{}, fmt.Errorf("created at %q: %w", f[5], errCorrupt)
	}
	st.done = true
	st.rec.Status = status
	st.rec.ContentType = f[3]
	st.rec.Body = []byte(f[4])
	st.rec.CreatedAt = time.UnixMilli(at)
	return st, nil
}
