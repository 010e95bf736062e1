package tracing

import (
	"context"

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
	if !trace.SpanContextFromContext(ctx).IsValid() {
		return ctx, trace.SpanFromContext(ctx) // a no-op span
	}
	return t.t.Start(ctx, name, opts...)
}
