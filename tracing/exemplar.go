package tracing

import (
	"context"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/otel/trace"
)

// Exemplars: a latency observation made inside a sampled trace carries that trace's id,
// {trace_id="<32 hex>"}, on its histogram bucket, so a p99 spike on a dashboard links to
// one trace behind it. Only a sampled trace: the id of an unsampled one leads nowhere.
// Prometheus reads exemplars in the OpenMetrics format only (MetricsHandler).

// exemplarTraceID is the exemplar label naming the trace of an observation.
const exemplarTraceID = "trace_id"

// Observe records v in obs, with an exemplar naming the trace of ctx's span when that
// span is sampled. Latency histograms only: a batch size or a count has no trace to link.
func Observe(ctx context.Context, obs prometheus.Observer, v float64) {
	ObserveSpan(trace.SpanContextFromContext(ctx), obs, v)
}

// ObserveSpan is Observe for a caller that holds the span context rather than a context
// carrying it (a request ended away from its context, a queued job).
func ObserveSpan(sc trace.SpanContext, obs prometheus.Observer, v float64) {
	if eo, ok := obs.(prometheus.ExemplarObserver); ok && sc.IsValid() && sc.IsSampled() {
		eo.ObserveWithExemplar(v, prometheus.Labels{exemplarTraceID: sc.TraceID().String()})
		return
	}
	obs.Observe(v)
}

// MetricsHandler serves g's metrics: the Prometheus text format by default, OpenMetrics,
// which carries the exemplars, to a scraper asking for it (Accept:
// application/openmetrics-text). self, when set, gets the handler's own error counter
// (promhttp_metric_handler_errors_total).
func MetricsHandler(g prometheus.Gatherer, self prometheus.Registerer) http.Handler {
	return promhttp.HandlerFor(g, promhttp.HandlerOpts{Registry: self, EnableOpenMetrics: true})
}
