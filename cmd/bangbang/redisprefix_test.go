package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Two deployments on one Redis keep apart with --redis-prefix: a login (its limit), an
// IM connection (its route) and a sent message write their keys under the prefix, and the
// default "bb:" names none of this deployment's users.
func TestRedisPrefixKeepsDeploymentsApart(t *testing.T) {
	t.Parallel()
	prefix := fmt.Sprintf("t%d:", time.Now().UnixNano())
	s := startAllProc(t, []string{"REDIS_ADDR=127.0.0.1:6379", "BANGBANG_REDIS_PREFIX=" + prefix})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	dialUser(t, ctx, s, "m1003", "prefix-test") // a login through the edge, then AUTH

	rc := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
	keys := func(ctx context.Context, pattern string) []string {
		t.Helper()
		var out []string
		iter := rc.Scan(ctx, 0, pattern, 1000).Iterator()
		for iter.Next(ctx) {
			out = append(out, iter.Val())
		}
		if err := iter.Err(); err != nil {
			t.Fatal(err)
		}
		return out
	}
	t.Cleanup(func() { // keys the process writes after this expire on their own
		for _, p := range []string{prefix + "*", "rate:" + prefix + "*"} {
			for _, k := range keys(context.Background(), p) {
				rc.Del(context.Background(), k)
			}
		}
		rc.Close()
	})
	route := prefix + "rt:u:{m1003}"
	if n, err := rc.Exists(ctx, route).Result(); err != nil || n != 1 {
		t.Errorf("route key %s: %d (%v), want it stored", route, n, err)
	}
	if got := keys(ctx, "rate:"+prefix+"rl:*"); len(got) == 0 {
		t.Errorf("no login limit key under rate:%srl:", prefix)
	}
	// The route is only under the prefix: the default table has no entry for this device.
	if v, err := rc.HGet(ctx, "bb:rt:u:{m1003}", "prefix-test").Result(); err != redis.Nil {
		t.Errorf("the default route table holds this deployment's device: %q (%v)", v, err)
	}
	for _, k := range keys(ctx, prefix+"*") {
		if !strings.HasPrefix(k, prefix+"rt:") && !strings.HasPrefix(k, prefix+"idem:") {
			t.Errorf("key %s under the prefix is none of routes or idempotency", k)
		}
	}
}

// A redis:// address chooses the database (and credentials): two deployments may also
// keep apart by database. A refused URL says why without its password.
func TestRedisURLChoosesDatabase(t *testing.T) {
	ctx := context.Background()
	rc, err := newRedisClient("redis://127.0.0.1:6379/5")
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	key := fmt.Sprintf("bbtest:db:%d", time.Now().UnixNano())
	if err := rc.Set(ctx, key, "x", time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	for db, want := range map[int]int64{0: 0, 5: 1} {
		other := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379", DB: db})
		n, err := other.Exists(ctx, key).Result()
		other.Close()
		if err != nil || n != want {
			t.Errorf("database %d holds the key %d times (%v), want %d", db, n, err, want)
		}
	}
	rc.Del(ctx, key)

	_, err = newRedisClient("redis://app:s3cret@127.0.0.1:6379/not-a-number")
	if err == nil || strings.Contains(err.Error(), "s3cret") || !strings.Contains(err.Error(), "xxxxx") {
		t.Errorf("a bad URL: %v; want an error naming it without its password", err)
	}
}
