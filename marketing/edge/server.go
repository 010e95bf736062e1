package edge

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/cloudwego/hertz/pkg/app"
	"github.com/cloudwego/hertz/pkg/app/server"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/bangbang-im/bangbang/core-im/auth"
	logicgen "github.com/bangbang-im/bangbang/gen/logic"
	"github.com/bangbang-im/bangbang/internal/health"
	"github.com/bangbang-im/bangbang/internal/hertzstart"
	"github.com/bangbang-im/bangbang/marketing/idempotency"
	"github.com/bangbang-im/bangbang/marketing/ratelimit"
	"github.com/bangbang-im/bangbang/soap-clients/account"
	"github.com/bangbang-im/bangbang/soap-clients/housing"
	"github.com/bangbang-im/bangbang/soap-clients/recruitment"
	"github.com/bangbang-im/bangbang/tracing"
)

// Config of the edge server.
type Config struct {
	// Addr to listen on; "" means ":8700".
	Addr string
	// IMTCP and IMWS are what /v1/login tells clients to connect to, e.g.
	// "127.0.0.1:8800" and "ws://127.0.0.1:8801/ws".
	IMTCP, IMWS string
	// MaxBodyBytes bounds a request body at the HTTP layer (Hertz answers 413
	// itself, before any handler); 0 means 64 KiB. Marketing routes apply
	// their own, smaller limit (maxActionBody) with the API's error shape.
	MaxBodyBytes int
	// IdempotencyTTL is how long a paid action's result is replayed for its
	// Idempotency-Key; 0 means 24h.
	IdempotencyTTL time.Duration
	// IdempotencyLease is how long a claim on a key lasts while its request
	// runs; it must exceed the SOAP clients' whole deadline. 0 means 30s.
	IdempotencyLease time.Duration
}

// Deps are what the server calls. Logic and Tokens are required. The SOAP
// clients, Limiter and Idempotency may be nil: the marketing routes that need
// a missing one answer 503 "marketing is not configured".
type Deps struct {
	Logic       logicgen.LogicService
	Tokens      *auth.Tokens
	Housing     *housing.Client
	Recruitment *recruitment.Client
	Account     *account.Client
	Limiter     ratelimit.Limiter
	Idempotency idempotency.Store
	// LoginMetrics counts login attempts (ratelimit.NewLoginMetrics); nil counts none.
	// Logins are throttled with Limiter's login classes; without a Limiter they are not.
	LoginMetrics *ratelimit.LoginMetrics
	// IMNodes, when set, lists the live gateways (etcd): /v1/login then names them all,
	// starting at one picked by the user id, and Config's IMTCP and IMWS are what it names
	// only while the list cannot be had. nil: Config's addresses alone.
	IMNodes func(ctx context.Context) ([]IMNode, error)
	// Clicks, when set, counts a successful action that carries ClickHeader as a click on
	// that campaign (the campaign store); nil counts none.
	Clicks Clicks
	Logger *slog.Logger
	// TracerProvider, when set, gives every request a server span (and the traceresponse
	// header); Propagator reads the caller's trace context (nil: W3C trace context).
	TracerProvider trace.TracerProvider
	Propagator     propagation.TextMapPropagator
	// Metrics records every request (tracing.NewHTTPMetrics); nil records none.
	// The SOAP clients and the limiter take their own, from whoever builds them.
	Metrics *tracing.HTTPMetrics
	// Ready are the checks GET /readyz runs (Redis, when the limits and keys live there);
	// nil: always ready.
	Ready *health.Readiness
}

// Server is the edge HTTP server.
type Server struct {
	cfg         Config
	logic       logicgen.LogicService
	tokens      *auth.Tokens
	housing     *housing.Client
	recruitment *recruitment.Client
	account     *account.Client
	limiter     ratelimit.Limiter
	logins      *ratelimit.LoginGuard // nil without a limiter
	checks      *tokenChecks
	idem        idempotency.Store
	clicks      Clicks
	imNodes     func(ctx context.Context) ([]IMNode, error)
	log         *slog.Logger
	tp          trace.TracerProvider // nil: no server spans
	prop        propagation.TextMapPropagator
	metrics     *tracing.HTTPMetrics // nil: none
	ready       *health.Readiness
	ln          net.Listener
	h           *server.Hertz
	done        <-chan struct{} // closed when the server has stopped
}

// New builds the server; Start binds it. It does not own the clients and
// stores in deps: their creator closes them after Shutdown.
func New(cfg Config, deps Deps) *Server {
	if cfg.Addr == "" {
		cfg.Addr = ":8700"
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = 64 << 10
	}
	if cfg.IdempotencyTTL <= 0 {
		cfg.IdempotencyTTL = 24 * time.Hour
	}
	if cfg.IdempotencyLease <= 0 {
		cfg.IdempotencyLease = 30 * time.Second
	}
	logger := deps.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	var logins *ratelimit.LoginGuard
	if deps.Limiter != nil {
		logins = ratelimit.NewLoginGuard(deps.Limiter, "edge", deps.LoginMetrics)
	}
	return &Server{
		cfg: cfg, logic: deps.Logic, tokens: deps.Tokens, logins: logins,
		checks:  &tokenChecks{now: time.Now, m: map[string]tokenCheck{}},
		housing: deps.Housing, recruitment: deps.Recruitment, account: deps.Account,
		limiter: deps.Limiter, idem: deps.Idempotency, clicks: deps.Clicks, imNodes: deps.IMNodes,
		log: logger, tp: deps.TracerProvider, prop: deps.Propagator, metrics: deps.Metrics, ready: deps.Ready,
	}
}

// Start binds the listener and serves in the background until Shutdown.
func (s *Server) Start() error {
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("edge listen %s: %w", s.cfg.Addr, err)
	}
	s.ln = ln
	s.h = server.New(
		server.WithListener(ln),
		server.WithMaxRequestBodySize(s.cfg.MaxBodyBytes),
		server.WithDisablePrintRoute(true),
		server.WithReadTimeout(10*time.Second),
		server.WithExitWaitTime(time.Second),
		// A wrong method or a trailing slash gets the API's error shape, not
		// a redirect an app would follow with a different method.
		server.WithHandleMethodNotAllowed(true),
		server.WithRedirectTrailingSlash(false),
	)
	s.routes(s.h)
	done, err := hertzstart.Start(s.h, ln, "/healthz", nil, func(err error) { s.log.Error("edge server stopped", "err", err) })
	s.done = done
	if err != nil {
		return fmt.Errorf("edge serve %s: %w", s.cfg.Addr, err)
	}
	return nil
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

func (s *Server) healthz(ctx context.Context, c *app.RequestContext) {
	c.JSON(200, map[string]string{"status": "ok"})
}

// readyz answers GET /readyz: 200 when every dependency answers, else 503 in the API's
// error shape (code unavailable) with the readiness report's status and checks besides.
func (s *Server) readyz(ctx context.Context, c *app.RequestContext) {
	rep := s.ready.Check(ctx)
	c.Header("Cache-Control", "no-store")
	if rep.Ready() {
		c.JSON(200, rep)
		return
	}
	c.JSON(rep.HTTPStatus(), struct {
		health.Report
		RequestID string `json:"request_id"`
	}{rep, c.GetString(requestIDKey)})
}
