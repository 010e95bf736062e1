package tracing

import (
	"context"

	"github.com/bangbang-im/bangbang/core-im/protocol"
	"go.opentelemetry.io/otel/trace"
)

// FrameTrace is the trace context to put in an outgoing IM frame: the span context of
// ctx in binary traceparent form, or nil when ctx carries none. Trace state is not
// carried: frames have room for the traceparent only.
func FrameTrace(ctx context.Context) *protocol.TraceContext {
	sc := trace.SpanContextFromContext(ctx)
	if !sc.IsValid() {
		return nil
	}
	return &protocol.TraceContext{
		TraceID: sc.TraceID(),
		SpanID:  sc.SpanID(),
		Flags:   byte(sc.TraceFlags()),
	}
}

// ContextWithFrameTrace returns ctx carrying the trace context of an incoming frame as a
// remote parent, so the span started for the frame joins the sender's trace. An invalid
// tc (zero ids) leaves ctx unchanged: the span starts a new trace.
func ContextWithFrameTrace(ctx context.Context, tc protocol.TraceContext) context.Context {
	if !tc.Valid() {
		return ctx
	}
	sc := trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: tc.TraceID,
		SpanID:  tc.SpanID,
		// Only the sampled bit has a meaning in traceparent version 00.
		TraceFlags: trace.TraceFlags(tc.Flags) & trace.FlagsSampled,
		Remote:     true,
	})
	return trace.ContextWithRemoteSpanContext(ctx, sc)
}
