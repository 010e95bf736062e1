package ratelimit

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/bangbang-im/bangbang/tracing"
)

// Metrics count the decisions of the limiters built with it
// (Options.Metrics) as bangbang_ratelimit_decisions_total{limit, result,
// source}: limit is the class ("read", "refresh", "promote", "purchase"),
// result "allowed" or "limited", source the Decision's Source ("redis",
// "local", "local-fallback"). Every decision Allow returns is counted once;
// an error is no decision and is not counted, so limit only takes the
// configured classes. A nil *Metrics counts nothing. Metrics are safe for
// concurrent use.
type Metrics struct {
	decisions *prometheus.CounterVec
}

// NewMetrics registers the metrics with reg. When they are already
// registered there (another NewMetrics on the same registry), it uses those,
// so limiters built with either share the series. A nil reg returns nil: no
// metrics.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	if reg == nil {
		return nil, nil
	}
	decisions := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "bangbang_ratelimit_decisions_total",
		Help: "Per-merchant rate limit decisions, by limit (action class), result and where they were made.",
	}, []string{"limit", "result", "source"})
	decisions, err := tracing.Register(reg, decisions)
	if err != nil {
		return nil, fmt.Errorf("ratelimit metrics: %w", err)
	}
	return &Metrics{decisions: decisions}, nil
}

// count records d, a decision Allow is about to return for class.
func (m *Metrics) count(class Class, d Decision) {
	if m == nil {
		return
	}
	result := "limited"
	if d.Allowed {
		result = "allowed"
	}
	m.decisions.WithLabelValues(string(class), result, d.Source).Inc()
}
