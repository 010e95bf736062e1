package tracing

import (
	"context"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// TestChildOnly: below an entry point a span continues a trace or is not started at all.
func TestChildOnly(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	child := ChildOnly(tp).Tracer("test")
	if ChildOnly(ChildOnly(tp)) != ChildOnly(tp) {
		t.Error("ChildOnly wraps twice")
	}

	bg := context.Background()
	ctx, span := child.Start(bg, "background")
	if ctx != bg || span.IsRecording() || span.SpanContext().IsValid() {
		t.Error("a span started without a parent")
	}
	span.End()

	parentCtx, parent := tp.Tracer("test").Start(bg, "request")
	_, span = child.Start(parentCtx, "call")
	span.End()
	parent.End()
	ended := rec.Ended()
	if len(ended) != 2 || ended[0].Name() != "call" || ended[0].Parent().SpanID() != parent.SpanContext().SpanID() {
		t.Fatalf("ended spans = %v, want call under request", ended)
	}
}
