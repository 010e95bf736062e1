package idempotency

import (
	"errors"
	"net"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// TestRedisKeyLayout pins the documented key: a hash under
// prefix{scope}:key, with a ttl.
func TestRedisKeyLayout(t *testing.T) {
	c := redisClient(t)
	prefix := testPrefix(t, c)
	s := NewRedis(c, Options{Prefix: prefix})
	mustClaim(t, s, "m1001", "k:1", fpA, time.Minute)
	ctx := ctxT(t)
	key := prefix + "{m1001}:k:1"
	if typ := c.Type(ctx, key).Val(); typ != "hash" {
		t.Fatalf("key %s is %q", key, typ)
	}
	if ttl := c.PTTL(ctx, key).Val(); ttl <= 0 || ttl > time.Minute {
		t.Fatalf("claim ttl %v", ttl)
	}
	mustComplete(t, s, "m1001", "k:1", okRecord(fpA), time.Hour)
	if ttl := c.PTTL(ctx, key).Val(); ttl <= time.Minute || ttl > time.Hour {
		t.Fatalf("record ttl %v", ttl)
	}
}

// TestRedisCorrupt: a key holding something the store did not write is an
// error, never a claim or a replay.
func TestRedisCorrupt(t *testing.T) {
	c := redisClient(t)
	prefix := testPrefix(t, c)
	s := NewRedis(c, Options{Prefix: prefix})
	ctx := ctxT(t)
	c.HSet(ctx, prefix+"{m1001}:odd", "state", "weird", "fp", fpA)
	c.HSet(ctx, prefix+"{m1001}:badstatus", "state", "done", "fp", fpA, "status", "x", "at", "1")
	c.Set(ctx, prefix+"{m1001}:string", "x", time.Minute)
	for _, key := range []string{"odd", "badstatus", "string"} {
		rec, ok, err := s.Begin(ctx, "m1001", key, fpA, time.Minute)
		if err == nil || ok || rec != nil {
			t.Fatalf("%s: rec %v, ok %v, err %v", key, rec, ok, err)
		}
		if key != "string" && !errors.Is(err, errCorrupt) {
			t.Fatalf("%s: %v", key, err)
		}
	}
}

// TestRedisUnreachable: no claim without Redis; the caller must not call
// the third party.
func TestRedisUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	c := redis.NewClient(&redis.Options{Addr: addr, ContextTimeoutEnabled: true})
	t.Cleanup(func() { _ = c.Close() })
	s := NewRedis(c, Options{})
	rec, ok, err := s.Begin(ctxT(t), "m1001", "k1", fpA, time.Minute)
	if err == nil || ok || rec != nil {
		t.Fatalf("rec %v, ok %v, err %v", rec, ok, err)
	}
	if errors.Is(err, ErrInFlight) || errors.Is(err, ErrMismatch) {
		t.Fatalf("an outage must not look like a key state: %v", err)
	}
}
