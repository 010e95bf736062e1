package admin

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"net"
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
	// SessionTTL is how long a browser session opened by POST /admin/login lasts;
	// 0 means DefaultSessionTTL (12h).
	SessionTTL time.Duration
}

// Deps are what the admin routes serve.
type Deps struct {
	Traces         *tracing.Store       // nil: the trace routes answer 404
	Metrics        prometheus.Gatherer  // nil: a registry with the Go and process collectors
	HTTPMetrics    *tracing.HTTPMetrics // counts this server's requests (server="admin"); nil: none
	TracerProvider trace.TracerProvider // nil: no server spans
	Propagator     propagation.TextMapPropagator
	Logger         *slog.Logger
}

// ErrConfig is returned by New for a configuration it cannot serve safely.
var ErrConfig = errors.New("admin: invalid config")

// Server is the admin HTTP server.
type Server struct {
	cfg      Config
	deps     Deps
	log      *slog.Logger
	keys     [][sha256.Size]byte // digests of cfg.Keys, see isKey
	sessions *sessions
	ln       net.Listener
	h        *server.Hertz
	done     chan struct{}
}

// New checks cfg; Start binds.
func New(cfg Config, deps Deps) (*Server, error) {
	if cfg.Addr == "" {
		cfg.Addr = ":8701"
	}
	if len(cfg.Keys) == 0 {
		return nil, fmt.Errorf("%w: no staff key", ErrConfig)
	}
	keys := make([][sha256.Size]byte, len(cfg.Keys))
	for i, k := range cfg.Keys {
		if len(k) < 16 {
			return nil, fmt.Errorf("%w: a staff key is shorter than 16 bytes", ErrConfig)
		}
		keys[i] = sha256.Sum256([]byte(k))
	}
	if cfg.SessionTTL < 0 {
		return nil, fmt.Errorf("%w: negative session TTL", ErrConfig)
	}
	if cfg.SessionTTL == 0 {
		cfg.SessionTTL = DefaultSessionTTL
	}
	if deps.Metrics == nil {
		reg := prometheus.NewRegistry()
		reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
		deps.Metrics = reg
	}
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	return &Server{cfg: cfg, deps: deps, log: deps.Logger, keys: keys,
		sessions: newSessions(cfg.SessionTTL, MaxSessions), done: make(chan struct{})}, nil
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

// routes registers every route. docs/api/admin.yaml documents each one and a test
// compares the two, so a route added here fails the tests until it is documented.
func (s *Server) routes() {
	// Staff actions (logging in and out; campaigns to come) are traced. The observability
	// routes are not: a trace per scrape, per page view or per OTLP batch received would
	// fill the store with traces of reading traces.
	var traced []app.HandlerFunc
	if s.deps.TracerProvider != nil {
		prop := s.deps.Propagator
		if prop == nil {
			prop = propagation.TraceContext{}
		}
		traced = append(traced, tracing.HertzServer(s.deps.TracerProvider, prop, tracing.TrafficAdmin))
	}
	if s.deps.HTTPMetrics != nil {
		s.h.Use(s.deps.HTTPMetrics.Hertz("admin"))
	}
	staff := s.h.Group("", traced...)
	s.h.GET("/healthz", func(ctx context.Context, c *app.RequestContext) {
		c.JSON(200, map[string]string{"status": "ok"})
	})
	s.h.GET("/metrics", adaptor.HertzHandler(promhttp.HandlerFor(s.deps.Metrics, promhttp.HandlerOpts{})))
	s.h.GET(loginPage, s.loginForm)
	staff.POST(loginPage, s.login)
	staff.POST("/admin/logout", s.logout)
	if s.deps.Traces != nil {
		traces := adaptor.HertzHandler(s.deps.Traces.Handler())
		s.h.GET("/admin/v1/traces", s.requireStaff, traces)
		s.h.GET("/admin/v1/traces/:id", s.requireStaff, traces)
		pages := adaptor.HertzHandler(s.deps.Traces.PageHandler())
		s.h.GET(pagesHome, s.requirePage, pages)
		s.h.GET(pagesHome+"/:id", s.requirePage, pages)
		s.h.POST("/v1/traces", s.requireKey, adaptor.HertzHandler(s.deps.Traces.IngestHandler()))
	}
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
