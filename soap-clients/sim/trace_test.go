package sim

import (
	"context"
	"sync"
	"testing"

	"github.com/bangbang-im/bangbang/gen/soap/housing"
	"github.com/hooklift/gowsdl/soap"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/embedded"
	"go.opentelemetry.io/otel/trace/noop"
)

// spanRecorder is the smallest TracerProvider that remembers the spans
// started through it: their name, kind, parent and attributes.
type spanRecorder struct {
	embedded.TracerProvider
	mu    sync.Mutex
	spans []*recordedSpan
}

type recordedSpan struct {
	noop.Span
	rec    *spanRecorder
	name   string
	kind   trace.SpanKind
	parent trace.SpanContext
	sc     trace.SpanContext
	attrs  map[attribute.Key]string
	ended  bool
}

type recordingTracer struct {
	embedded.Tracer
	rec *spanRecorder
}

func (r *spanRecorder) Tracer(string, ...trace.TracerOption) trace.Tracer {
	return recordingTracer{rec: r}
}

func (t recordingTracer) Start(ctx context.Context, name string, opts ...trace.SpanStartOption) (context.Context, trace.Span) {
	cfg := trace.NewSpanStartConfig(opts...)
	parent := trace.SpanContextFromContext(ctx)
	sp := &recordedSpan{
		rec: t.rec, name: name, kind: cfg.SpanKind(), parent: parent, attrs: map[attribute.Key]string{},
		sc: trace.NewSpanContext(trace.SpanContextConfig{
			TraceID: parent.TraceID(), SpanID: trace.SpanID{0xb, 0xa, 0xd, 0xc, 0x0, 0xf, 0xf, 0xe}, TraceFlags: parent.TraceFlags(),
		}),
	}
	sp.SetAttributes(cfg.Attributes()...)
	t.rec.mu.Lock()
	t.rec.spans = append(t.rec.spans, sp)
	t.rec.mu.Unlock()
	return trace.ContextWithSpan(ctx, sp), sp
}

func (s *recordedSpan) SpanContext() trace.SpanContext { return s.sc }
func (s *recordedSpan) IsRecording() bool              { return true }
func (s *recordedSpan) SetName(name string) {
	s.rec.mu.Lock()
	defer s.rec.mu.Unlock()
	s.name = name
}
func (s *recordedSpan) SetAttributes(kvs ...attribute.KeyValue) {
	s.rec.mu.Lock()
	defer s.rec.mu.Unlock()
	for _, kv := range kvs {
		s.attrs[kv.Key] = kv.Value.Emit()
	}
}
func (s *recordedSpan) End(...trace.SpanEndOption) {
	s.rec.mu.Lock()
	defer s.rec.mu.Unlock()
	s.ended = true
}

// TestServerSpanJoinsCallerTrace: with a TracerProvider, each call gets a
// server span whose parent is the caller's span from the W3C traceparent.
func TestServerSpanJoinsCallerTrace(t *testing.T) {
	rec := &spanRecorder{}
	s := startSim(t, func(c *Config) { c.TracerProvider = rec })
	const traceID, spanID = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
	client := soapClient(t, s, Housing, soap.WithHTTPHeaders(map[string]string{"traceparent": "00-" + traceID + "-" + spanID + "-01"}))
	if _, err := housing.NewHousingPortType(client).RefreshListingContext(context.Background(),
		&housing.RefreshListing{MerchantId: "m1001", ListingId: "Lm1001-01"}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the server span to end", func() bool {
		rec.mu.Lock()
		defer rec.mu.Unlock()
		return len(rec.spans) == 1 && rec.spans[0].ended
	})
	rec.mu.Lock()
	defer rec.mu.Unlock()
	sp := rec.spans[0]
	if sp.parent.TraceID().String() != traceID || sp.parent.SpanID().String() != spanID || !sp.parent.IsRemote() {
		t.Errorf("parent %v, want the caller's span", sp.parent)
	}
	if sp.kind != trace.SpanKindServer || sp.name != "POST /soap/housing/v1" {
		t.Errorf("span %q of kind %v", sp.name, sp.kind)
	}
	for k, want := range map[attribute.Key]string{
		"rpc.service": "HousingService",
		"rpc.method":  "RefreshListing",
		"soap.action": "urn:bangbang:partner:housing:v1/RefreshListing",
	} {
		if sp.attrs[k] != want {
			t.Errorf("attribute %s = %q, want %q", k, sp.attrs[k], want)
		}
	}
}
