package edge

import (
	"bytes"
	"context"
	"net"
	"os"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"

	"github.com/bangbang-im/bangbang/marketing/idempotency"
	"github.com/bangbang-im/bangbang/marketing/ratelimit"
	"github.com/bangbang-im/bangbang/soap-clients/sim"
)

// redisClient connects to the Redis the machine runs; an unreachable Redis
// fails the test rather than leaving the shared path untested.
func redisClient(t *testing.T) *redis.Client {
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
		t.Fatalf("redis at %s unreachable: %v", addr, err)
	}
	return c
}

// deleteKeys removes a test's keys from the shared Redis afterwards.
func deleteKeys(t *testing.T, c *redis.Client, patterns ...string) {
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		for _, p := range patterns {
			iter := c.Scan(ctx, 0, p, 100).Iterator()
			for iter.Next(ctx) {
				c.Del(ctx, iter.Val())
			}
		}
	})
}

// TestTwoEdgesShareRedis: two edge processes' worth of servers, each with its
// own SOAP clients, share one rate limit budget and one set of idempotency
// keys through Redis.
func TestTwoEdgesShareRedis(t *testing.T) {
	rc := redisClient(t)
	id := uuid.NewString()
	rlPrefix, idemPrefix := "bbtest:edge:rl:"+id+":", "bbtest:edge:idem:"+id+":"
	deleteKeys(t, rc, "rate:"+rlPrefix+"*", idemPrefix+"*")

	limits := generous()
	limits[ratelimit.ClassRefresh] = ratelimit.Limit{Rate: 1, Burst: 3, Period: time.Hour}
	s := startSim(t)
	edge := func() *harness {
		return newHarness(t, options{
			sim:     s,
			limiter: ratelimit.NewRedis(rc, limits, ratelimit.Options{KeyPrefix: rlPrefix}),
			idem:    idempotency.NewRedis(rc, idempotency.Options{Prefix: idemPrefix}),
		})
	}
	a, b := edge(), edge()
	tok := a.token("m1001", "merchant")

	t.Run("a replay on the other edge", func(t *testing.T) {
		r := req{method: "POST", path: "/v1/listings/Lm1001-01/promotions", token: tok, key: "shared-1", body: `{"days":3}`}
		first := a.do(t, r)
		first.ok(t, &promotionView{})
		again := b.do(t, r)
		if again.status != 200 || !bytes.Equal(again.body, first.body) || again.header.Get("Idempotent-Replayed") != "true" {
			t.Fatalf("edge b: %d %s %v; edge a: %s", again.status, again.body, again.header, first.body)
		}
		if n := s.Calls(sim.Housing, "PromoteListing"); n != 1 || a.credits(t, "m1001") != 470 {
			t.Fatalf("%d SOAP calls, credits %d", n, a.credits(t, "m1001"))
		}
		b.do(t, req{method: "POST", path: "/v1/listings/Lm1001-01/promotions", token: tok, key: "shared-1", body: `{"days":4}`}).
			fails(t, 422, CodeIdempotencyKeyReused)
	})

	t.Run("one rate limit", func(t *testing.T) {
		refresh := req{method: "POST", path: "/v1/listings/Lm1001-02/refresh", token: tok}
		for _, h := range []*harness{a, b, a} {
			h.do(t, refresh).ok(t, &refreshView{})
		}
		b.do(t, refresh).fails(t, 429, CodeRateLimited)
		a.do(t, refresh).fails(t, 429, CodeRateLimited)
		if n := s.Calls(sim.Housing, "RefreshListing"); n != 3 {
			t.Fatalf("%d SOAP calls, want 3", n)
		}
	})
}

// TestRateLimitWithoutRedis: when Redis cannot be reached the limiter decides
// locally, so requests are neither all refused nor let through unlimited.
func TestRateLimitWithoutRedis(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := ln.Addr().String()
	ln.Close()
	rc := redis.NewClient(&redis.Options{Addr: dead, ContextTimeoutEnabled: true, MaxRetries: -1, DialTimeout: 100 * time.Millisecond})
	t.Cleanup(func() { _ = rc.Close() })
	h := newHarness(t, options{limiter: ratelimit.NewRedis(rc, tight(2), ratelimit.Options{})})
	tok := h.token("m1001", "merchant")
	refresh := req{method: "POST", path: "/v1/listings/Lm1001-01/refresh", token: tok}
	h.do(t, refresh).ok(t, &refreshView{})
	h.do(t, refresh).ok(t, &refreshView{})
	h.do(t, refresh).fails(t, 429, CodeRateLimited)
}
