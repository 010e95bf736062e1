package tracing

import (
	"context"
	"encoding/hex"
	"net/http"
	"time"

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
	classes := newClassOptions(traffic)
	return func(ctx context.Context, c *app.RequestContext) {
		parent := prop.Extract(ctx, hertzCarrier{&c.Request.Header})
		method := string(c.Method())
		route := c.FullPath()
		name := method + " " + route
		if route == "" {
			name = method // unmatched: the raw path would make one name per URL
		}
		// The sampler reads the traffic class; the rest describes a span that is kept, so
		// a span the sampler drops (an unsampled read) never builds it.
		class := classes.of(method)
		start := time.Now()
		ctx, span := tracer.Start(parent, name, serverKind, class)
		defer func() { span.End() }() // the late span, when there is one
		if span.IsRecording() {
			describeRequest(span, method, route, c)
		}
		sc := span.SpanContext()
		if sc.IsValid() {
			c.Header("traceresponse", traceResponse(sc))
			c.Set(hertzSpanContextKey, sc) // for HertzTraceID and HTTPMetrics' exemplars
		}
		c.Next(ctx)
		status := c.Response.StatusCode()
		if !span.IsRecording() && sc.IsValid() && status >= http.StatusInternalServerError {
			// Dropped when the request came (a read the ratio left out), and it failed: the
			// late span, with the ids the answer gave and the request's start, is what
			// keeps the error (the sampler records it as any unsampled entry span).
			_, span = tracer.Start(lateSpanContext(parent, sc), name, serverKind, trace.WithTimestamp(start), class)
			describeRequest(span, method, route, c)
		}
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

// describeRequest gives a kept server span the request's method, route and path.
func describeRequest(span trace.Span, method, route string, c *app.RequestContext) {
	span.SetAttributes(
		attribute.String("http.request.method", method),
		attribute.String("http.route", route),
		attribute.String("url.path", string(c.Request.URI().Path())))
}

// serverKind is the option of every server span, made once.
var serverKind = trace.WithSpanKind(trace.SpanKindServer)

// classOptions are the start options carrying each standard HTTP method's traffic class,
// made once when the middleware is, and read without a lock; another method (which no
// route serves) gets its option made on the request.
type classOptions struct {
	traffic TrafficOf
	byVerb  map[string]trace.SpanStartEventOption
}

func newClassOptions(traffic TrafficOf) classOptions {
	o := classOptions{traffic: traffic, byVerb: map[string]trace.SpanStartEventOption{}}
	for _, m := range []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions} {
		o.byVerb[m] = trace.WithAttributes(AttrTraffic.String(traffic(m)))
	}
	return o
}

func (o classOptions) of(method string) trace.SpanStartEventOption {
	if opt, ok := o.byVerb[method]; ok {
		return opt
	}
	return trace.WithAttributes(AttrTraffic.String(o.traffic(method)))
}

// traceResponse is the W3C traceresponse header of sc, formatted in one allocation.
func traceResponse(sc trace.SpanContext) string {
	var b [55]byte // "00-" 32 "-" 16 "-" 2
	tid, sid := sc.TraceID(), sc.SpanID()
	copy(b[:], "00-")
	hex.Encode(b[3:35], tid[:])
	b[35] = '-'
	hex.Encode(b[36:52], sid[:])
	b[52] = '-'
	hex.Encode(b[53:55], []byte{byte(sc.TraceFlags())})
	return string(b[:])
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
