package partner_test

import (
	"context"
	"net"
	"net/url"
	"strconv"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/bangbang-im/bangbang/soap-clients/partner"
	"github.com/bangbang-im/bangbang/soap-clients/sim"
)

// tracing is a TracerProvider that records every ended span in memory.
func tracing(t *testing.T) (*sdktrace.TracerProvider, *tracetest.SpanRecorder) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	return tp, rec
}

func spansOfKind(rec *tracetest.SpanRecorder, kind trace.SpanKind) []sdktrace.ReadOnlySpan {
	var out []sdktrace.ReadOnlySpan
	for _, s := range rec.Ended() {
		if s.SpanKind() == kind {
			out = append(out, s)
		}
	}
	return out
}

func attrs(s sdktrace.ReadOnlySpan) map[attribute.Key]attribute.Value {
	m := map[attribute.Key]attribute.Value{}
	for _, kv := range s.Attributes() {
		m[kv.Key] = kv.Value
	}
	return m
}

// TestClientSpan: one client span per attempt, named after the SOAP action,
// with the RPC attributes; the sim's server span is its child in the trace
// the caller started.
func TestClientSpan(t *testing.T) {
	tp, rec := tracing(t)
	s := startSim(t, func(c *sim.Config) { c.TracerProvider = tp })
	c, port := newHousing(t, s, func(cfg *partner.Config) { cfg.TracerProvider = tp })
	ctx, parent := tp.Tracer("test").Start(context.Background(), "edge")
	if _, err := refresh(ctx, c, port, "m1001", "Lm1001-01"); err != nil {
		t.Fatal(err)
	}
	parent.End()
	waitFor(t, "the server span", func() bool { return len(spansOfKind(rec, trace.SpanKindServer)) == 1 })

	clients := spansOfKind(rec, trace.SpanKindClient)
	if len(clients) != 1 {
		t.Fatalf("%d client spans, want 1", len(clients))
	}
	cs := clients[0]
	if cs.Name() != "housing/RefreshListing" {
		t.Errorf("client span named %q", cs.Name())
	}
	if cs.Parent().SpanID() != parent.SpanContext().SpanID() || cs.SpanContext().TraceID() != parent.SpanContext().TraceID() {
		t.Errorf("client span is not the caller's child")
	}
	u, _ := url.Parse(s.URL(sim.Housing))
	host, portStr, _ := net.SplitHostPort(u.Host)
	wantPort, _ := strconv.Atoi(portStr)
	a := attrs(cs)
	for k, want := range map[attribute.Key]string{
		"rpc.system":     "soap",
		"rpc.service":    "housing",
		"rpc.method":     "RefreshListing",
		"soap.action":    nsHousing + "/RefreshListing",
		"server.address": host,
	} {
		if got := a[k].AsString(); got != want {
			t.Errorf("client span %s = %q, want %q", k, got, want)
		}
	}
	if got := a["server.port"].AsInt64(); got != int64(wantPort) {
		t.Errorf("server.port = %d, want %d", got, wantPort)
	}
	if cs.Status().Code == codes.Error {
		t.Errorf("client span status %v for a success", cs.Status())
	}

	ss := spansOfKind(rec, trace.SpanKindServer)[0]
	if ss.Parent().SpanID() != cs.SpanContext().SpanID() || ss.SpanContext().TraceID() != cs.SpanContext().TraceID() {
		t.Errorf("server span's parent %v, want the client span %v", ss.Parent(), cs.SpanContext())
	}
}

// TestClientSpanPerAttempt: a retried read has a span per attempt; the
// failed one is an error with the fault's kind.
func TestClientSpanPerAttempt(t *testing.T) {
	tp, rec := tracing(t)
	s := startSim(t)
	if err := s.SetFaults(sim.Housing, sim.Faults{FaultRate: 1}); err != nil {
		t.Fatal(err)
	}
	hook := newHookTransport(t, func(n int) {
		if n == 1 {
			_ = s.SetFaults(sim.Housing, sim.Faults{})
		}
	})
	c, port := newHousing(t, s, func(cfg *partner.Config) {
		cfg.TracerProvider = tp
		cfg.Transport = hook
	})
	ctx, parent := tp.Tracer("test").Start(context.Background(), "edge")
	if _, err := leads(ctx, c, port, "m1001", 5); err != nil {
		t.Fatal(err)
	}
	parent.End()
	clients := spansOfKind(rec, trace.SpanKindClient)
	if len(clients) != 2 {
		t.Fatalf("%d client spans, want 2", len(clients))
	}
	for i, cs := range clients {
		if cs.Name() != "housing/ListLeads" {
			t.Errorf("span %d named %q", i, cs.Name())
		}
		if cs.Parent().SpanID() != parent.SpanContext().SpanID() {
			t.Errorf("span %d is not the caller's child", i)
		}
	}
	// The fault's text is in the span (status and soap.fault.string), and the HTTP
	// 500 it came with does not overwrite it.
	a := attrs(clients[0])
	const want = "soap fault server: soap:Server: service temporarily unavailable"
	if st := clients[0].Status(); st.Code != codes.Error || st.Description != want || a["soap.fault.kind"].AsString() != "server" ||
		a["soap.fault.string"].AsString() != "service temporarily unavailable" || a["http.response.status_code"].AsInt64() != 500 {
		t.Errorf("failed attempt: status %+v, want %q; attributes %v", st, want, clients[0].Attributes())
	}
	if st := clients[1].Status(); st.Code == codes.Error {
		t.Errorf("good attempt: status %v", st)
	}
}

// TestClientSpanFault200: a fault sent with HTTP 200 still marks the span.
func TestClientSpanFault200(t *testing.T) {
	tp, rec := tracing(t)
	s := startSim(t)
	if err := s.SetFaults(sim.Housing, sim.Faults{FaultStatusOK: true}); err != nil {
		t.Fatal(err)
	}
	c, port := newHousing(t, s, func(cfg *partner.Config) { cfg.TracerProvider = tp })
	if _, err := refresh(context.Background(), c, port, "m1001", "Lm1002-01"); err == nil {
		t.Fatal("refresh of another merchant's listing succeeded")
	}
	clients := spansOfKind(rec, trace.SpanKindClient)
	if len(clients) != 1 {
		t.Fatalf("%d client spans, want 1", len(clients))
	}
	a := attrs(clients[0])
	if clients[0].Status().Code != codes.Error || a["soap.fault.kind"].AsString() != "not_owner" ||
		a["http.response.status_code"].AsInt64() != 200 {
		t.Errorf("status %v, attributes %v", clients[0].Status(), clients[0].Attributes())
	}
}

// TestNoTracerProvider: without spans of its own, the client still carries
// the caller's trace context to the third party.
func TestNoTracerProvider(t *testing.T) {
	tp, rec := tracing(t)
	s := startSim(t, func(c *sim.Config) { c.TracerProvider = tp })
	c, port := newHousing(t, s)
	ctx, parent := tp.Tracer("test").Start(context.Background(), "edge")
	if _, err := refresh(ctx, c, port, "m1001", "Lm1001-01"); err != nil {
		t.Fatal(err)
	}
	parent.End()
	waitFor(t, "the server span", func() bool { return len(spansOfKind(rec, trace.SpanKindServer)) == 1 })
	if n := len(spansOfKind(rec, trace.SpanKindClient)); n != 0 {
		t.Errorf("%d client spans without a TracerProvider", n)
	}
	if ss := spansOfKind(rec, trace.SpanKindServer)[0]; ss.Parent().SpanID() != parent.SpanContext().SpanID() {
		t.Errorf("server span's parent %v, want the caller's span", ss.Parent())
	}
}
