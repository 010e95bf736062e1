package tracing

import (
	"context"

	"github.com/bytedance/gopkg/cloud/metainfo"
	"github.com/cloudwego/kitex/pkg/endpoint"
	"github.com/cloudwego/kitex/pkg/rpcinfo"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// RPCSystemKitex is the rpc.system of spans around Kitex calls.
const RPCSystemKitex = "kitex"

// KitexClient returns a Kitex client middleware giving every call made inside a traced
// request a client span named "Service/Method", and sending its context to the server in
// the call's metainfo (transient values, one hop: W3C traceparent, tracestate, baggage;
// the TTHeader transport carries them). Calls made outside any trace (route renewals,
// drains) are not traced: see ChildOnly.
//
// Errors the middleware sees are transport and framework failures, recorded as span
// errors; a declared Thrift exception (common.IMError) travels in the result and is the
// caller's to judge.
//
// It exists, with KitexServer, because the Kitex OpenTelemetry suite only reads the global
// tracer provider, and a process here has one provider per component.
func KitexClient(tp trace.TracerProvider, prop propagation.TextMapPropagator) endpoint.Middleware {
	tracer := ChildOnly(tp).Tracer(instrumentationName)
	return func(next endpoint.Endpoint) endpoint.Endpoint {
		return func(ctx context.Context, req, resp any) error {
			name, attrs := kitexCall(ctx, true)
			ctx, span := tracer.Start(ctx, name, trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(attrs...))
			if !span.IsRecording() && !span.SpanContext().IsValid() {
				return next(ctx, req, resp)
			}
			defer span.End()
			carrier := propagation.MapCarrier{}
			prop.Inject(ctx, carrier)
			for k, v := range carrier {
				ctx = metainfo.WithValue(ctx, k, v)
			}
			err := next(ctx, req, resp)
			// The balancer picks the node inside next: only now is the address known.
			if ri := rpcinfo.GetRPCInfo(ctx); ri != nil && ri.To() != nil && ri.To().Address() != nil {
				span.SetAttributes(attribute.String("server.address", ri.To().Address().String()))
			}
			endKitexSpan(span, err)
			return err
		}
	}
}

// KitexServer returns a Kitex server middleware giving every call that arrives with a
// trace context (see KitexClient) a server span joining it. A call without one is served
// untraced, for the reason ChildOnly gives.
func KitexServer(tp trace.TracerProvider, prop propagation.TextMapPropagator) endpoint.Middleware {
	tracer := tp.Tracer(instrumentationName)
	return func(next endpoint.Endpoint) endpoint.Endpoint {
		return func(ctx context.Context, req, resp any) error {
			parent := prop.Extract(ctx, metainfoCarrier{ctx})
			if !trace.SpanContextFromContext(parent).IsValid() {
				return next(ctx, req, resp)
			}
			name, attrs := kitexCall(ctx, false)
			ctx, span := tracer.Start(parent, name, trace.WithSpanKind(trace.SpanKindServer), trace.WithAttributes(attrs...))
			defer span.End()
			err := next(ctx, req, resp)
			endKitexSpan(span, err)
			return err
		}
	}
}

// kitexCall names the call of ctx and describes it.
func kitexCall(ctx context.Context, client bool) (string, []attribute.KeyValue) {
	ri := rpcinfo.GetRPCInfo(ctx)
	if ri == nil {
		return "kitex", []attribute.KeyValue{attribute.String("rpc.system", RPCSystemKitex)}
	}
	svc, method := ri.Invocation().ServiceName(), ri.Invocation().MethodName()
	attrs := []attribute.KeyValue{
		attribute.String("rpc.system", RPCSystemKitex),
		attribute.String("rpc.service", svc),
		attribute.String("rpc.method", method),
	}
	if !client && ri.From() != nil && ri.From().Address() != nil {
		attrs = append(attrs, attribute.String("client.address", ri.From().Address().String()))
	}
	return svc + "/" + method, attrs
}

func endKitexSpan(span trace.Span, err error) {
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
	}
}

// metainfoCarrier reads the W3C keys a KitexClient sent.
type metainfoCarrier struct{ ctx context.Context }

func (c metainfoCarrier) Get(key string) string {
	v, _ := metainfo.GetValue(c.ctx, key)
	return v
}

func (c metainfoCarrier) Set(string, string) {}

func (c metainfoCarrier) Keys() []string {
	var keys []string
	metainfo.RangeValues(c.ctx, func(k, _ string) bool {
		keys = append(keys, k)
		return true
	})
	return keys
}
