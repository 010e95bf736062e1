package router

import (
	"context"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"
)

// redisClient connects to the Redis the machine runs. Unreachable Redis
// fails the test: skipping silently would let the Redis table go untested.
func redisClient(t testing.TB) *redis.Client {
	t.Helper()
	addr := os.Getenv("BANGBANG_TEST_REDIS_ADDR")
	if addr == "" {
		addr = "127.0.0.1:6379"
	}
	c := redis.NewClient(&redis.Options{Addr: addr})
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

// newRedisTable gives each test its own key prefix on the shared Redis and
// deletes its keys afterwards.
func newRedisTable(t testing.TB) (Table, func(time.Duration)) {
	tb, _, _ := newRedisTableWith(t)
	return tb, func(time.Duration) {} // real time passes while the test polls
}

func newRedisTableWith(t testing.TB) (Table, *redis.Client, string) {
	t.Helper()
	c := redisClient(t)
	prefix := "bbtest:rt:" + uuid.NewString() + ":"
	t.Cleanup(func() { deleteKeys(t, c, prefix) })
	tb := NewRedis(c, RedisOptions{Prefix: prefix})
	t.Cleanup(func() { _ = tb.Close() })
	return tb, c, prefix
}

func deleteKeys(t testing.TB, c *redis.Client, prefix string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var keys []string
	it := c.Scan(ctx, 0, prefix+"*", 500).Iterator()
	for it.Next(ctx) {
		keys = append(keys, it.Val())
	}
	if err := it.Err(); err != nil {
		t.Errorf("scan test keys: %v", err)
		return
	}
	for chunk := range slices.Chunk(keys, 500) {
		if err := c.Del(ctx, chunk...).Err(); err != nil {
			t.Errorf("delete test keys: %v", err)
			return
		}
	}
}

func TestRedisContract(t *testing.T) {
	runContract(t, newRedisTable)
}

// TestRedisKeyLayout pins what other tools (and operators with redis-cli)
// rely on: one hash per user under a hash tag, expiring with its last device.
func TestRedisKeyLayout(t *testing.T) {
	tb, c, prefix := newRedisTableWith(t)
	ctx := ctxT(t)
	key := prefix + "u:{u1}"
	put(t, tb, rt("u1", "d1", "nodeA", "c1"), 10*time.Second)
	if fields, err := c.HKeys(ctx, key).Result(); err != nil || !slices.Equal(fields, []string{"d1"}) {
		t.Fatalf("hash fields of %s = %v, %v", key, fields, err)
	}
	pttl := func() time.Duration {
		t.Helper()
		d, err := c.PTTL(ctx, key).Result()
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	if d := pttl(); d <= 0 || d > 10*time.Second {
		t.Fatalf("key ttl %v, want within 10s", d)
	}
	put(t, tb, rt("u1", "d2", "nodeA", "c2"), 60*time.Second)
	if d := pttl(); d <= 30*time.Second {
		t.Fatalf("key ttl %v, want pushed to the furthest device (60s)", d)
	}
	// Renewing the short device must not pull the key's expiry back.
	if lost, err := tb.Renew(ctx, []Route{rt("u1", "d1", "nodeA", "c1")}, 20*time.Second); err != nil || len(lost) != 0 {
		t.Fatalf("renew = %v, %v", lost, err)
	}
	if d := pttl(); d <= 30*time.Second {
		t.Fatalf("key ttl %v after a shorter renew, want still about 60s", d)
	}
	member := encodeMember("u1", "d1", "c1")
	if ok, err := c.SIsMember(ctx, prefix+"n:{nodeA}", member).Result(); err != nil || !ok {
		t.Fatalf("node index lacks %q: %v, %v", member, ok, err)
	}
	if d, err := c.TTL(ctx, prefix+"n:{nodeA}").Result(); err != nil || d <= 0 {
		t.Fatalf("node index ttl %v, %v; want an expiry", d, err)
	}
}

func TestRedisLookupPrunesStaleDevices(t *testing.T) {
	tb, c, prefix := newRedisTableWith(t)
	ctx := ctxT(t)
	keep := rt("u1", "d2", "nodeA", "c2")
	put(t, tb, rt("u1", "d1", "nodeA", "c1"), 100*time.Millisecond)
	put(t, tb, keep, long)
	eventually(t, 3*time.Second, "short device expires", func() (bool, error) {
		got, err := tb.Lookup(ctx, []string{"u1"})
		return len(got["u1"]) == 1, err
	})
	// The lookup that first saw the stale device deleted it before returning.
	if n, err := c.HLen(ctx, prefix+"u:{u1}").Result(); err != nil || n != 1 {
		t.Fatalf("hash holds %d devices, %v; want the stale one pruned", n, err)
	}
	wantRoutes(t, "u1", lookup(t, tb, "u1")["u1"], []Route{keep})
}

func TestRedisCountDropsStaleIndexMembers(t *testing.T) {
	tb, c, prefix := newRedisTableWith(t)
	ctx := ctxT(t)
	live := rt("u1", "d1", "nodeA", "c1")
	put(t, tb, live, long)
	put(t, tb, rt("u2", "d1", "nodeA", "c2"), long)
	put(t, tb, rt("u2", "d1", "nodeB", "c3"), long) // takes u2's device off nodeA
	idx := prefix + "n:{nodeA}"
	// Members a crash or a race could leave behind.
	stale := []any{"not a member", encodeMember("ghost", "d1", "c9"), encodeMember("u2", "d1", "c2")}
	if err := c.SAdd(ctx, idx, stale...).Err(); err != nil {
		t.Fatal(err)
	}
	if n := count(t, tb, "nodeA"); n != 1 {
		t.Fatalf("count(nodeA) = %d, want 1", n)
	}
	members, err := c.SMembers(ctx, idx).Result()
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{encodeMember("u1", "d1", "c1")}; !slices.Equal(members, want) {
		t.Fatalf("index after count = %q, want %q", members, want)
	}
}

// TestRedisReloadsFlushedScripts runs on miniredis because flushing the
// script cache of the shared Redis would disturb other tests.
func TestRedisReloadsFlushedScripts(t *testing.T) {
	mr := miniredis.RunT(t)
	c := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	t.Cleanup(func() { _ = c.Close() })
	tb := NewRedis(c, RedisOptions{})
	t.Cleanup(func() { _ = tb.Close() })
	ctx := ctxT(t)
	r := rt("u1", "d1", "nodeA", "c1")
	put(t, tb, r, long)
	if !mr.Exists("bb:rt:u:{u1}") {
		t.Fatalf("default prefix not used; keys: %v", mr.Keys())
	}
	flush := func() {
		t.Helper()
		if err := c.ScriptFlush(ctx).Err(); err != nil {
			t.Fatal(err)
		}
	}
	flush()
	if lost, err := tb.Renew(ctx, []Route{r}, long); err != nil || len(lost) != 0 {
		t.Fatalf("renew after flush = %v, %v", lost, err)
	}
	flush()
	next := rt("u1", "d1", "nodeB", "c2")
	if rep, err := tb.Put(ctx, next, long); err != nil {
		t.Fatalf("put after flush: %v", err)
	} else {
		wantReplaced(t, rep, r)
	}
	flush()
	if removed, err := tb.Remove(ctx, next); err != nil || !removed {
		t.Fatalf("remove after flush = %v, %v", removed, err)
	}
}
