package edge

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/bangbang-im/bangbang/soap-clients/partner"
	"github.com/bangbang-im/bangbang/soap-clients/sim"
	"github.com/bangbang-im/bangbang/tracing"
)

// TestMarketingActionIsOneTraceOfTwoHops: a promotion is one trace whose spans are the
// edge's server span, the SOAP client span under it, and the third party's server span
// under that: the two network hops, nothing in between.
func TestMarketingActionIsOneTraceOfTwoHops(t *testing.T) {
	tr, err := tracing.Setup(context.Background(), tracing.Config{Process: "edge-test",
		Env: func(string) string { return "" }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tr.Shutdown(context.Background()) })
	s, err := sim.New(sim.Config{HousingAddr: "127.0.0.1:0", RecruitmentAddr: "127.0.0.1:0", AccountAddr: "127.0.0.1:0",
		TracerProvider: tr.Provider("sim"), Propagators: tr.Propagator()})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = s.Shutdown(ctx)
	})
	h := newHarness(t, options{sim: s, tracer: tr.Provider("edge"), partner: func(_ string, c *partner.Config) {
		c.TracerProvider, c.Propagators = tr.Provider("edge"), tr.Propagator()
	}})

	r := h.do(t, req{method: "POST", path: "/v1/listings/Lm1003-01/promotions", token: h.token("m1003", "merchant"),
		body: `{"days": 2}`, key: "trace-1"})
	if r.status != 200 {
		t.Fatalf("promote: %d %s", r.status, r.body)
	}
	// traceresponse: 00-<trace id>-<span id>-<flags>
	parts := strings.Split(r.header.Get("traceresponse"), "-")
	if len(parts) != 4 {
		t.Fatalf("traceresponse %q", r.header.Get("traceresponse"))
	}
	id, err := trace.TraceIDFromHex(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	// The simulator's span ends after its answer is written: wait for all three.
	var got *tracing.Trace
	deadline := time.Now().Add(5 * time.Second)
	for {
		if tt, ok := tr.Store().Get(id); ok && len(flatten(tt.Spans)) == 3 {
			got = tt
			break
		}
		if time.Now().After(deadline) {
			tt, _ := tr.Store().Get(id)
			t.Fatalf("trace %s after 5s: %+v", id, tt)
		}
		time.Sleep(10 * time.Millisecond) // polling the store, not synchronising
	}
	if len(got.Spans) != 1 {
		t.Fatalf("%d root spans, want the edge's alone", len(got.Spans))
	}
	root := got.Spans[0]
	if root.Service != "edge" || root.Name != "POST /v1/listings/:id/promotions" || root.Kind != "server" {
		t.Fatalf("root span: %s %q %s", root.Service, root.Name, root.Kind)
	}
	if len(root.Children) != 1 || root.Children[0].Name != "housing/PromoteListing" || root.Children[0].Kind != "client" {
		t.Fatalf("under the edge span: %+v", root.Children)
	}
	soapSpan := root.Children[0]
	if len(soapSpan.Children) != 1 || soapSpan.Children[0].Service != "sim" || soapSpan.Children[0].Kind != "server" {
		t.Fatalf("under the SOAP client span: %+v", soapSpan.Children)
	}
	if sum := tr.Store().List(tracing.Query{User: "m1003"}); len(sum) != 1 || sum[0].TraceID != id.String() {
		t.Fatalf("traces of m1003: %+v", sum)
	}

	// An error body names its trace, the one traceresponse names.
	bad := h.do(t, req{method: "POST", path: "/v1/listings/Lm1004-01/refresh", token: h.token("m1003", "merchant")})
	var e errorBody
	if err := json.Unmarshal(bad.body, &e); err != nil || bad.status != 403 || e.TraceID == "" ||
		!strings.Contains(bad.header.Get("traceresponse"), e.TraceID) {
		t.Fatalf("error %d %s, traceresponse %q", bad.status, bad.body, bad.header.Get("traceresponse"))
	}
}

func flatten(ns []*tracing.Node) []*tracing.Node {
	var out []*tracing.Node
	for _, n := range ns {
		out = append(out, n)
		out = append(out, flatten(n.Children)...)
	}
	return out
}
