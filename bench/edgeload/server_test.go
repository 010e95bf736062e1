package main

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"

	"github.com/bangbang-im/bangbang/core-im/auth"
	"github.com/bangbang-im/bangbang/core-im/logic"
	"github.com/bangbang-im/bangbang/core-im/router"
	"github.com/bangbang-im/bangbang/core-im/store"
	gatewaygen "github.com/bangbang-im/bangbang/gen/gateway"
	"github.com/bangbang-im/bangbang/marketing/edge"
	"github.com/bangbang-im/bangbang/marketing/idempotency"
	"github.com/bangbang-im/bangbang/marketing/ratelimit"
	"github.com/bangbang-im/bangbang/soap-clients/account"
	"github.com/bangbang-im/bangbang/soap-clients/housing"
	"github.com/bangbang-im/bangbang/soap-clients/partner"
	"github.com/bangbang-im/bangbang/soap-clients/sim"
)

// testSystem is what the program measures, wired in this process as `bangbang all` wires
// it: the simulators on real ports, logic over SQLite for the logins, and one or two edges.
type testSystem struct {
	sim       *sim.Sim
	edge      string // base URL, in-process limiter
	edgeRedis string // base URL, Redis limiter; "" unless asked
}

// noGateways: the edge's logins never push, so logic needs no gateway.
type noGateways struct{}

func (noGateways) Gateway(node string) (gatewaygen.GatewayService, error) {
	return nil, errors.New("no gateway in this test")
}

// startSystem runs the system until the test ends; limits is a --rate-limits spec, and
// withRedis adds the edge whose limiter is on the machine's Redis.
func startSystem(t *testing.T, merchants int, limits string, withRedis bool) testSystem {
	t.Helper()
	ctx := t.Context()
	log := slog.New(slog.DiscardHandler)
	s, err := sim.New(sim.Config{HousingAddr: "127.0.0.1:0", RecruitmentAddr: "127.0.0.1:0", AccountAddr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { shutdown(t, s.Shutdown) })

	st, err := store.OpenSQLite(ctx, filepath.Join(t.TempDir(), "im.db"), store.Options{})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	hash, err := auth.HashPassword("demo")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range demoMerchants(merchants) {
		if _, err := st.PutUserIfAbsent(ctx, store.User{ID: m, Kind: store.UserMerchant, PasswordHash: hash}); err != nil {
			t.Fatalf("seed %s: %v", m, err)
		}
	}
	rt := router.NewMemory(router.MemoryOptions{})
	t.Cleanup(func() { rt.Close() })
	svc := logic.New(logic.Config{}, st, rt, noGateways{}, log)
	t.Cleanup(svc.Close)
	tk, err := auth.NewTokens([]byte("0123456789abcdef0123456789abcdef"), time.Hour, nil)
	if err != nil {
		t.Fatal(err)
	}
	lim, err := ratelimit.ParseLimits(limits)
	if err != nil {
		t.Fatal(err)
	}
	line := func(name string) partner.Config {
		return partner.Config{Endpoint: s.URL(name), PartnerID: sim.DefaultPartnerID, PartnerKey: sim.DefaultPartnerKey, Timeout: 5 * time.Second}
	}
	hc, err := housing.New(line(sim.Housing))
	if err != nil {
		t.Fatal(err)
	}
	ac, err := account.New(line(sim.Account))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { hc.Close(); ac.Close() })
	startEdge := func(l ratelimit.Limiter) string {
		ed := edge.New(edge.Config{Addr: "127.0.0.1:0"}, edge.Deps{Logic: svc, Tokens: tk, Housing: hc, Account: ac,
			Limiter: l, Idempotency: idempotency.NewMemory(idempotency.Options{}), Logger: log})
		if err := ed.Start(); err != nil {
			t.Fatalf("start edge: %v", err)
		}
		t.Cleanup(func() { shutdown(t, ed.Shutdown) })
		return "http://" + ed.Addr().String()
	}
	sys := testSystem{sim: s, edge: startEdge(ratelimit.NewLocal(lim, ratelimit.Options{}))}
	if withRedis {
		rc := redis.NewClient(&redis.Options{Addr: testRedisAddr, ContextTimeoutEnabled: true})
		t.Cleanup(func() { _ = rc.Close() })
		if err := rc.Ping(ctx).Err(); err != nil {
			t.Fatalf("redis at %s: %v", testRedisAddr, err)
		}
		// Keys of its own on the shared Redis, expiring by themselves (GCRA keys live
		// one burst window).
		prefix := "bbtest:edgeload:" + uuid.NewString() + ":"
		// A limiter that never falls back on a loaded machine: the test counts its Redis scripts.
		sys.edgeRedis = startEdge(ratelimit.NewRedis(rc, lim, ratelimit.Options{KeyPrefix: prefix, RedisTimeout: 5 * time.Second}))
	}
	for _, u := range []string{sys.edge, sys.edgeRedis} {
		if u != "" {
			waitHealthy(t, u)
		}
	}
	return sys
}

const testRedisAddr = "127.0.0.1:6379"

func shutdown(t testing.TB, stop func(context.Context) error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := stop(ctx); err != nil {
		t.Errorf("shutdown: %v", err)
	}
}

// waitHealthy waits until the edge answers, within a deadline.
func waitHealthy(t testing.TB, edgeURL string) {
	t.Helper()
	hc := &http.Client{Timeout: time.Second}
	defer hc.CloseIdleConnections()
	err := waitFor(t.Context(), time.Now().Add(10*time.Second), func() bool {
		resp, err := hc.Get(edgeURL + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	if err != nil {
		t.Fatalf("edge not healthy: %v", err)
	}
}
