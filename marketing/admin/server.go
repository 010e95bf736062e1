package admin

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/cloudwego/hertz/pkg/app"
	"github.com/cloudwego/hertz/pkg/app/server"
	"github.com/cloudwego/hertz/pkg/common/adaptor"
	"github.com/cloudwego/hertz/pkg/common/config"
	"github.com/cloudwego/hertz/pkg/route"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	logicgen "github.com/bangbang-im/bangbang/gen/logic"
	"github.com/bangbang-im/bangbang/internal/health"
	"github.com/bangbang-im/bangbang/internal/hertzstart"
	"github.com/bangbang-im/bangbang/internal/profiles"
	"github.com/bangbang-im/bangbang/marketing/campaign"
	"github.com/bangbang-im/bangbang/marketing/ratelimit"
	"github.com/bangbang-im/bangbang/tracing"
)

// Config of the admin server.
type Config struct {
	Addr string // "" means "127.0.0.1:8701": staff reach it through a proxy or a deliberate bind
	// Keys are the bootstrap staff keys (BANGBANG_ADMIN_KEY): role admin, acting as
	// campaign.BootstrapActor, never stored. At least one, each at least 16 bytes.
	Keys []string
	// SessionTTL is how long a browser session opened by POST /admin/login lasts;
	// 0 means DefaultSessionTTL (12h).
	SessionTTL time.Duration
	// TLS, when set, makes the server speak HTTPS only (Hertz's standard transport: netpoll
	// has no TLS): the session cookie is then Secure. nil: plain HTTP, for a proxy that
	// ends TLS and says so in X-Forwarded-Proto.
	TLS *tls.Config
}

// Logic is what the staff API needs of the IM logic service (gen/logic's LogicService:
// the local service in one process, its Kitex client otherwise): EnsureUsers so IM knows
// a merchant's account before a campaign reaches it, PushToUsers for test-sends.
type Logic interface {
	PushToUsers(ctx context.Context, req *logicgen.PushRequest) (*logicgen.PushResponse, error)
	EnsureUsers(ctx context.Context, req *logicgen.EnsureUsersRequest) (*logicgen.EnsureUsersResponse, error)
	RevokeTokens(ctx context.Context, req *logicgen.RevokeTokensRequest) (*logicgen.RevokeTokensResponse, error)
}

// Deps are what the admin routes serve.
type Deps struct {
	// Campaigns holds staff keys, the audit log, merchants and campaigns. nil: the
	// campaign, merchant, key and audit routes are not registered, and only the bootstrap
	// keys (Config.Keys) authenticate.
	Campaigns      *campaign.Store
	Logic          Logic                // required with Campaigns
	Traces         *tracing.Store       // nil: the trace routes answer 404
	Metrics        prometheus.Gatherer  // nil: a registry with the Go and process collectors
	HTTPMetrics    *tracing.HTTPMetrics // counts this server's requests (server="admin"); nil: none
	TracerProvider trace.TracerProvider // nil: no server spans
	Propagator     propagation.TextMapPropagator
	Logger         *slog.Logger
	// Logins throttles POST /admin/login per client address (ratelimit.NewLoginGuard with
	// api "admin"); nil: not throttled.
	Logins *ratelimit.LoginGuard
	// Ready are the checks GET /readyz runs (the campaign store; in one process, every
	// component's dependencies); nil: always ready.
	Ready *health.Readiness
}

// ErrConfig is returned by New for a configuration it cannot serve safely.
var ErrConfig = errors.New("admin: invalid config")

// Server is the admin HTTP server.
type Server struct {
	cfg      Config
	deps     Deps
	log      *slog.Logger
	keys     [][sha256.Size]byte // digests of cfg.Keys, see isBootstrap
	keyCache *keyCache           // stored keys recently found
	sessions *sessions
	// maxImport bounds an import's body: MaxImportBody (tests lower it).
	maxImport int64
	ln        net.Listener
	h         *server.Hertz
	done      <-chan struct{} // closed when the server has stopped
}

// New checks cfg; Start binds.
func New(cfg Config, deps Deps) (*Server, error) {
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:8701"
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
	if deps.Campaigns != nil && deps.Logic == nil {
		return nil, fmt.Errorf("%w: campaigns need the logic service", ErrConfig)
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
	return &Server{cfg: cfg, deps: deps, log: deps.Logger, keys: keys, keyCache: newKeyCache(KeyCacheTTL, MaxCachedKeys),
		sessions: newSessions(cfg.SessionTTL, MaxSessions), maxImport: MaxImportBody}, nil
}

// Start binds the listener and serves in the background until Shutdown.
func (s *Server) Start() error {
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("admin listen %s: %w", s.cfg.Addr, err)
	}
	s.ln = ln
	// Bodies are streams, so an import of up to MaxImportBody is never held in memory;
	// bufferBody bounds every other route's body (see body.go). With streaming, the body
	// size option is only how much Hertz reads ahead.
	opts := []config.Option{server.WithListener(ln), server.WithDisablePrintRoute(true), server.WithStreamBody(true),
		server.WithMaxRequestBodySize(MaxJSONBody), server.WithReadTimeout(10 * time.Second),
		server.WithExitWaitTime(time.Second)}
	if s.cfg.TLS != nil {
		opts = append(opts, server.WithTLS(s.cfg.TLS))
	}
	s.h = server.New(opts...)
	s.routes()
	var probeTLS *tls.Config
	if s.cfg.TLS != nil {
		probeTLS = ownCertificate(s.cfg.TLS)
	}
	done, err := hertzstart.Start(s.h, ln, "/healthz", probeTLS, func(err error) { s.log.Error("admin server stopped", "err", err) })
	s.done = done
	if err != nil {
		return fmt.Errorf("admin listen %s: %w", s.cfg.Addr, err)
	}
	return nil
}

// ownCertificate is the TLS configuration of a probe of this server's own listener: the
// address it dials is rarely a name the certificate holds, so rather than verifying a
// name, it accepts only a certificate the server itself serves: one of its Certificates,
// or what its GetCertificate gives now (any, when it has neither).
func ownCertificate(server *tls.Config) *tls.Config {
	return &tls.Config{
		InsecureSkipVerify: true, // the peer is checked below, against our own certificates
		VerifyPeerCertificate: func(raw [][]byte, _ [][]*x509.Certificate) error {
			own := server.Certificates
			if len(own) == 0 && server.GetCertificate != nil {
				if c, err := server.GetCertificate(&tls.ClientHelloInfo{}); err == nil && c != nil {
					own = []tls.Certificate{*c}
				}
			}
			if len(own) == 0 {
				return nil
			}
			for _, c := range own {
				if len(raw) > 0 && len(c.Certificate) > 0 && bytes.Equal(raw[0], c.Certificate[0]) {
					return nil
				}
			}
			return errors.New("admin: the probe reached a server with another certificate")
		},
	}
}

// routes registers every route. docs/api/admin.yaml documents each one and a test
// compares the two, so a route added here fails the tests until it is documented.
func (s *Server) routes() {
	// Middleware used here reaches the routes (and groups) registered after it only.
	if s.deps.HTTPMetrics != nil {
		s.h.Use(s.deps.HTTPMetrics.Hertz("admin"))
	}
	s.h.Use(s.bufferBody(map[string]bool{"POST " + importRoute: true, "POST " + ingestRoute: true}))
	// Staff actions (logging in and out, every change to keys, merchants and campaigns)
	// are traced. The observability routes are not: a trace per scrape, per page view or
	// per OTLP batch received would fill the store with traces of reading traces; nor are
	// the campaign reads, which dashboards poll.
	var traced []app.HandlerFunc
	if s.deps.TracerProvider != nil {
		prop := s.deps.Propagator
		if prop == nil {
			prop = propagation.TraceContext{}
		}
		traced = append(traced, tracing.HertzServer(s.deps.TracerProvider, prop, tracing.Always(tracing.TrafficAdmin)))
	}
	staff := s.h.Group("", traced...)
	s.h.GET("/healthz", func(ctx context.Context, c *app.RequestContext) {
		c.JSON(200, map[string]string{"status": "ok"})
	})
	s.h.GET("/readyz", s.readyz)
	s.h.GET("/metrics", adaptor.HertzHandler(tracing.MetricsHandler(s.deps.Metrics, nil)))
	// The Go profiles: a CPU profile costs the process while it runs, and the staff API
	// may be exposed beyond the host (a cluster exporting traces to it), so they take an
	// admin key, unlike the metrics listeners' (loopback by default).
	prof := adaptor.HertzHandler(profiles.Handler())
	s.h.GET(profiles.Prefix, s.adminKey("read profiles"), prof)
	s.h.GET(profiles.Prefix+":name", s.adminKey("read profiles"), prof)
	s.h.GET(loginPage, s.loginForm)
	staff.POST(loginPage, s.login)
	staff.POST("/admin/logout", s.logout)
	if s.deps.Traces != nil {
		traces := adaptor.HertzHandler(s.deps.Traces.Handler())
		s.h.GET("/admin/v1/traces", s.requireStaff, traces)
		s.h.GET("/admin/v1/traces/map", s.requireStaff, traces)
		s.h.GET("/admin/v1/traces/:id", s.requireStaff, traces)
		var nav []tracing.PageLink
		if s.deps.Campaigns != nil {
			nav = append(nav, tracing.PageLink{Label: "Console", URL: consoleHome})
		}
		pages := adaptor.HertzHandler(s.deps.Traces.PageHandler(nav...))
		s.h.GET(pagesHome, s.requirePage, pages)
		s.h.GET(pagesHome+"/map", s.requirePage, pages)
		s.h.GET(pagesHome+"/:id", s.requirePage, pages)
		s.h.POST(ingestRoute, s.adminKey("export traces"), adaptor.HertzHandler(s.deps.Traces.IngestHandler()))
	}
	if s.deps.Campaigns != nil {
		s.consoleRoutes()
	}
	if s.deps.Campaigns != nil {
		s.campaignRoutes(staff)
	}
}

// The routes whose bodies are streams, which bufferBody leaves to their handlers.
const (
	importRoute = "/admin/v1/merchants/import"
	ingestRoute = "/v1/traces"
)

// campaignRoutes registers the staff API over the campaign store: each route
// authenticates (key or session), then checks its permission. Writes go through traced.
func (s *Server) campaignRoutes(traced *route.RouterGroup) {
	may := func(p campaign.Permission, what string, h app.HandlerFunc) []app.HandlerFunc {
		return []app.HandlerFunc{s.requireStaff, allow(p, what), h}
	}
	get := func(path, what string, h app.HandlerFunc) { s.h.GET(path, may(campaign.PermRead, what, h)...) }
	const v1 = "/admin/v1"
	author, send, manage := campaign.PermAuthor, campaign.PermSend, campaign.PermManage

	get(v1+"/whoami", "ask who they are", s.whoami)
	get(v1+"/audit", "read the audit log", s.audit)

	s.h.GET(v1+"/keys", may(manage, "list keys", s.listKeys)...)
	traced.POST(v1+"/keys", may(manage, "create keys", s.createKey)...)
	traced.DELETE(v1+"/keys/:id", may(manage, "revoke keys", s.revokeKey)...)

	get(v1+"/merchants", "list merchants", s.listMerchants)
	get(v1+"/merchants/:id", "read merchants", s.getMerchant)
	traced.POST(v1+"/merchants", may(author, "create merchants", s.createMerchant)...)
	traced.PUT(v1+"/merchants/:id", may(author, "change merchants", s.updateMerchant)...)
	traced.DELETE(v1+"/merchants/:id", may(author, "delete merchants", s.deleteMerchant)...)
	traced.POST(v1+"/merchants/:id/revoke-sessions", may(manage, "end merchants' sessions", s.revokeSessions)...)
	traced.POST(importRoute, may(author, "import merchants", s.importMerchants)...)
	traced.POST(v1+"/audience/count", may(author, "count audiences", s.countAudience)...)

	get(v1+"/campaigns", "list campaigns", s.listCampaigns)
	get(v1+"/campaigns/:id", "read campaigns", s.getCampaign)
	get(v1+"/campaigns/:id/progress", "read campaign progress", s.campaignProgress)
	get(v1+"/campaigns/:id/recipients", "read campaign recipients", s.campaignRecipients)
	traced.POST(v1+"/campaigns", may(author, "create campaigns", s.createCampaign)...)
	traced.PUT(v1+"/campaigns/:id", may(author, "edit campaigns", s.updateCampaign)...)
	traced.DELETE(v1+"/campaigns/:id", may(author, "delete campaigns", s.deleteCampaign)...)
	traced.POST(v1+"/campaigns/:id/preview", may(author, "preview campaigns", s.previewCampaign)...)
	traced.POST(v1+"/campaigns/:id/test", may(author, "test-send campaigns", s.testCampaign)...)
	traced.POST(v1+"/campaigns/:id/start", may(send, "start campaigns", s.transition((*campaign.Store).Start))...)
	traced.POST(v1+"/campaigns/:id/pause", may(send, "pause campaigns", s.pauseCampaign)...)
	traced.POST(v1+"/campaigns/:id/resume", may(send, "resume campaigns", s.transition((*campaign.Store).Resume))...)
	traced.POST(v1+"/campaigns/:id/cancel", may(send, "cancel campaigns", s.transition((*campaign.Store).Cancel))...)
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

// readyz answers GET /readyz: 200 when every dependency answers, else 503 in the API's
// error shape (code unavailable) with the readiness report's status and checks besides.
func (s *Server) readyz(ctx context.Context, c *app.RequestContext) {
	rep := s.deps.Ready.Check(ctx)
	c.Header("Cache-Control", "no-store")
	c.JSON(rep.HTTPStatus(), rep)
}
