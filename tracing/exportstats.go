package tracing

import (
	"context"
	"log/slog"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// exportStats counts what the OTLP exporter did with the spans handed to it, and the
// spans refused because its queue was full.
type exportStats struct {
	exported, failed, dropped atomic.Uint64
	queued                    atomic.Int64 // handed to the batcher, not yet exported or failed
}

// queueBound sits in front of the batch processor and refuses a span, counting it as
// dropped, when max spans are already waiting for the exporter (queued or in the batch
// being sent). The batcher's own queue holds max spans too, so it never drops one
// itself: the SDK's batcher counts its drops where no metric can read them.
type queueBound struct {
	sdktrace.SpanProcessor
	max   int64
	stats *exportStats
}

func (q queueBound) OnEnd(s sdktrace.ReadOnlySpan) {
	if q.stats.queued.Add(1) > q.max {
		q.stats.queued.Add(-1)
		q.stats.dropped.Add(1)
		return
	}
	q.SpanProcessor.OnEnd(s)
}

// countingExporter counts each batch's spans as exported or failed; the batch processor
// above it reports the failure to OpenTelemetry's error handler, which logs it.
type countingExporter struct {
	sdktrace.SpanExporter
	stats *exportStats
}

func (e countingExporter) ExportSpans(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	err := e.SpanExporter.ExportSpans(ctx, spans)
	e.stats.queued.Add(-int64(len(spans)))
	if err != nil {
		e.stats.failed.Add(uint64(len(spans)))
	} else {
		e.stats.exported.Add(uint64(len(spans)))
	}
	return err
}

var descExported = prometheus.NewDesc("bangbang_tracing_exported_spans_total",
	"Spans for the OTLP exporter, by result: exported; failed (the collector refused them or could not be reached); dropped (the export queue was full). Failed and dropped spans are lost.",
	[]string{"result"}, nil)

type statsCollector struct {
	s     *exportStats
	store *Store // nil without a store
}

func (c statsCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descExported
	if c.store != nil {
		c.store.Collector().Describe(ch)
	}
}

func (c statsCollector) Collect(ch chan<- prometheus.Metric) {
	ch <- prometheus.MustNewConstMetric(descExported, prometheus.CounterValue, float64(c.s.exported.Load()), "exported")
	ch <- prometheus.MustNewConstMetric(descExported, prometheus.CounterValue, float64(c.s.failed.Load()), "failed")
	ch <- prometheus.MustNewConstMetric(descExported, prometheus.CounterValue, float64(c.s.dropped.Load()), "dropped")
	if c.store != nil {
		c.store.Collector().Collect(ch)
	}
}

// Collector exports the tracing pipeline's own counts:
//
//	bangbang_tracing_exported_spans_total{result}  counter: exported, failed, dropped (OTLP only; 0 without an exporter)
//
// and, when the process has an embedded store, the store's (Store.Collector).
func (t *Tracing) Collector() prometheus.Collector { return statsCollector{t.stats, t.store} }

// logErrors sends OpenTelemetry's internal errors (an export that failed, a dropped batch)
// to log, as JSON lines like every other, instead of the standard logger's plain text.
// The handler is process-wide: the last Setup's logger wins.
func logErrors(log *slog.Logger) {
	otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) {
		log.Warn("opentelemetry: export or processing failed", "err", err)
	}))
}
