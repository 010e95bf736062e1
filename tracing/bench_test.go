package tracing

import (
	"context"
	"testing"

	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
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
