package tracing

import (
	"context"
	"testing"

	"github.com/cloudwego/hertz/pkg/app"
	"github.com/cloudwego/hertz/pkg/app/server"
	"github.com/cloudwego/hertz/pkg/common/ut"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// Each benchmark starts and ends one root span with two attributes, as the IM path does
// per message; the difference between them is the price of a sampling decision.

// BenchmarkSpanChatUnsampled: a chat span not sampled, still recorded (RecordOnly) so an
// error in it can be kept. The default for 90% of chat messages.
func BenchmarkSpanChatUnsampled(b *testing.B) {
	benchSpan(b, Config{ChatSampleRatio: -1}, chatAttr())
}

// BenchmarkSpanChatDropped: the same span with Config.DropUnsampled (a no-op span), the
// floor that keeping errors is measured against.
func BenchmarkSpanChatDropped(b *testing.B) {
	benchSpan(b, Config{ChatSampleRatio: -1, DropUnsampled: true}, chatAttr())
}

// BenchmarkSpanSampled: a sampled span, stored in the embedded store (which evicts as
// the benchmark fills it).
func BenchmarkSpanSampled(b *testing.B) {
	benchSpan(b, Config{}, trace.WithAttributes(AttrTraffic.String(TrafficMarketing)))
}

// BenchmarkSpanUnsampledError: an unsampled span ending in error, kept for it.
func BenchmarkSpanUnsampledError(b *testing.B) {
	tr := setup(b, Config{ChatSampleRatio: -1})
	tracer := tr.Provider("gateway").Tracer("bench")
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		_, span := tracer.Start(ctx, "im.send", chatAttr(), trace.WithAttributes(AttrUser.String("m1001")))
		span.SetStatus(codes.Error, "failed")
		span.End()
	}
}

func benchSpan(b *testing.B, cfg Config, attrs trace.SpanStartEventOption) {
	tr := setup(b, cfg)
	tracer := tr.Provider("gateway").Tracer("bench")
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		_, span := tracer.Start(ctx, "im.send", attrs, trace.WithAttributes(AttrUser.String("m1001")))
		span.End()
	}
}

// The edge's middleware on a read answered at once (ut.PerformRequest, no network): what
// the entry span costs a request, per sampling outcome, against a no-op provider.
func BenchmarkHertzReadOff(b *testing.B) { benchHertzRead(b, nil, 200) }

// BenchmarkHertzReadUnsampled: a read the ratio leaves out, answered well: nine in ten.
func BenchmarkHertzReadUnsampled(b *testing.B) {
	benchHertzRead(b, setup(b, Config{ReadSampleRatio: -1, StoreBytes: -1}), 200)
}

// BenchmarkHertzReadUnsampledFailed: the same read answered 502, kept for its error.
func BenchmarkHertzReadUnsampledFailed(b *testing.B) {
	benchHertzRead(b, setup(b, Config{ReadSampleRatio: -1}), 502)
}

// BenchmarkHertzReadSampled: a read kept, into the embedded store.
func BenchmarkHertzReadSampled(b *testing.B) {
	benchHertzRead(b, setup(b, Config{ReadSampleRatio: 1}), 200)
}

func benchHertzRead(b *testing.B, tr *Tracing, status int) {
	var tp trace.TracerProvider = noop.NewTracerProvider()
	if tr != nil {
		tp = tr.Provider("edge")
	}
	h := server.New(server.WithDisablePrintRoute(true))
	h.Use(HertzServer(tp, propagation.TraceContext{}, MarketingTraffic))
	h.GET("/v1/credits", func(_ context.Context, c *app.RequestContext) { c.SetStatusCode(status) })
	b.ReportAllocs()
	for b.Loop() {
		ut.PerformRequest(h.Engine, "GET", "http://example.com/v1/credits", nil)
	}
}
