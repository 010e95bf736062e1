package ratelimit

import (
	"errors"
	"log/slog"
	"net"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// TestRedisSharedAcrossInstances: two limiters on one Redis, as two edge
// processes, spend one budget.
func TestRedisSharedAcrossInstances(t *testing.T) {
	c := redisClient(t)
	prefix := testPrefix(t, c)
	limits := map[Class]Limit{ClassPromote: {Rate: 20, Burst: 5, Period: time.Hour}}
	a := NewRedis(c, limits, Options{KeyPrefix: prefix, RedisTimeout: time.Second})
	b := NewRedis(c, limits, Options{KeyPrefix: prefix, RedisTimeout: time.Second})

	var ds []Decision
	for i := range 8 {
		l := a
		if i%2 == 1 {
			l = b
		}
		ds = append(ds, allow(t, l, "m1001", ClassPromote))
	}
	if p := pattern(ds); p != "AAAAADDD" {
		t.Fatalf("two instances: %s, want AAAAADDD (one shared burst of 5)", p)
	}
	// Another merchant has its own budget.
	if d := allow(t, b, "m1002", ClassPromote); !d.Allowed || d.Remaining != 4 {
		t.Fatalf("other merchant: %+v", d)
	}
}

// TestRedisConcurrentInstances: many goroutines over two instances allow
// exactly the burst, no more.
func TestRedisConcurrentInstances(t *testing.T) {
	c := redisClient(t)
	prefix := testPrefix(t, c)
	limits := map[Class]Limit{ClassPurchase: {Rate: 10, Burst: 10, Period: time.Hour}}
	ls := []*RedisLimiter{
		NewRedis(c, limits, Options{KeyPrefix: prefix, RedisTimeout: 5 * time.Second}),
		NewRedis(c, limits, Options{KeyPrefix: prefix, RedisTimeout: 5 * time.Second}),
	}
	ctx := ctxT(t)
	var mu sync.Mutex
	allowed := 0
	var wg sync.WaitGroup
	for g := range 20 {
		wg.Go(func() {
			for range 3 {
				d, err := ls[g%2].Allow(ctx, "m1001", ClassPurchase)
				if err != nil || d.Source != SourceRedis {
					t.Errorf("allow: %+v, %v", d, err)
					return
				}
				if d.Allowed {
					mu.Lock()
					allowed++
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	if allowed != 10 {
		t.Fatalf("%d of 60 allowed, want the burst of 10", allowed)
	}
}

// TestRedisDownFallsBack: with nothing listening, the first call pays one
// bounded Redis attempt, later calls skip Redis during the cooldown, and
// every decision still limits.
func TestRedisDownFallsBack(t *testing.T) {
	c := redis.NewClient(&redis.Options{Addr: closedAddr(t), ContextTimeoutEnabled: true})
	t.Cleanup(func() { _ = c.Close() })
	hook := &commandCounter{}
	c.AddHook(hook)
	clock := newFakeClock()
	logs := newLogRecorder()
	l := NewRedis(c, map[Class]Limit{ClassRefresh: {Rate: 10, Burst: 3, Period: time.Minute}},
		Options{Now: clock.Now, Logger: slog.New(logs)})

	start := time.Now()
	var ds []Decision
	for range 5 {
		ds = append(ds, allow(t, l, "m1001", ClassRefresh))
	}
	// The 50ms Redis timeout bounds the one attempt; a second is room for a
	// loaded machine, far below a dial timeout.
	if el := time.Since(start); el > time.Second {
		t.Fatalf("5 decisions took %v with redis down", el)
	}
	if p := pattern(ds); p != "AAADD" {
		t.Fatalf("fallback pattern %s, want AAADD: the fallback must still limit", p)
	}
	for i, d := range ds {
		if d.Source != SourceFallback {
			t.Fatalf("decision %d from %q", i, d.Source)
		}
	}
	if n := hook.count(); n != 1 {
		t.Fatalf("%d redis commands during the cooldown, want the first only", n)
	}
	if w := logs.at(slog.LevelWarn); len(w) != 1 {
		t.Fatalf("warn logs %q, want one", w)
	}

	// After the cooldown one call probes Redis again; the state change is not
	// logged twice.
	clock.Advance(time.Second)
	if d := allow(t, l, "m1001", ClassRefresh); d.Source != SourceFallback || d.Allowed {
		t.Fatalf("after cooldown: %+v", d)
	}
	if n := hook.count(); n != 2 {
		t.Fatalf("%d redis commands after the cooldown, want 2", n)
	}
	if w := logs.at(slog.LevelWarn); len(w) != 1 {
		t.Fatalf("warn logs %q, want still one", w)
	}
}

// TestFallbackDivisor: the local share while Redis is down.
func TestFallbackDivisor(t *testing.T) {
	c := redis.NewClient(&redis.Options{Addr: closedAddr(t), ContextTimeoutEnabled: true})
	t.Cleanup(func() { _ = c.Close() })
	l := NewRedis(c, map[Class]Limit{ClassPromote: {Rate: 20, Burst: 5, Period: time.Hour}},
		Options{Now: newFakeClock().Now, FallbackDivisor: 2})
	var ds []Decision
	for range 4 {
		ds = append(ds, allow(t, l, "m1001", ClassPromote))
	}
	if p := pattern(ds); p != "AADD" {
		t.Fatalf("pattern %s, want AADD (burst 5/2)", p)
	}
	want := Limit{Rate: 10, Burst: 2, Period: time.Hour}
	if ds[0].Limit != want {
		t.Fatalf("applied %v, want %v", ds[0].Limit, want)
	}
}

// TestRedisRecovers: Redis goes away and comes back on the same address;
// decisions move to the fallback and back, each change logged once, and the
// budget kept in Redis is still there.
func TestRedisRecovers(t *testing.T) {
	m, c := newMiniredis(t)
	clock := newFakeClock()
	logs := newLogRecorder()
	l := NewRedis(c, map[Class]Limit{ClassPurchase: {Rate: 10, Burst: 3, Period: time.Hour}},
		Options{Now: clock.Now, Logger: slog.New(logs)})

	if d := allow(t, l, "m1001", ClassPurchase); d.Source != SourceRedis || d.Remaining != 2 {
		t.Fatalf("before: %+v", d)
	}
	m.Close()
	if d := allow(t, l, "m1001", ClassPurchase); d.Source != SourceFallback || !d.Allowed {
		t.Fatalf("down: %+v", d)
	}
	if err := m.Restart(); err != nil {
		t.Fatal(err)
	}
	// The pool may hold a dead connection; keep probing (each after a
	// cooldown) until a call reaches Redis.
	deadline := time.Now().Add(5 * time.Second)
	var d Decision
	for d.Source != SourceRedis {
		if time.Now().After(deadline) {
			t.Fatalf("redis not used again: last %+v", d)
		}
		clock.Advance(time.Second)
		d = allow(t, l, "m1001", ClassPurchase)
	}
	if !d.Allowed || d.Remaining != 1 {
		t.Fatalf("back on redis: %+v, want the second request of the burst", d)
	}
	if w, i := logs.at(slog.LevelWarn), logs.at(slog.LevelInfo); len(w) != 1 || !slices.Equal(i, []string{"rate limits back on redis"}) {
		t.Fatalf("logs: warn %q, info %q", w, i)
	}
}

// TestRedisProbeIsSingle: after the cooldown, while one call probes Redis,
// the others do not wait on it.
func TestRedisProbeIsSingle(t *testing.T) {
	clock := newFakeClock()
	cb := circuit{cooldown: time.Second, now: clock.Now, log: slog.New(slog.DiscardHandler)}
	ctx := ctxT(t)
	cb.failure(ctx, errors.New("down"))
	if use, _ := cb.attempt(); use {
		t.Fatal("redis used during the cooldown")
	}
	clock.Advance(time.Second)
	use, probe := cb.attempt()
	if !use || !probe {
		t.Fatalf("first call after cooldown: use %v probe %v", use, probe)
	}
	if use, _ := cb.attempt(); use {
		t.Fatal("second call used redis while the probe runs")
	}
	cb.abandon(probe)
	if use, probe := cb.attempt(); !use || !probe {
		t.Fatal("an abandoned probe must let the next call probe")
	}
	cb.success(ctx, true)
	if use, probe := cb.attempt(); !use || probe {
		t.Fatal("closed circuit must use redis without probing")
	}
}

// TestRedisCanceledContext: a caller that gave up gets an error, and Redis
// is not blamed for it.
func TestRedisCanceledContext(t *testing.T) {
	_, c := newMiniredis(t)
	l := NewRedis(c, DefaultLimits(), Options{})
	ctx, cancel := contextCanceled(t)
	cancel()
	if _, err := l.Allow(ctx, "m1001", ClassRead); err == nil {
		t.Fatal("canceled context allowed")
	}
	if d := allow(t, l, "m1001", ClassRead); d.Source != SourceRedis {
		t.Fatalf("after a canceled call: %+v", d)
	}
}

// hungRedis accepts connections and never answers, like a Redis stuck on a
// slow command or a half-dead network path.
func hungRedis(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	})
	t.Cleanup(func() {
		_ = ln.Close()
		wg.Wait()
		mu.Lock()
		for _, c := range conns {
			_ = c.Close()
		}
		mu.Unlock()
	})
	return ln.Addr().String()
}

// TestRedisHungFallsBack: a Redis that never answers costs one
// RedisTimeout, then the circuit skips it.
func TestRedisHungFallsBack(t *testing.T) {
	c := redis.NewClient(&redis.Options{Addr: hungRedis(t), ContextTimeoutEnabled: true})
	t.Cleanup(func() { _ = c.Close() })
	l := NewRedis(c, DefaultLimits(), Options{Now: newFakeClock().Now})
	start := time.Now()
	for range 10 {
		if d := allow(t, l, "m1001", ClassRead); d.Source != SourceFallback || !d.Allowed {
			t.Fatalf("hung redis: %+v", d)
		}
	}
	// One 50ms timeout; the client's 5s read timeout would show here.
	if el := time.Since(start); el > 2*time.Second {
		t.Fatalf("10 decisions took %v with redis hung", el)
	}
}

// TestRedisWarnsWithoutContextTimeouts: a client that would let a hung
// Redis stall every check is reported when the limiter is built.
func TestRedisWarnsWithoutContextTimeouts(t *testing.T) {
	for _, enabled := range []bool{false, true} {
		c := redis.NewClient(&redis.Options{Addr: closedAddr(t), ContextTimeoutEnabled: enabled})
		logs := newLogRecorder()
		NewRedis(c, DefaultLimits(), Options{Logger: slog.New(logs)})
		_ = c.Close()
		if got := len(logs.at(slog.LevelWarn)); got != map[bool]int{false: 1, true: 0}[enabled] {
			t.Fatalf("ContextTimeoutEnabled %v: %d warnings", enabled, got)
		}
	}
}
