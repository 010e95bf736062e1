package admin

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"time"

	"github.com/cloudwego/hertz/pkg/app"
	"github.com/cloudwego/hertz/pkg/app/server"
	"github.com/cloudwego/hertz/pkg/common/adaptor"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/bangbang-im/bangbang/tracing"
)

// Config of the admin server.
type Config struct {
	Addr string   // "" means ":8701"
	Keys []string // staff keys; at least one, each at least 16 bytes
}

// Deps are what the admin routes serve.
type Deps struct {
	Traces         *tracing.Store       // nil: the trace routes answer 404
	Metrics        prometheus.Gatherer  // nil: a registry with the Go and process collectors
	TracerProvider trace.TracerProvider // nil: no server spans
	Propagator     propagation.TextMapPropagator
	Logger         *slog.Logger
}

// ErrConfig is returned by New for a configuration it cannot serve safely.
var ErrConfig = errors.New("admin: invalid config")

// Server is the admin HTTP server.
type Server struct {
	cfg  Config
	deps Deps
	log  *slog.Logger
	ln   net.Listener
	h    *server.Hertz
	done chan struct{}
}

// New checks cfg; Start binds.
func New(cfg Config, deps Deps) (*Server, error) {
	if cfg.Addr == "" {
		cfg.Addr = ":8701"
	}
	if len(cfg.Keys) == 0 {
		return nil, fmt.Errorf("%w: no staff key", ErrConfig)
	}
	for _, k := range cfg.Keys {
		if len(k) < 16 {
			return nil, fmt.Errorf("%w: a staff key is shorter than 16 bytes", ErrConfig)
		}
	}
	if deps.Metrics == nil {
		reg := prometheus.NewRegistry()
		reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
		deps.Metrics = reg
	}
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	return &Server{cfg: cfg, deps: deps, log: deps.Logger, done: make(chan struct{})}, nil
}

// Start binds the listener and serves in the background until Shutdown.
func (s *Server) Start() error {
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("admin listen %s: %w", s.cfg.Addr, err)
	}
	s.ln = ln
	s.h = server.New(server.WithListener(ln), server.WithDisablePrintRoute(true),
		server.WithMaxRequestBodySize(tracing.MaxIngestBody), server.WithReadTimeout(10*time.Second),
		server.WithExitWaitTime(time.Second))
	s.routes()
	go func() {
		defer close(s.done)
		if err := s.h.Run(); err != nil && !errors.Is(err, net.ErrClosed) {
			s.log.Error("admin server stopped", "err", err)
		}
	}()
	// Hertz only honours a Shutdown once Run has marked it running.
	deadline := time.Now().Add(5 * time.Second)
	for !s.h.IsRunning() && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	return nil
}

func (s *Server) routes() {
	if s.deps.TracerProvider != nil {
		prop := s.deps.Propagator
		if prop == nil {
			prop = propagation.TraceContext{}
		}
		s.h.Use(tracing.HertzServer(s.deps.TracerProvider, prop, tracing.TrafficAdmin))
	}
	s.h.GET("/healthz", func(ctx context.Context, c *app.RequestContext) {
		c.JSON(200, map[string]string{"status": "ok"})
	})
	s.h.GET("/metrics", adaptor.HertzHandler(promhttp.HandlerFor(s.deps.Metrics, promhttp.HandlerOpts{})))
	staff := s.h.Group("", s.requireKey)
	if s.deps.Traces != nil {
		traces := adaptor.HertzHandler(s.deps.Traces.Handler())
		staff.GET("/admin/v1/traces", traces)
		staff.GET("/admin/v1/traces/:id", traces)
		staff.POST("/v1/traces", adaptor.HertzHandler(s.deps.Traces.IngestHandler()))
	}
}

// requireKey admits a request whose bearer token is one of the staff keys.
func (s *Server) requireKey(ctx context.Context, c *app.RequestContext) {
	got, ok := strings.CutPrefix(string(c.GetHeader("Authorization")), "Bearer ")
	if ok {
		for _, k := range s.cfg.Keys {
			if subtle.ConstantTimeCompare([]byte(got), []byte(k)) == 1 {
				c.Next(ctx)
				return
			}
		}
	}
	c.Header("WWW-Authenticate", `Bearer realm="bangbang-admin"`)
	c.AbortWithStatusJSON(401, map[string]string{"code": "unauthenticated", "message": "a staff key is required"})
}

// Addr is the bound address.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// Shutdown stops accepting and waits for in-flight requests, bounded by ctx.
func (s *Server) Shutdown(ctx context.Context) error {
	if s.h == nil {
		return nil
	}
	err := s.h.Shutdown(ctx)
	select {
	case <-s.done:
	case <-ctx.Done():
		return ctx.Err()
	}
	return err
}
