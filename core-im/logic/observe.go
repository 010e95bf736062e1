package logic

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/bangbang-im/bangbang/gen/common"
	"github.com/bangbang-im/bangbang/tracing"
)

const instrumentationName = "github.com/bangbang-im/bangbang/core-im/logic"

// Metrics are the logic layer's Prometheus metrics; a nil *Metrics records nothing.
type Metrics struct {
	calls        *prometheus.HistogramVec // method, outcome
	pushes       *prometheus.HistogramVec // result
	retries      *prometheus.CounterVec   // result
	retryPending prometheus.Gauge
}

// NewMetrics registers the logic metrics with reg:
//
//	bangbang_logic_call_duration_seconds{method, outcome}  histogram: Send, Sync, Ack, Read, Connect, PushToUsers, ...; outcome ok or the ErrorCode
//	bangbang_logic_push_duration_seconds{result}          histogram: from the message stored to the gateways' answer; result delivered, offline, failed
//	bangbang_logic_push_retries_total{result}             counter: scheduled (a failed push queued for a retry), delivered (a retry that reached the gateways), abandoned (retried past PushRetryFor), overflow (retry set full)
//	bangbang_logic_push_retry_pending                     gauge: users with a push waiting for a retry
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	calls, err := tracing.Register(reg, prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "bangbang_logic_call_duration_seconds",
		Help:    "Time of one logic call, by method and outcome.",
		Buckets: tracing.LatencyBuckets,
	}, []string{"method", "outcome"}))
	if err != nil {
		return nil, err
	}
	pushes, err := tracing.Register(reg, prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "bangbang_logic_push_duration_seconds",
		Help:    "Time from a push queued (message stored) to the gateways' answer, by result.",
		Buckets: tracing.LatencyBuckets,
	}, []string{"result"}))
	if err != nil {
		return nil, err
	}
	retries, err := tracing.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "bangbang_logic_push_retries_total",
		Help: "Retries of failed message pushes, by result: scheduled, delivered, abandoned, overflow.",
	}, []string{"result"}))
	if err != nil {
		return nil, err
	}
	pending, err := tracing.Register(reg, prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "bangbang_logic_push_retry_pending",
		Help: "Users with a failed push waiting for its retry.",
	}))
	if err != nil {
		return nil, err
	}
	return &Metrics{calls: calls, pushes: pushes, retries: retries, retryPending: pending}, nil
}

// observe starts the span of one logic call (inside a trace only: the caller's request
// span, or the Kitex server span carrying it) and returns the function that ends it with
// the call's error.
func (s *Service) observe(ctx context.Context, method, user string) (context.Context, func(error)) {
	start := time.Now()
	ctx, span := s.tracer.Start(ctx, "logic."+method, trace.WithAttributes(tracing.AttrUser.String(user)))
	return ctx, func(err error) {
		outcome := "ok"
		if err != nil {
			code := Code(err)
			outcome = code.String()
			span.SetAttributes(attribute.String("bangbang.im.error", outcome))
			if code == common.ErrorCode_INTERNAL || code == common.ErrorCode_UNAVAILABLE {
				span.SetStatus(codes.Error, err.Error())
			}
		}
		span.End()
		if s.metrics != nil {
			tracing.Observe(ctx, s.metrics.calls.WithLabelValues(method, outcome), time.Since(start).Seconds())
		}
	}
}

// observePush ends the accounting of one push job that reached devices gateways.
func (s *Service) observePush(j pushJob, devices int, failed bool) {
	if s.metrics == nil || j.queued.IsZero() {
		return
	}
	result := "delivered"
	switch {
	case failed:
		result = "failed"
	case devices == 0:
		result = "offline"
	}
	tracing.ObserveSpan(j.parent, s.metrics.pushes.WithLabelValues(result), time.Since(j.queued).Seconds())
}
