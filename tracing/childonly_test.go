package tracing

import (
	"context"
	"testing"

	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
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

	// Under an unsampled local parent nothing starts, and nothing done to the stand-in
	// reaches the parent; under an unsampled remote parent (an entry) a span starts.
	rec2 := tracetest.NewSpanRecorder()
	unsampled := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec2),
		sdktrace.WithSampler(newSampler(0, 0, false))) // the default sampler, no chat or read sampled

	t.Cleanup(func() { _ = unsampled.Shutdown(context.Background()) })
	entryCtx, entry := unsampled.Tracer("test").Start(bg, "entry", chatAttr())
	if !entry.IsRecording() || entry.SpanContext().IsSampled() {
		t.Fatal("test sampler: want a recording, unsampled entry")
	}
	ctx, span = ChildOnly(unsampled).Tracer("test").Start(entryCtx, "store.Append")
	if ctx != entryCtx || span.IsRecording() || !span.SpanContext().Equal(entry.SpanContext()) {
		t.Error("a child of an unsampled local span was started")
	}
	span.SetStatus(codes.Error, "child only")
	span.End()
	entry.End()
	if got := rec2.Ended(); len(got) != 1 || got[0].Status().Code == codes.Error {
		t.Errorf("ended = %v: want the entry alone, its status untouched by the stand-in", got)
	}
	remote := trace.ContextWithRemoteSpanContext(bg, entry.SpanContext())
	_, span = ChildOnly(unsampled).Tracer("test").Start(remote, "LogicService/Send")
	if !span.IsRecording() {
		t.Error("no span under an unsampled remote parent")
	}
	span.End()
}
