package tracing

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.opentelemetry.io/otel/trace"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/bangbang-im/bangbang/tracing/metricstest"
)

// storeSeries is every series of the store's collector with the given values.
func storeSeries(accepted, rejected, bytes, maxBytes, traces, spans, evicted, dropped float64) map[string]float64 {
	return map[string]float64{
		`bangbang_tracing_ingested_spans_total{result="accepted"}`: accepted,
		`bangbang_tracing_ingested_spans_total{result="rejected"}`: rejected,
		`bangbang_tracing_store_bytes{}`:                           bytes,
		`bangbang_tracing_store_max_bytes{}`:                       maxBytes,
		`bangbang_tracing_store_traces{}`:                          traces,
		`bangbang_tracing_store_spans{}`:                           spans,
		`bangbang_tracing_store_evicted_traces_total{}`:            evicted,
		`bangbang_tracing_store_dropped_spans_total{}`:             dropped,
	}
}

func TestStoreCollector(t *testing.T) {
	const bound, traceSize = 8 << 10, 2 << 10 // four traces fill the store
	s := NewStore(bound)
	reg := prometheus.NewRegistry()
	reg.MustRegister(s.Collector())
	if problems, err := testutil.GatherAndLint(reg); err != nil || len(problems) > 0 {
		t.Fatalf("promlint: %v %+v", err, problems)
	}
	metricstest.Want(t, reg, storeSeries(0, 0, 0, bound, 0, 0, 0, 0))

	// Two spans accepted, one rejected (zero trace id), under a resource service.name=logic.
	req := &coltracepb.ExportTraceServiceRequest{}
	if err := proto.Unmarshal(validRequest(t), req); err != nil {
		t.Fatal(err)
	}
	s.Ingest(req)
	ingested := s.traces[trace.TraceID{1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}]
	bytes := int64(resourceOverhead + attrOverhead + len("service.name") + len("logic"))
	for _, r := range ingested.spans {
		bytes += r.size
	}
	metricstest.Want(t, reg, storeSeries(2, 1, float64(bytes), bound, 1, 2, 0, 0))

	// Four traces of a quarter of the bound each: the ingested one, the oldest, goes.
	for i := range 4 {
		s.addAll([]*record{bigTrace(uint16(i), traceSize)})
	}
	metricstest.Want(t, reg, storeSeries(2, 1, bound, bound, 4, 4, 1, 0))

	// A second span for a trace at the per-trace bound is dropped.
	more := bigTrace(3, traceSize)
	more.spanID = trace.SpanID{7: 2}
	s.addAll([]*record{more})
	metricstest.Want(t, reg, storeSeries(2, 1, bound, bound, 4, 4, 1, 1))
}

// Tracing.Collector carries the store's metrics when there is a store, so the process
// registers one collector.
func TestTracingCollectorIncludesStore(t *testing.T) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(setup(t, Config{StoreBytes: 1 << 20}).Collector())
	if problems, err := testutil.GatherAndLint(reg); err != nil || len(problems) > 0 {
		t.Fatalf("promlint: %v %+v", err, problems)
	}
	want := storeSeries(0, 0, 0, 1<<20, 0, 0, 0, 0)
	want[`bangbang_tracing_exported_spans_total{result="exported"}`] = 0
	want[`bangbang_tracing_exported_spans_total{result="failed"}`] = 0
	want[`bangbang_tracing_exported_spans_total{result="dropped"}`] = 0
	metricstest.Want(t, reg, want)

	reg = prometheus.NewRegistry()
	reg.MustRegister(setup(t, Config{StoreBytes: -1}).Collector())
	if got := metricstest.Series(t, reg, "bangbang_tracing_store_bytes"); len(got) != 0 {
		t.Errorf("without a store: %v", got)
	}
}
