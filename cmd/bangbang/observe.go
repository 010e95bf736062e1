package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/cloudwego/kitex/client"
	"github.com/cloudwego/kitex/pkg/transmeta"
	"github.com/cloudwego/kitex/server"
	"github.com/cloudwego/kitex/transport"
	"github.com/exaring/otelpgx"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/redis/go-redis/extra/redisotel/v9"
	"github.com/redis/go-redis/v9"
	"go.opentelemetry.io/otel/trace"

	"github.com/bangbang-im/bangbang/core-im/logic"
	"github.com/bangbang-im/bangbang/core-im/store"
	"github.com/bangbang-im/bangbang/internal/buildinfo"
	"github.com/bangbang-im/bangbang/internal/health"
	"github.com/bangbang-im/bangbang/internal/profiles"
	"github.com/bangbang-im/bangbang/tracing"
)

// newRegistry is a process's one metrics registry, with the Go runtime and process
// collectors; every component registers its metrics into it.
func newRegistry(tr *tracing.Tracing) *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		buildinfo.NewCollector(), tr.Collector())
	return reg
}

// serveMetrics serves GET /metrics (Prometheus), GET /healthz (liveness), GET /readyz
// (ready's checks) and the Go profiles under /debug/pprof/ on addr for the processes that
// have no admin API (logic, gateway, edge, campaign); "-" serves nothing. It binds
// loopback unless the operator says otherwise, like everything unauthenticated.
func serveMetrics(addr string, reg *prometheus.Registry, ready *health.Readiness, lc *lifecycle) error {
	if addr == "" || addr == "-" {
		return nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("metrics listen %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", tracing.MetricsHandler(reg, reg))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"status":"ok"}` + "\n"))
	})
	mux.Handle("GET /readyz", ready)
	mux.Handle("GET "+profiles.Prefix, profiles.Handler())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			lc.log.Error("metrics server stopped", "err", err)
		}
	}()
	lc.add("metrics server", srv.Shutdown)
	return nil
}

// queryTracer gives the PostgreSQL statements made inside a traced request a span from tp.
// pgx sees the committer's shared batch transactions too, which belong to no request:
// ChildOnly keeps them from each becoming a trace. Spans are named after the statement's
// first word ("query SELECT", "prepare INSERT"): the whole statement, which names them by
// default, is in db.statement, and a name must not be a paragraph of SQL.
func queryTracer(tp trace.TracerProvider) *otelpgx.Tracer {
	return otelpgx.NewTracer(otelpgx.WithTracerProvider(tracing.ChildOnly(tp)), otelpgx.WithTrimSQLInSpanName())
}

// traceRedis gives the Redis calls made inside a traced request a span from tp (only
// there: route renewals and other background calls stay untraced, see tracing.ChildOnly).
func traceRedis(rc *redis.Client, tp trace.TracerProvider) error {
	if rc == nil {
		return nil
	}
	// No caller attributes: code.filepath named the build machine's paths, and the
	// function is the Redis client's own, never ours.
	if err := redisotel.InstrumentTracing(rc, redisotel.WithTracerProvider(tracing.ChildOnly(tp)), redisotel.WithDBStatement(false),
		redisotel.WithCallerEnabled(false)); err != nil {
		return fmt.Errorf("redis tracing: %w", err)
	}
	return nil
}

// kitexClientOptions are the options of every internal Kitex client: TTHeader, which
// carries the metainfo the tracing middleware puts the trace context in, timeouts, and a
// client span per call made inside a trace.
func kitexClientOptions(tr *tracing.Tracing, component string) []client.Option {
	return []client.Option{
		client.WithTransportProtocol(transport.TTHeader),
		client.WithMetaHandler(transmeta.ClientTTHeaderHandler),
		client.WithRPCTimeout(rpcTimeout),
		client.WithConnectTimeout(time.Second),
		client.WithMiddleware(tracing.KitexClient(tr.Provider(component), tr.Propagator())),
	}
}

// kitexServerOptions are the options of every internal Kitex server, the counterpart of
// kitexClientOptions: a server span per call arriving with a trace context.
func kitexServerOptions(tr *tracing.Tracing, component string, addr net.Addr) []server.Option {
	return []server.Option{
		server.WithServiceAddr(addr),
		server.WithMetaHandler(transmeta.ServerTTHeaderHandler),
		server.WithExitWaitTime(time.Second),
		server.WithMiddleware(tracing.KitexServer(tr.Provider(component), tr.Propagator())),
	}
}

// ignoreCtx adapts a stop function that takes no context to the lifecycle.
func ignoreCtx(f func()) func(context.Context) error {
	return func(context.Context) error { f(); return nil }
}

// imObs is the tracing and metrics configuration of the IM layers below the gateway.
type imObs struct {
	store store.Options
	logic logic.Config
}

// imObservability traces the store and logic as component and registers their metrics.
func imObservability(tr *tracing.Tracing, reg prometheus.Registerer, component string) (imObs, error) {
	sm, err := store.NewMetrics(reg)
	if err != nil {
		return imObs{}, err
	}
	lm, err := logic.NewMetrics(reg)
	if err != nil {
		return imObs{}, err
	}
	tp := tr.Provider(component)
	return imObs{
		store: store.Options{TracerProvider: tracing.ChildOnly(tp), Metrics: sm, QueryTracer: queryTracer(tp)},
		logic: logic.Config{TracerProvider: tp, Metrics: lm},
	}, nil
}
