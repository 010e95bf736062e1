package partner

import (
	"log/slog"
	"net/http"
	"sync/atomic"

	"github.com/hooklift/gowsdl/soap"
	"github.com/sony/gobreaker/v2"
)

// userAgent replaces gowsdl's, so that a third party's logs tell our calls apart.
const userAgent = "bangbang-partner/1"

// Client is one third party's SOAP client and call policy.
type Client struct {
	// SOAP is what the generated port constructors take, e.g.
	// housing.NewHousingPortType(c.SOAP). Its requests must go through Do.
	SOAP *soap.Client

	cfg     Config
	log     *slog.Logger
	pool    http.RoundTripper
	breaker *gobreaker.TwoStepCircuitBreaker[struct{}]
	budget  *retryBudget
	metrics *Metrics // nil: none
	// openUntil is when the open breaker lets a probe through (Unix nanoseconds).
	openUntil atomic.Int64
}

// New validates cfg and builds the client; it opens no connection.
func New(cfg Config) (*Client, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	httpClient, pool := newHTTPClient(cfg)
	opts := []soap.Option{
		soap.WithHTTPClient(httpClient),
		soap.WithHTTPHeaders(map[string]string{"User-Agent": userAgent}),
	}
	if cfg.PartnerID != "" {
		opts = append(opts, soap.WithBasicAuth(cfg.PartnerID, cfg.PartnerKey))
	}
	c := &Client{
		SOAP:    soap.NewClient(cfg.Endpoint, opts...),
		cfg:     cfg,
		log:     cfg.Logger.With("line", cfg.Name),
		pool:    pool,
		budget:  newRetryBudget(cfg.RetryBudget),
		metrics: cfg.Metrics,
	}
	c.breaker = newBreaker(c)
	c.metrics.track(c)
	return c, nil
}

// Name returns the business line, e.g. "housing".
func (c *Client) Name() string { return c.cfg.Name }

// BreakerState returns the state of the third party's breaker, for metrics.
func (c *Client) BreakerState() gobreaker.State { return c.breaker.State() }

// Close closes the idle pooled connections. Calls still running finish; the
// Client stays usable and would open new connections.
func (c *Client) Close() {
	if p, ok := c.pool.(interface{ CloseIdleConnections() }); ok {
		p.CloseIdleConnections()
	}
}
