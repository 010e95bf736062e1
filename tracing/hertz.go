package tracing

import (
	"context"
	"net/http"

	"github.com/cloudwego/hertz/pkg/app"
	"github.com/cloudwego/hertz/pkg/protocol"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// HertzServer returns a Hertz middleware giving every request a server span from tp,
// joining the caller's trace when it sends a W3C traceparent. The span is named after the
// route pattern ("POST /v1/listings/:id/promotions"), not the raw path, so one operation is
// one name; the response carries a W3C traceresponse header so whoever reports a problem
// can name the trace. traffic classifies the request for the sampler (Always(TrafficAdmin),
// MarketingTraffic).
//
// It exists because the Hertz OpenTelemetry suite only reads the global tracer provider,
// and a process here has one provider per component.
func HertzServer(tp trace.TracerProvider, prop propagation.TextMapPropagator, traffic TrafficOf) app.HandlerFunc {
	tracer := tp.Tracer(instrumentationName)
	return func(ctx context.Context, c *app.RequestContext) {
		ctx = prop.Extract(ctx, hertzCarrier{&c.Request.Header})
		method := string(c.Method())
		route := c.FullPath()
		name := method + " " + route
		if route == "" {
			name = method // unmatched: the raw path would make one name per URL
		}
		ctx, span := tracer.Start(ctx, name, trace.WithSpanKind(trace.SpanKindServer),
			trace.WithAttributes(
				attribute.String("http.request.method", method),
				attribute.String("http.route", route),
				attribute.String("url.path", string(c.Request.URI().Path())),
				AttrTraffic.String(traffic(method)),
			))
		defer span.End()
		if sc := span.SpanContext(); sc.IsValid() {
			c.Header("traceresponse", "00-"+sc.TraceID().String()+"-"+sc.SpanID().String()+"-"+sc.TraceFlags().String())
			c.Set(hertzSpanContextKey, sc) // for HertzTraceID and HTTPMetrics' exemplars
		}
		c.Next(ctx)
		status := c.Response.StatusCode()
		// An unsampled span that ends well is thrown away: describing it is wasted work
		// (a tenth of the edge's tracing cost on a read).
		if status >= http.StatusInternalServerError {
			span.SetAttributes(attribute.Int("http.response.status_code", status))
			span.SetStatus(codes.Error, http.StatusText(status))
		} else if span.SpanContext().IsSampled() {
			span.SetAttributes(attribute.Int("http.response.status_code", status))
		}
	}
}

// HertzTraceID is the trace id of the request's server span (HertzServer), for handlers
// that put it in error bodies; "" when the request is not traced. It is formatted here,
// on the rare answer that needs it, not for every request.
func HertzTraceID(c *app.RequestContext) string {
	if sc, ok := c.Value(hertzSpanContextKey).(trace.SpanContext); ok && sc.IsValid() {
		return sc.TraceID().String()
	}
	return ""
}

// hertzSpanContextKey is the RequestContext key under which HertzServer leaves the
// request's span context.
const hertzSpanContextKey = "bangbang.span_context"

// instrumentationName names this package's tracers.
const instrumentationName = "github.com/bangbang-im/bangbang/tracing"

// hertzCarrier reads and writes W3C headers on a Hertz request.
type hertzCarrier struct{ h *protocol.RequestHeader }

func (c hertzCarrier) Get(key string) string { return string(c.h.Peek(key)) }
func (c hertzCarrier) Set(key, value string) { c.h.Set(key, value) }
func (c hertzCarrier) Keys() []string {
	var keys []string
	c.h.VisitAll(func(k, _ []byte) { keys = append(keys, string(k)) })
	return keys
}
