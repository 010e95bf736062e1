package partner

import (
	"context"
	"errors"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/sony/gobreaker/v2"

	"github.com/bangbang-im/bangbang/tracing"
)

// The outcome labels other than a fault's (see Metrics).
const (
	outcomeOK          = "ok"
	outcomeUnavailable = "unavailable"  // ErrUnavailable: the breaker refused the call
	outcomeTimeout     = "timeout"      // ErrTimeout
	outcomeBadResponse = "bad_response" // ErrBadResponse
	outcomeTransport   = "transport"    // ErrTransport
)

// Metrics are the Prometheus metrics of the Clients built with it
// (Config.Metrics):
//
//   - bangbang_soap_calls_total{partner, operation, outcome}: calls of Do,
//     one per call whatever its retries;
//   - bangbang_soap_call_duration_seconds{partner, operation, outcome}: how
//     long each call took, retries and backoff included;
//   - bangbang_soap_attempts_total{partner, operation}: HTTP attempts, so
//     attempts minus calls is the retries;
//   - bangbang_soap_breaker_state{partner}: 0 closed, 1 half-open, 2 open,
//     read from each Client's breaker at scrape time.
//
// partner is Config.Name and operation the op given to Do, a WSDL operation
// name: both come from code, never from a request. outcome is "ok", the
// fault's kind for a *Fault (fault_not_found, fault_not_owner,
// fault_insufficient_credits, fault_quota_exceeded, fault_invalid_request,
// fault_auth, fault_server), or unavailable, timeout, bad_response or
// transport for the error Do wraps. A nil *Metrics records nothing. Metrics
// are safe for concurrent use.
type Metrics struct {
	calls    *prometheus.CounterVec
	duration *prometheus.HistogramVec
	attempts *prometheus.CounterVec
	breakers *breakerCollector
}

// NewMetrics registers the metrics with reg. When they are already
// registered there (another NewMetrics on the same registry), it uses those,
// so clients built with either share the series. A nil reg returns nil: no
// metrics.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	if reg == nil {
		return nil, nil
	}
	m := &Metrics{
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "bangbang_soap_calls_total",
			Help: "Calls of a third party's SOAP operation, retries included in one call, by outcome.",
		}, []string{"partner", "operation", "outcome"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "bangbang_soap_call_duration_seconds",
			Help:    "Duration of a call of a third party's SOAP operation, retries and backoff included.",
			Buckets: tracing.LatencyBuckets,
		}, []string{"partner", "operation", "outcome"}),
		attempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "bangbang_soap_attempts_total",
			Help: "HTTP attempts of a third party's SOAP operation; more than its calls when reads are retried.",
		}, []string{"partner", "operation"}),
		breakers: &breakerCollector{
			desc: prometheus.NewDesc("bangbang_soap_breaker_state",
				"State of a third party's circuit breaker: 0 closed, 1 half-open, 2 open.",
				[]string{"partner"}, nil),
			clients: map[string]*Client{},
		},
	}
	var err error
	if m.calls, err = tracing.Register(reg, m.calls); err != nil {
		return nil, err
	}
	if m.duration, err = tracing.Register(reg, m.duration); err != nil {
		return nil, err
	}
	if m.attempts, err = tracing.Register(reg, m.attempts); err != nil {
		return nil, err
	}
	if m.breakers, err = tracing.Register(reg, m.breakers); err != nil {
		return nil, err
	}
	return m, nil
}

// track makes c's breaker reported at scrape time.
func (m *Metrics) track(c *Client) {
	if m == nil {
		return
	}
	m.breakers.add(c)
}

// attempt counts one HTTP attempt.
func (m *Metrics) attempt(partner, op string) {
	if m == nil {
		return
	}
	m.attempts.WithLabelValues(partner, op).Inc()
}

// call records one call of Do, made under ctx, and its result.
func (m *Metrics) call(ctx context.Context, partner, op string, err error, took time.Duration) {
	if m == nil {
		return
	}
	o := outcomeOf(err)
	m.calls.WithLabelValues(partner, op, o).Inc()
	tracing.Observe(ctx, m.duration.WithLabelValues(partner, op, o), took.Seconds())
}

// outcomeOf is the outcome label of Do's result: a small fixed set, since
// every error of Do is a *Fault of a known kind or a *callError.
func outcomeOf(err error) string {
	var f *Fault
	var ce *callError
	switch {
	case err == nil:
		return outcomeOK
	case errors.As(err, &f):
		switch f.Kind {
		case FaultNotFound, FaultNotOwner, FaultInsufficientCredits, FaultQuotaExceeded,
			FaultInvalidRequest, FaultAuth:
			return "fault_" + string(f.Kind)
		}
		return "fault_" + string(FaultServer)
	case errors.As(err, &ce):
		switch ce.kind {
		case ErrUnavailable:
			return outcomeUnavailable
		case ErrTimeout:
			return outcomeTimeout
		case ErrBadResponse:
			return outcomeBadResponse
		}
	}
	return outcomeTransport
}

// breakerCollector reports the state of each tracked Client's breaker when
// scraped, so an open breaker turning half-open shows without a call.
type breakerCollector struct {
	desc *prometheus.Desc

	mu sync.Mutex
	// clients by Config.Name: a Client built later under the same name
	// replaces the earlier one, so one series per partner.
	clients map[string]*Client
}

func (b *breakerCollector) add(c *Client) {
	b.mu.Lock()
	b.clients[c.cfg.Name] = c
	b.mu.Unlock()
}

// Describe implements prometheus.Collector.
func (b *breakerCollector) Describe(ch chan<- *prometheus.Desc) { ch <- b.desc }

// Collect implements prometheus.Collector. The breakers are read outside
// b.mu: reading one may move it to half-open and log.
func (b *breakerCollector) Collect(ch chan<- prometheus.Metric) {
	b.mu.Lock()
	clients := slices.Collect(maps.Values(b.clients))
	b.mu.Unlock()
	for _, c := range clients {
		ch <- prometheus.MustNewConstMetric(b.desc, prometheus.GaugeValue, breakerValue(c.BreakerState()), c.cfg.Name)
	}
}

// breakerValue is the gauge value of a breaker state.
func breakerValue(s gobreaker.State) float64 {
	switch s {
	case gobreaker.StateHalfOpen:
		return 1
	case gobreaker.StateOpen:
		return 2
	}
	return 0
}
