package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"time"

	"github.com/cloudwego/kitex/client"
	"github.com/cloudwego/kitex/pkg/registry"
	"github.com/cloudwego/kitex/pkg/utils"
	"github.com/cloudwego/kitex/server"

	"github.com/bangbang-im/bangbang/core-im/gateway"
	"github.com/bangbang-im/bangbang/core-im/logic"
	"github.com/bangbang-im/bangbang/gen/gateway/gatewayservice"
	"github.com/bangbang-im/bangbang/gen/logic/logicservice"
	"github.com/bangbang-im/bangbang/internal/discovery"
	"github.com/bangbang-im/bangbang/internal/health"
	"github.com/bangbang-im/bangbang/marketing/edge"
	"github.com/bangbang-im/bangbang/tracing"
)

// rpcTimeout bounds one internal call; a send waits for the store's group commit, well
// under it.
const rpcTimeout = 5 * time.Second

// newLogicClient reaches logic: through etcd, balanced over every live logic node, when
// c names etcd endpoints, else at c.LogicAddr. logic.Remote makes a call again when it
// failed in a way another node may not (Kitex's own failure retry is not used: in v0.16.3 it
// drops the IMError a call throws and answers nil, nil).
func newLogicClient(c *config, tr *tracing.Tracing, component string) (logic.Remote, error) {
	opts := kitexClientOptions(tr, component)
	target := c.LogicAddr
	if _, ok := c.discoveryConfig(); ok {
		r, err := c.etcdResolver()
		if err != nil {
			return logic.Remote{}, err
		}
		opts, target = append(opts, client.WithResolver(r)), "etcd "+discovery.ServiceLogic
	} else {
		opts = append(opts, client.WithHostPorts(c.LogicAddr))
	}
	cl, err := logicservice.NewClient(discovery.ServiceLogic, opts...)
	if err != nil {
		return logic.Remote{}, fmt.Errorf("logic client %s: %w", target, err)
	}
	return logic.NewRemote(cl), nil
}

// imNodes lists the live gateways from etcd for /v1/login, when c names etcd endpoints;
// else nil (the edge names its --tcp-addr and --ws-addr).
func imNodes(c *config) (func(context.Context) ([]edge.IMNode, error), error) {
	if _, ok := c.discoveryConfig(); !ok {
		return nil, nil
	}
	r, err := c.etcdResolver()
	if err != nil {
		return nil, err
	}
	gws := discovery.NewGateways(r, gatewayListTTL)
	return func(ctx context.Context) ([]edge.IMNode, error) {
		list, err := gws.List(ctx)
		nodes := make([]edge.IMNode, len(list))
		for i, g := range list {
			nodes[i] = edge.IMNode{TCP: g.TCP, WS: g.WS}
		}
		return nodes, err
	}, nil
}

// gatewayListTTL is how long the edge reuses etcd's list of gateways: a burst of logins
// costs one read, and a gateway that joined or left shows within it.
const gatewayListTTL = 3 * time.Second

// nodeRegistry is the etcd registry of this process's Kitex server when c names etcd
// endpoints, else nil.
func nodeRegistry(c *config) (registry.Registry, error) {
	dc, ok := c.discoveryConfig()
	if !ok {
		return nil, nil
	}
	return discovery.NewRegistry(dc)
}

// registered adds to opts the server's registration in r (none when r is nil): service at
// addr, what the other nodes dial, with tags.
func registered(opts []server.Option, r registry.Registry, service string, addr net.Addr, tags map[string]string) []server.Option {
	if r == nil {
		return opts
	}
	return append(opts, server.WithRegistry(r),
		server.WithRegistryInfo(&registry.Info{ServiceName: service, Addr: addr, Weight: discovery.DefaultWeight, Tags: tags}))
}

// serveKitex runs a Kitex server in the background and returns its stop function; it fails
// at once if the address cannot be bound.
func serveKitex(addr string, build func(net.Addr) server.Server) (func(context.Context) error, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen %s: %w", addr, err)
	}
	tcp := ln.Addr()
	_ = ln.Close() // Kitex binds itself; checking first gives one clear error per step
	srv := build(tcp)
	done := make(chan error, 1)
	go func() { done <- srv.Run() }()
	return func(ctx context.Context) error {
		err := srv.Stop()
		select {
		case <-done:
		case <-ctx.Done():
			return ctx.Err()
		}
		return err
	}, nil
}

func runLogic(ctx context.Context, args []string, stderr io.Writer) error {
	c := defaults()
	f := newFlagSet("logic", stderr)
	f.common(&c)
	f.stores(&c)
	f.str(&c.LogicAddr, "logic-addr", "Kitex listen address (registered in etcd as it is; a host-less address registers this host's first non-loopback IPv4, or KITEX_IP_TO_REGISTRY)")
	f.heartbeat(&c)
	f.discovery(&c)
	c.MetricsAddr = "127.0.0.1:8902"
	f.metricsFlag(&c)
	f.boolean(&c.Demo, "demo", "seed demo merchants and customers")
	f.integer(&c.DemoUsers, "demo-users", "merchants m1001… and customers c1001… --demo seeds, as many of each")
	if err := f.parse(args); err != nil {
		return err
	}
	return serve(ctx, "logic", c.LogLevel, stderr, func(lc *lifecycle) error {
		log := lc.log
		tr, err := setupTracing(ctx, "bangbang-logic", &c, false, lc)
		if err != nil {
			return err
		}
		reg := newRegistry(tr)
		ob, err := imObservability(tr, reg, "logic")
		if err != nil {
			return err
		}
		st, stName, err := openStore(ctx, &c, ob.store, log.With("component", "store"))
		if err != nil {
			return err
		}
		lc.add("store", func(context.Context) error { return st.Close() })
		rc, err := openRedis(ctx, &c, lc)
		if err != nil {
			return err
		}
		if err := traceRedis(rc, tr.Provider("logic")); err != nil {
			return err
		}
		rt, rtName := openRoutes(&c, rc, lc)
		if c.Demo {
			if err := seedDemo(ctx, st, c.DemoUsers, stderr); err != nil {
				return err
			}
		}
		gws := logic.NewKitexGateways(nil, kitexClientOptions(tr, "logic")...)
		ob.logic.HeartbeatInterval = c.Heartbeat
		svc := logic.New(ob.logic, st, rt, gws, log.With("component", "logic"))
		lc.add("logic", ignoreCtx(svc.Close))
		nr, err := nodeRegistry(&c)
		if err != nil {
			return err
		}
		stop, err := serveKitex(c.LogicAddr, func(a net.Addr) server.Server {
			return logicservice.NewServer(svc, registered(kitexServerOptions(tr, "logic", a), nr, discovery.ServiceLogic, a, nil)...)
		})
		if err != nil {
			return err
		}
		lc.add("logic server", stop)
		ready := health.New(0, log.With("component", "readyz"), append([]health.Check{storeCheck(st)}, redisCheck("routes", rc)...)...)
		if err := serveMetrics(c.MetricsAddr, reg, ready, lc); err != nil {
			return err
		}
		log.Info("logic: ready", "addr", c.LogicAddr, "messages", stName, "routes", rtName)
		return nil
	})
}

func runGateway(ctx context.Context, args []string, stderr io.Writer) error {
	c := defaults()
	c.LogicAddr = "127.0.0.1:8900"
	f := newFlagSet("gateway", stderr)
	f.common(&c)
	f.gatewayFlags(&c)
	f.str(&c.LogicAddr, "logic-addr", "logic's Kitex address (unused with --etcd)")
	f.str(&c.PushAddr, "push-addr", "Kitex listen address for pushes from logic")
	f.str(&c.Node, "node", "address logic dials for pushes (default: 127.0.0.1 and the --push-addr port)")
	f.str(&c.PublicHost, "public-host", "host apps are told to connect to, when the listen address names none (in etcd's gateway list)")
	f.discovery(&c)
	c.MetricsAddr = "127.0.0.1:8903"
	f.metricsFlag(&c)
	if err := f.parse(args); err != nil {
		return err
	}
	if c.Node == "" {
		c.Node = dialable(c.PushAddr, "127.0.0.1")
	}
	return serve(ctx, "gateway", c.LogLevel, stderr, func(lc *lifecycle) error {
		tr, err := setupTracing(ctx, "bangbang-gateway", &c, false, lc)
		if err != nil {
			return err
		}
		reg := newRegistry(tr)
		tk, err := tokens(&c)
		if err != nil {
			return err
		}
		lg, err := newLogicClient(&c, tr, "gateway")
		if err != nil {
			return err
		}
		gc := c.gatewayConfig()
		gc.Node, gc.TracerProvider, gc.Metrics = c.Node, tr.Provider("gateway"), reg
		gw, err := gateway.New(gc, lg, tk, lc.log.With("component", "gateway"))
		if err != nil {
			return err
		}
		nr, err := nodeRegistry(&c)
		if err != nil {
			return err
		}
		// Registered at its node id (what logic dials, and what the route table names), with
		// the addresses apps connect to.
		tags := map[string]string{discovery.TagTCP: dialable(c.TCPAddr, c.PublicHost)}
		if c.WSAddr != gateway.Disabled {
			tags[discovery.TagWS] = "ws://" + dialable(c.WSAddr, c.PublicHost) + "/ws"
		}
		node := utils.NewNetAddr("tcp", c.Node)
		stop, err := serveKitex(c.PushAddr, func(a net.Addr) server.Server {
			return gatewayservice.NewServer(gw, registered(kitexServerOptions(tr, "gateway", a), nr, discovery.ServiceGateway, node, tags)...)
		})
		if err != nil {
			return err
		}
		lc.add("push server", stop)
		if err := gw.Start(); err != nil {
			return fmt.Errorf("start gateway: %w", err)
		}
		lc.add("gateway", gw.Shutdown)
		ready := health.New(0, lc.log.With("component", "readyz"), gatewayCheck(gw), logicCheck(lg, c.Node))
		if err := serveMetrics(c.MetricsAddr, reg, ready, lc); err != nil {
			return err
		}
		lc.log.Info("gateway: ready", "tcp", c.TCPAddr, "ws", c.WSAddr, "node", c.Node, "logic", c.LogicAddr)
		return nil
	})
}

func runEdge(ctx context.Context, args []string, stderr io.Writer) error {
	c := defaults()
	c.LogicAddr = "127.0.0.1:8900"
	var p partnerFlags
	f := newFlagSet("edge", stderr)
	f.common(&c)
	f.edgeFlags(&c)
	f.str(&c.LogicAddr, "logic-addr", "logic's Kitex address (unused with --etcd)")
	f.discovery(&c)
	f.str(&c.TCPAddr, "tcp-addr", "IM TCP address told to clients")
	f.str(&c.WSAddr, "ws-addr", "IM WebSocket address told to clients")
	c.RedisAddr = os.Getenv("REDIS_ADDR")
	f.str(&c.RedisAddr, "redis-addr", "Redis for rate limits and idempotency keys shared by edges, host:port or redis://[user:password@]host:port[/db] (also REDIS_ADDR); empty: in-process")
	f.redisPrefix(&c)
	f.partnerFlags(&p)
	c.MetricsAddr = "127.0.0.1:8702"
	f.metricsFlag(&c)
	if err := f.parse(args); err != nil {
		return err
	}
	return serve(ctx, "edge", c.LogLevel, stderr, func(lc *lifecycle) error {
		tr, err := setupTracing(ctx, "bangbang-edge", &c, false, lc)
		if err != nil {
			return err
		}
		reg := newRegistry(tr)
		tk, err := tokens(&c)
		if err != nil {
			return err
		}
		lg, err := newLogicClient(&c, tr, "edge")
		if err != nil {
			return err
		}
		rc, err := openRedis(ctx, &c, lc)
		if err != nil {
			return err
		}
		if err := traceRedis(rc, tr.Provider("edge")); err != nil {
			return err
		}
		deps, err := marketingDeps(&c, p, rc, tr, reg, lc, lc.log)
		if err != nil {
			return err
		}
		deps.Logic, deps.Tokens, deps.Logger = lg, tk, lc.log.With("component", "edge")
		deps.Ready = health.New(0, lc.log.With("component", "readyz"), redisCheck("redis", rc)...)
		if deps.IMNodes, err = imNodes(&c); err != nil {
			return err
		}
		ed := edge.New(edge.Config{Addr: c.EdgeAddr, IMTCP: dialable(c.TCPAddr, c.PublicHost),
			IMWS: "ws://" + dialable(c.WSAddr, c.PublicHost) + "/ws", IdempotencyLease: idempotencyLease}, deps)
		if err := ed.Start(); err != nil {
			return err
		}
		lc.add("edge", ed.Shutdown)
		if err := serveMetrics(c.MetricsAddr, reg, deps.Ready, lc); err != nil {
			return err
		}
		lc.log.Info("edge: ready", "addr", c.EdgeAddr, "logic", c.LogicAddr)
		return nil
	})
}
