package partner

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// ErrConfig is wrapped by New for an invalid Config.
var ErrConfig = errors.New("partner: invalid config")

// Config configures the Client of one third party. The line packages set
// Name and Namespace; the rest comes from the operator's configuration.
type Config struct {
	// Name is the business line: "housing", "recruitment" or "account". It
	// names the breaker, the spans and the errors.
	Name string
	// Namespace is the WSDL's target namespace, e.g.
	// "urn:bangbang:partner:housing:v1": declared fault details are
	// recognised only in it.
	Namespace string
	// Endpoint is the service URL, e.g. http://127.0.0.1:8600/soap/housing/v1.
	Endpoint string
	// PartnerID and PartnerKey are the HTTP Basic credentials; both empty
	// sends none.
	PartnerID, PartnerKey string

	// Timeout bounds a whole Do, retries and backoff included; 0 means 3s.
	Timeout time.Duration
	// AttemptTimeout bounds one attempt; 0 (or more than Timeout) means
	// Timeout.
	AttemptTimeout time.Duration
	// MaxResponseBytes bounds a response body; a longer one is cut off and
	// reported as ErrBadResponse. 0 means 1 MiB.
	MaxResponseBytes int64

	// ReadRetries is the number of extra attempts of an idempotent call; 0
	// means 2 and -1 disables retries.
	ReadRetries int
	// RetryBudget is the share of calls that may be retried over the recent
	// past (a token bucket, as gRPC's retry throttling): each call earns that
	// many tokens, each retry spends one, and the bucket holds at most 10
	// (it starts full). It keeps retries from multiplying the load on a
	// third party that is already failing. 0 means 0.1.
	RetryBudget float64

	// BreakerFailureRatio is the share of failed attempts, over the last
	// 10 seconds, that opens the breaker once BreakerMinRequests attempts
	// have completed in them; 0 means 0.5. Declared faults and refused
	// credentials are not failures: the third party answered.
	BreakerFailureRatio float64
	// BreakerMinRequests: 0 means 10.
	BreakerMinRequests uint32
	// BreakerOpenTimeout is how long the breaker stays open before it lets
	// one probe through (half-open); 0 means 5s.
	BreakerOpenTimeout time.Duration

	// MaxConnsPerHost bounds the connections to the third party, and the
	// idle pool is as large; 0 means 64.
	MaxConnsPerHost int

	// TracerProvider makes the client spans; nil means no spans (the
	// caller's trace context is still propagated).
	TracerProvider trace.TracerProvider
	// Propagators write the trace context into requests; nil means W3C
	// trace context and baggage.
	Propagators propagation.TextMapPropagator
	// Logger receives breaker state changes and, at debug level, retries.
	// Nil discards.
	Logger *slog.Logger
	// Metrics counts the calls, attempts and breaker state under the
	// partner label Name; nil records none. Clients may share one.
	Metrics *Metrics

	// Transport replaces the pooled transport under the instrumentation;
	// for tests. Nil means a pooled keep-alive *http.Transport.
	Transport http.RoundTripper
}

// Defaults, as the Config fields document them.
const (
	defaultTimeout             = 3 * time.Second
	defaultMaxResponseBytes    = 1 << 20
	defaultReadRetries         = 2
	defaultRetryBudget         = 0.1
	defaultBreakerFailureRatio = 0.5
	defaultBreakerMinRequests  = 10
	defaultBreakerOpenTimeout  = 5 * time.Second
	defaultMaxConnsPerHost     = 64
)

func (c Config) withDefaults() (Config, error) {
	if c.Name == "" {
		return c, fmt.Errorf("%w: Name is empty", ErrConfig)
	}
	if c.Namespace == "" {
		return c, fmt.Errorf("%w: %s: Namespace is empty", ErrConfig, c.Name)
	}
	u, err := url.Parse(c.Endpoint)
	if c.Endpoint == "" || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return c, fmt.Errorf("%w: %s: Endpoint %q is not an http or https URL", ErrConfig, c.Name, c.Endpoint)
	}
	if (c.PartnerID == "") != (c.PartnerKey == "") {
		return c, fmt.Errorf("%w: %s: PartnerID and PartnerKey must be set together", ErrConfig, c.Name)
	}
	if c.Timeout < 0 || c.AttemptTimeout < 0 || c.BreakerOpenTimeout < 0 {
		return c, fmt.Errorf("%w: %s: durations must not be negative", ErrConfig, c.Name)
	}
	if c.Timeout == 0 {
		c.Timeout = defaultTimeout
	}
	if c.AttemptTimeout == 0 || c.AttemptTimeout > c.Timeout {
		c.AttemptTimeout = c.Timeout
	}
	switch {
	case c.MaxResponseBytes < 0:
		return c, fmt.Errorf("%w: %s: MaxResponseBytes %d is negative", ErrConfig, c.Name, c.MaxResponseBytes)
	case c.MaxResponseBytes == 0:
		c.MaxResponseBytes = defaultMaxResponseBytes
	}
	switch {
	case c.ReadRetries < -1:
		return c, fmt.Errorf("%w: %s: ReadRetries %d: use -1 to disable retries", ErrConfig, c.Name, c.ReadRetries)
	case c.ReadRetries == -1:
		c.ReadRetries = 0
	case c.ReadRetries == 0:
		c.ReadRetries = defaultReadRetries
	}
	switch {
	case !(c.RetryBudget >= 0 && c.RetryBudget <= 1): // also refuses NaN
		return c, fmt.Errorf("%w: %s: RetryBudget %v is not between 0 and 1", ErrConfig, c.Name, c.RetryBudget)
	case c.RetryBudget == 0:
		c.RetryBudget = defaultRetryBudget
	}
	switch {
	case !(c.BreakerFailureRatio >= 0 && c.BreakerFailureRatio <= 1):
		return c, fmt.Errorf("%w: %s: BreakerFailureRatio %v is not between 0 and 1", ErrConfig, c.Name, c.BreakerFailureRatio)
	case c.BreakerFailureRatio == 0:
		c.BreakerFailureRatio = defaultBreakerFailureRatio
	}
	if c.BreakerMinRequests == 0 {
		c.BreakerMinRequests = defaultBreakerMinRequests
	}
	if c.BreakerOpenTimeout == 0 {
		c.BreakerOpenTimeout = defaultBreakerOpenTimeout
	}
	switch {
	case c.MaxConnsPerHost < 0:
		return c, fmt.Errorf("%w: %s: MaxConnsPerHost %d is negative", ErrConfig, c.Name, c.MaxConnsPerHost)
	case c.MaxConnsPerHost == 0:
		c.MaxConnsPerHost = defaultMaxConnsPerHost
	}
	if c.Propagators == nil {
		c.Propagators = propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c, nil
}
