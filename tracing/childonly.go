package tracing

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"

	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/embedded"
)

// ChildOnly returns tp restricted to spans that continue a trace: a Start under a context
// holding no valid span context starts nothing and returns the context unchanged.
//
// It is for instrumentation below the entry points (the Kitex client, pgx, Redis, the
// gateway's push delivery): a call made for a traced request joins its trace, while
// background work (route renewals, batch commits) does not open a root span of its own,
// which the sampler would keep, one trace per heartbeat.
//
// Nor does it start a span under a local parent that is not sampled: the sampler would
// drop it (every parent-based sampler does), and making the dropped span still costs an
// allocation or two, on every hop of nine requests in ten. The parent stands in for it.
// A remote parent (a span context from a frame or an RPC) is an entry point: a span
// starts, and the sampler decides.
func ChildOnly(tp trace.TracerProvider) trace.TracerProvider {
	if c, ok := tp.(childOnlyProvider); ok {
		return c
	}
	return childOnlyProvider{tp: tp}
}

type childOnlyProvider struct {
	embedded.TracerProvider
	tp trace.TracerProvider
}

func (p childOnlyProvider) Tracer(name string, opts ...trace.TracerOption) trace.Tracer {
	return childOnlyTracer{t: p.tp.Tracer(name, opts...)}
}

type childOnlyTracer struct {
	embedded.Tracer
	t trace.Tracer
}

func (t childOnlyTracer) Start(ctx context.Context, name string, opts ...trace.SpanStartOption) (context.Context, trace.Span) {
	switch sc := trace.SpanContextFromContext(ctx); {
	case !sc.IsValid():
		return ctx, trace.SpanFromContext(ctx) // a no-op span
	case !sc.IsSampled() && !sc.IsRemote():
		return ctx, nonRecording{trace.SpanFromContext(ctx)}
	}
	return t.t.Start(ctx, name, opts...)
}

// startsNothing reports whether Start under ctx would start no span, so a caller can
// skip describing it.
func (t childOnlyTracer) startsNothing(ctx context.Context) bool {
	sc := trace.SpanContextFromContext(ctx)
	return !sc.IsValid() || !sc.IsSampled() && !sc.IsRemote()
}

// nonRecording is the unsampled parent standing in for a child that was not started: the
// caller's End, attributes and status must not reach the parent, which may still be
// recording (an entry span keeps errors of unsampled traces).
type nonRecording struct{ trace.Span }

func (nonRecording) End(...trace.SpanEndOption)              {}
func (nonRecording) IsRecording() bool                       { return false }
func (nonRecording) SetStatus(codes.Code, string)            {}
func (nonRecording) SetAttributes(...attribute.KeyValue)     {}
func (nonRecording) AddEvent(string, ...trace.EventOption)   {}
func (nonRecording) AddLink(trace.Link)                      {}
func (nonRecording) RecordError(error, ...trace.EventOption) {}
func (nonRecording) SetName(string)                          {}
