package main

import (
	"context"
	"fmt"
	"io"
	"sync"

	"github.com/bangbang-im/bangbang/core-im/gateway"
	"github.com/bangbang-im/bangbang/core-im/logic"
	gatewaygen "github.com/bangbang-im/bangbang/gen/gateway"
	"github.com/bangbang-im/bangbang/internal/health"
	"github.com/bangbang-im/bangbang/marketing/admin"
	"github.com/bangbang-im/bangbang/marketing/edge"
	"github.com/bangbang-im/bangbang/soap-clients/sim"
	"github.com/bangbang-im/bangbang/tracing"
)

// runAll runs every component in one process, wired directly through the same interfaces
// the separate processes reach over Kitex.
func runAll(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c := defaults()
	f := newFlagSet("all", stderr)
	f.common(&c)
	f.stores(&c)
	f.gatewayFlags(&c)
	f.edgeFlags(&c)
	f.boolean(&c.Demo, "demo", "seed demo merchants and customers")
	f.integer(&c.DemoUsers, "demo-users", "merchants m1001… and customers c1001… --demo seeds, as many of each")
	f.str(&c.AdminAddr, "admin-addr", "staff API listen address (/healthz, /metrics, /admin/v1/traces)")
	f.adminTLS(&c)
	var s simFlags
	var p partnerFlags
	f.simFlags(&s, "127.0.0.1") // loopback only: the simulators stand in for outside parties
	f.rateLimitFlag(&p)
	if err := f.parse(args); err != nil {
		return err
	}
	if err := c.loadAdminTLS(); err != nil {
		return err
	}
	return serve(ctx, "all", c.LogLevel, stderr, func(lc *lifecycle) error {
		if err := startAll(ctx, &c, s, p, lc, stdout); err != nil {
			return err
		}
		lc.log.Info("bangbang all: ready", "im_tcp", dialable(c.TCPAddr, c.PublicHost), "edge", dialable(c.EdgeAddr, c.PublicHost))
		return nil
	})
}

func startAll(ctx context.Context, c *config, s simFlags, p partnerFlags, lc *lifecycle, stdout io.Writer) error {
	log := lc.log
	tr, err := setupTracing(ctx, "bangbang-all", c, true, lc)
	if err != nil {
		return err
	}
	tk, err := tokens(c)
	if err != nil {
		return err
	}
	// One registry for the process, served by the admin API's /metrics.
	reg := newRegistry(tr)
	ob, err := imObservability(tr, reg, "logic")
	if err != nil {
		return err
	}
	st, stName, err := openStore(ctx, c, ob.store, log.With("component", "store"))
	if err != nil {
		return err
	}
	lc.add("store", func(context.Context) error { return st.Close() })
	rc, err := openRedis(ctx, c, lc)
	if err != nil {
		return err
	}
	// The one Redis client serves the route table (logic) and the edge's limits: its spans
	// are the process's.
	if err := traceRedis(rc, tr.Provider("bangbang-all")); err != nil {
		return err
	}
	rt, rtName := openRoutes(c, rc, lc)
	log.Info("storage", "messages", stName, "routes", rtName)

	cs, err := openCampaignStore(ctx, c, tr, lc)
	if err != nil {
		return err
	}
	if c.Demo {
		if err := seedDemo(ctx, st, c.DemoUsers, stdout); err != nil {
			return err
		}
		if err := seedDemoMerchants(ctx, cs, log); err != nil {
			return err
		}
	}

	// The gateway needs logic and logic needs the gateway (to push): logic reaches it
	// through a resolver filled in once the gateway exists.
	gws := &lateGateway{}
	ob.logic.HeartbeatInterval = c.Heartbeat
	svc := logic.New(ob.logic, st, rt, gws, log.With("component", "logic"))
	lc.add("logic", ignoreCtx(svc.Close))

	gc := c.gatewayConfig()
	gc.Node, gc.TracerProvider, gc.Metrics = "local", tr.Provider("gateway"), reg
	gw, err := gateway.New(gc, svc, tk, log.With("component", "gateway"))
	if err != nil {
		return err
	}
	gws.set(gw)
	if err := gw.Start(); err != nil {
		return fmt.Errorf("start gateway: %w", err)
	}
	lc.add("gateway", gw.Shutdown)

	sm, err := startSim(s, tr, lc)
	if err != nil {
		return err
	}
	p.housingURL, p.recruitmentURL, p.accountURL = sm.URL(sim.Housing), sm.URL(sim.Recruitment), sm.URL(sim.Account)
	p.id, p.key = s.partnerID, s.partnerKey
	deps, err := marketingDeps(c, p, rc, tr, reg, lc, log)
	if err != nil {
		return err
	}
	deps.Logic, deps.Tokens, deps.Logger, deps.Clicks = svc, tk, log.With("component", "edge"), cs
	// One process, one readiness: the edge's and the admin API's /readyz check everything.
	ready := health.New(0, log.With("component", "readyz"),
		append([]health.Check{storeCheck(st), campaignsCheck(cs), gatewayCheck(gw)}, redisCheck("redis", rc)...)...)
	deps.Ready = ready
	ed := edge.New(edge.Config{Addr: c.EdgeAddr, IMTCP: dialable(c.TCPAddr, c.PublicHost),
		IMWS: "ws://" + dialable(c.WSAddr, c.PublicHost) + "/ws", IdempotencyLease: idempotencyLease}, deps)
	if err := ed.Start(); err != nil {
		return err
	}
	lc.add("edge", ed.Shutdown)

	hm, err := tracing.NewHTTPMetrics(reg)
	if err != nil {
		return err
	}
	logins, err := adminLogins(reg, deps.Limiter, log)
	if err != nil {
		return err
	}
	adm, err := admin.New(admin.Config{Addr: c.AdminAddr, Keys: []string{adminKey(stdout)}, TLS: c.adminTLS},
		admin.Deps{Traces: tr.Store(), Metrics: reg, HTTPMetrics: hm, TracerProvider: tr.Provider("admin"), Propagator: tr.Propagator(), Logins: logins,
			Campaigns: cs, Logic: svc, Logger: log.With("component", "admin"), Ready: ready})
	if err != nil {
		return err
	}
	if err := adm.Start(); err != nil {
		return err
	}
	lc.add("admin", adm.Shutdown)
	// The worker starts last and so stops first: no batch is pushed into a logic that is
	// shutting down.
	if _, err := startCampaignWorker(c, cs, svc, rc, tr, reg, lc); err != nil {
		return err
	}
	return nil
}

// lateGateway resolves every node to the in-process gateway, set once it is built.
type lateGateway struct {
	mu sync.RWMutex
	gw gatewaygen.GatewayService
}

func (l *lateGateway) set(gw gatewaygen.GatewayService) {
	l.mu.Lock()
	l.gw = gw
	l.mu.Unlock()
}

func (l *lateGateway) Gateway(node string) (gatewaygen.GatewayService, error) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if l.gw == nil || node != "local" {
		return nil, fmt.Errorf("no gateway %q in this process", node)
	}
	return l.gw, nil
}
