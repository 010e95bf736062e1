package ratelimit

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/bangbang-im/bangbang/tracing/metricstest"
)

// newMetrics is a fresh registry with the limiter metrics on it.
func newMetrics(t *testing.T) (*prometheus.Registry, *Metrics) {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	m, err := NewMetrics(reg)
	if err != nil {
		t.Fatalf("NewMetrics: %v", err)
	}
	return reg, m
}

// decisions is the series name of a limit, result and source.
func decisions(class Class, result, source string) string {
	return fmt.Sprintf("bangbang_ratelimit_decisions_total{limit=%q,result=%q,source=%q}", class, result, source)
}

// TestMetricsLocal: each decision is counted once by class, result and
// source; a call refused with an error is no decision.
func TestMetricsLocal(t *testing.T) {
	reg, m := newMetrics(t)
	l := NewLocal(map[Class]Limit{
		ClassRefresh: {Rate: 1, Burst: 2, Period: time.Hour},
		ClassRead:    {Rate: 1, Burst: 2, Period: time.Hour},
	}, Options{Now: newFakeClock().Now, Metrics: m})
	for range 3 {
		allow(t, l, "m1001", ClassRefresh)
	}
	allow(t, l, "m1001", ClassRead)
	if _, err := l.Allow(ctxT(t), "m1001", ClassPurchase); !errors.Is(err, ErrUnknownClass) {
		t.Fatalf("unknown class: %v", err)
	}
	if _, err := l.Allow(ctxT(t), "m{1}", ClassRead); !errors.Is(err, ErrInvalidMerchant) {
		t.Fatalf("bad merchant: %v", err)
	}
	metricstest.Want(t, reg, map[string]float64{
		decisions(ClassRefresh, "allowed", SourceLocal): 2,
		decisions(ClassRefresh, "limited", SourceLocal): 1,
		decisions(ClassRead, "allowed", SourceLocal):    1,
	})
}

// TestMetricsRedis: decisions made on the shared Redis are counted as such.
func TestMetricsRedis(t *testing.T) {
	reg, m := newMetrics(t)
	c := redisClient(t)
	l := NewRedis(c, map[Class]Limit{ClassPromote: {Rate: 1, Burst: 2, Period: time.Hour}},
		Options{KeyPrefix: testPrefix(t, c), RedisTimeout: time.Second, Metrics: m})
	for range 3 {
		allow(t, l, "m1001", ClassPromote)
	}
	metricstest.Want(t, reg, map[string]float64{
		decisions(ClassPromote, "allowed", SourceRedis): 2,
		decisions(ClassPromote, "limited", SourceRedis): 1,
	})
}

// TestMetricsFallback: when Redis goes away the decisions move to the
// fallback, each still counted once (not also as the fallback's own).
func TestMetricsFallback(t *testing.T) {
	reg, m := newMetrics(t)
	mr, c := newMiniredis(t)
	l := NewRedis(c, map[Class]Limit{ClassPurchase: {Rate: 1, Burst: 2, Period: time.Hour}},
		Options{Now: newFakeClock().Now, Metrics: m})
	if d := allow(t, l, "m1001", ClassPurchase); d.Source != SourceRedis {
		t.Fatalf("before: %+v", d)
	}
	mr.Close()
	for range 3 {
		if d := allow(t, l, "m1001", ClassPurchase); d.Source != SourceFallback {
			t.Fatalf("down: %+v", d)
		}
	}
	metricstest.Want(t, reg, map[string]float64{
		decisions(ClassPurchase, "allowed", SourceRedis):    1,
		decisions(ClassPurchase, "allowed", SourceFallback): 2,
		decisions(ClassPurchase, "limited", SourceFallback): 1,
	})
}

// TestMetricsRedisUnreachable: with nothing listening every decision is the
// fallback's.
func TestMetricsRedisUnreachable(t *testing.T) {
	reg, m := newMetrics(t)
	c := redis.NewClient(&redis.Options{Addr: closedAddr(t), ContextTimeoutEnabled: true})
	t.Cleanup(func() { _ = c.Close() })
	l := NewRedis(c, map[Class]Limit{ClassRefresh: {Rate: 10, Burst: 3, Period: time.Minute}},
		Options{Now: newFakeClock().Now, Metrics: m})
	for range 5 {
		allow(t, l, "m1001", ClassRefresh)
	}
	metricstest.Want(t, reg, map[string]float64{
		decisions(ClassRefresh, "allowed", SourceFallback): 3,
		decisions(ClassRefresh, "limited", SourceFallback): 2,
	})
}

// TestMetricsShared: a second NewMetrics on the same registry reuses the
// counters, so two limiters add up.
func TestMetricsShared(t *testing.T) {
	reg, m1 := newMetrics(t)
	m2, err := NewMetrics(reg)
	if err != nil {
		t.Fatalf("second NewMetrics: %v", err)
	}
	limits := map[Class]Limit{ClassRead: {Rate: 1, Burst: 5, Period: time.Hour}}
	allow(t, NewLocal(limits, Options{Metrics: m1}), "m1001", ClassRead)
	allow(t, NewLocal(limits, Options{Metrics: m2}), "m1001", ClassRead)
	metricstest.Want(t, reg, map[string]float64{
		decisions(ClassRead, "allowed", SourceLocal): 2,
	})
}

// TestNewMetricsErrors: no registry is no metrics; a different metric under
// the name is an error, not a silent loss of counts.
func TestNewMetricsErrors(t *testing.T) {
	if m, err := NewMetrics(nil); m != nil || err != nil {
		t.Fatalf("NewMetrics(nil) = %v, %v; want nil, nil", m, err)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "bangbang_ratelimit_decisions_total",
		Help: "Per-merchant rate limit decisions, by limit (action class), result and where they were made.",
	}, []string{"limit", "result", "source"}))
	if m, err := NewMetrics(reg); err == nil {
		t.Fatalf("NewMetrics over a gauge of the same name = %v, want an error", m)
	}
}
