package edge

import (
	"context"
	"encoding/json"
	"net"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/bangbang-im/bangbang/internal/health"
)

// GET /readyz checks Redis, the edge's one dependency worth a probe: 200 while it answers,
// 503 in the error shape naming it while it does not; /healthz stays 200 either way.
func TestReadyzReflectsRedis(t *testing.T) {
	up := redisClient(t)
	// A port nothing listens on: Redis down.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadAddr := ln.Addr().String()
	ln.Close()
	down := redis.NewClient(&redis.Options{Addr: deadAddr, ContextTimeoutEnabled: true, MaxRetries: -1})
	t.Cleanup(func() { _ = down.Close() })
	ping := func(rc *redis.Client) health.Check {
		return health.Check{Name: "redis", Probe: func(ctx context.Context) error { return rc.Ping(ctx).Err() }}
	}

	h := newHarness(t, options{noMarketing: true, ready: health.New(0, nil, ping(up))})
	var rep health.Report
	h.do(t, req{method: "GET", path: "/readyz"}).ok(t, &rep)
	if rep.Status != "ready" || rep.Checks["redis"] != health.StateOK {
		t.Fatalf("ready answer %+v", rep)
	}

	h = newHarness(t, options{noMarketing: true, ready: health.New(0, nil, ping(down))})
	r := h.do(t, req{method: "GET", path: "/readyz"})
	var e errorBody
	if err := json.Unmarshal(r.body, &e); err != nil || r.status != 503 || e.Code != CodeUnavailable ||
		e.Message == "" || e.RequestID == "" || e.RequestID != r.header.Get("X-Request-Id") {
		t.Fatalf("got %d %s (%v), want 503 unavailable in the error shape", r.status, r.body, err)
	}
	if err := json.Unmarshal(r.body, &rep); err != nil || rep.Status != "unready" || rep.Checks["redis"] != health.StateUnreachable {
		t.Fatalf("unready answer %s (%v)", r.body, err)
	}
	if r := h.do(t, req{method: "GET", path: "/healthz"}); r.status != 200 {
		t.Fatalf("healthz %d while Redis is down: liveness must not follow a dependency", r.status)
	}
}
