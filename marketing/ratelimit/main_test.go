package ratelimit

import (
	"context"
	"log/slog"
	"net"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"
	"go.uber.org/goleak"
)

// TestMain fails the package if a test leaves a goroutine behind.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// fakeClock is a clock tests move by hand.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// redisClient connects to the Redis the machine runs. Unreachable Redis
// fails the test: skipping silently would leave the Redis limiter untested.
func redisClient(t testing.TB) *redis.Client {
	t.Helper()
	addr := os.Getenv("BANGBANG_TEST_REDIS_ADDR")
	if addr == "" {
		addr = "127.0.0.1:6379"
	}
	c := redis.NewClient(&redis.Options{Addr: addr, ContextTimeoutEnabled: true})
	t.Cleanup(func() { _ = c.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		if os.Getenv("BANGBANG_TEST_SKIP_REDIS") == "1" {
			t.Skipf("redis at %s unreachable and BANGBANG_TEST_SKIP_REDIS=1: %v", addr, err)
		}
		t.Fatalf("redis at %s unreachable (BANGBANG_TEST_SKIP_REDIS=1 skips): %v", addr, err)
	}
	return c
}

// testPrefix gives a test its own keys on the shared Redis and deletes them
// afterwards.
func testPrefix(t testing.TB, c *redis.Client) string {
	prefix := "bbtest:rl:" + uuid.NewString() + ":"
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		iter := c.Scan(ctx, 0, "rate:"+prefix+"*", 100).Iterator()
		for iter.Next(ctx) {
			c.Del(ctx, iter.Val())
		}
	})
	return prefix
}

// newMiniredis starts an in-process Redis for the tests that stop it or set
// its clock.
func newMiniredis(t testing.TB) (*miniredis.Miniredis, *redis.Client) {
	m := miniredis.NewMiniRedis()
	if err := m.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Close)
	c := redis.NewClient(&redis.Options{Addr: m.Addr(), ContextTimeoutEnabled: true})
	t.Cleanup(func() { _ = c.Close() })
	return m, c
}

// closedAddr returns a loopback address nothing listens on.
func closedAddr(t testing.TB) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return addr
}

// commandCounter counts the commands a client sends, to show which calls
// reached Redis at all.
type commandCounter struct {
	mu sync.Mutex
	n  int
}

func (h *commandCounter) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h *commandCounter) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		h.mu.Lock()
		h.n++
		h.mu.Unlock()
		return next(ctx, cmd)
	}
}

func (h *commandCounter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

func (h *commandCounter) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.n
}

// logRecorder keeps the messages logged at each level.
type logRecorder struct {
	mu   sync.Mutex
	msgs map[slog.Level][]string
}

func newLogRecorder() *logRecorder { return &logRecorder{msgs: map[slog.Level][]string{}} }

func (r *logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (r *logRecorder) WithAttrs([]slog.Attr) slog.Handler       { return r }
func (r *logRecorder) WithGroup(string) slog.Handler            { return r }

func (r *logRecorder) Handle(_ context.Context, rec slog.Record) error {
	r.mu.Lock()
	r.msgs[rec.Level] = append(r.msgs[rec.Level], rec.Message)
	r.mu.Unlock()
	return nil
}

func (r *logRecorder) at(l slog.Level) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.msgs[l]...)
}

func allow(t testing.TB, l Limiter, merchant string, class Class) Decision {
	t.Helper()
	d, err := l.Allow(ctxT(t), merchant, class)
	if err != nil {
		t.Fatalf("allow %s %s: %v", merchant, class, err)
	}
	return d
}

// pattern renders decisions as "AAD…" for readable failures.
func pattern(ds []Decision) string {
	b := make([]byte, len(ds))
	for i, d := range ds {
		b[i] = 'D'
		if d.Allowed {
			b[i] = 'A'
		}
	}
	return string(b)
}
