package campaign

import (
	"path/filepath"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/bangbang-im/bangbang/core-im/logic"
	"github.com/bangbang-im/bangbang/core-im/router"
	imstore "github.com/bangbang-im/bangbang/core-im/store"
	"github.com/bangbang-im/bangbang/marketing/ratelimit"
	"github.com/bangbang-im/bangbang/tracing"
	"github.com/bangbang-im/bangbang/tracing/metricstest"
)

// Each batch is a trace of its own: a root campaign.batch span, the wait for the cap and
// logic's PushToUsers below it, in the same trace. The metrics count what the stats say.
func TestWorkerTracesAndMeasures(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	t.Cleanup(func() { _ = tp.Shutdown(t.Context()) })

	st, err := imstore.OpenSQLite(t.Context(), filepath.Join(t.TempDir(), "im.db"), imstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	rt := router.NewMemory(router.MemoryOptions{})
	lg := logic.New(logic.Config{TracerProvider: tp}, st, rt, noGateways{}, nil)
	t.Cleanup(func() { lg.Close(); _ = rt.Close(); _ = st.Close() })

	s := openSQLiteT(t)
	ids := seed(t, s, lg, 120)
	reg := prometheus.NewRegistry()
	m, err := NewMetrics(reg, s)
	if err != nil {
		t.Fatal(err)
	}
	c, err := s.CreateCampaign(t.Context(), staff, simpleSpec(ids...))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Start(t.Context(), staff, c.ID); err != nil {
		t.Fatal(err)
	}
	w := NewWorker(WorkerConfig{Owner: "w1", Poll: 20e6, BatchMax: 50, TracerProvider: tp, Metrics: m},
		s, lg, ratelimit.NewLocalPacer(nil), nil)
	w.Start()
	defer stop(t, w)
	waitState(t, s, c.ID, StateFinished)

	spans := rec.Ended()
	byTrace := map[trace.TraceID][]sdktrace.ReadOnlySpan{}
	var batches []sdktrace.ReadOnlySpan
	for _, sp := range spans {
		byTrace[sp.SpanContext().TraceID()] = append(byTrace[sp.SpanContext().TraceID()], sp)
		if sp.Name() == "campaign.batch" {
			batches = append(batches, sp)
		}
	}
	if len(batches) != 3 { // 120 recipients, 50 a batch
		t.Fatalf("%d batch spans, want 3", len(batches))
	}
	for _, b := range batches {
		if b.Parent().IsValid() {
			t.Fatalf("a batch span has a parent: %v", b.Parent())
		}
		attrs := map[string]string{}
		for _, kv := range b.Attributes() {
			attrs[string(kv.Key)] = kv.Value.Emit()
		}
		if attrs["campaign.id"] != c.ID || attrs[string(tracing.AttrTraffic)] != tracing.TrafficCampaign {
			t.Fatalf("batch attributes %v", attrs)
		}
		children := map[string]bool{}
		for _, sp := range byTrace[b.SpanContext().TraceID()] {
			if sp.Parent().SpanID() == b.SpanContext().SpanID() {
				children[sp.Name()] = true
			}
		}
		if !children["campaign.pace"] || !children["logic.PushToUsers"] {
			t.Fatalf("batch %s's children: %v", b.SpanContext().TraceID(), children)
		}
	}

	metricstest.Want(t, reg, map[string]float64{
		`bangbang_campaign_recipients_total{outcome="sent"}`:    120,
		`bangbang_campaign_recipients_total{outcome="failed"}`:  0,
		`bangbang_campaign_recipients_total{outcome="skipped"}`: 0,
		`bangbang_campaign_batches_total{result="ok"}`:          3,
		`bangbang_campaign_batch_seconds{}`:                     3,
		`bangbang_campaigns{state="draft"}`:                     0,
		`bangbang_campaigns{state="scheduled"}`:                 0,
		`bangbang_campaigns{state="running"}`:                   0,
		`bangbang_campaigns{state="paused"}`:                    0,
		`bangbang_campaigns{state="finished"}`:                  1,
		`bangbang_campaigns{state="cancelled"}`:                 0,
	})
	// The rate series of a campaign goes once it is no longer sent here: when the run that
	// recorded the last batch returns, a moment after the store says finished.
	waitFor(t, "the send rate series to go", func() bool {
		return len(metricstest.Series(t, reg, "bangbang_campaign_send_rate")) == 0
	})
}
