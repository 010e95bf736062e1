package tracing

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/propagation"
)

// The client passes the trace on in the request's headers without touching the caller's
// request: with a span of its own under a sampled request, with none (and no description
// built) under an unsampled one.
func TestHTTPClientPassesTheTraceOn(t *testing.T) {
	var got http.Header
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got = r.Header.Clone() }))
	defer srv.Close()
	tr := setup(t, Config{ReadSampleRatio: -1})
	tp := tr.Provider("edge")
	described := 0
	cl := &http.Client{Transport: HTTPClient(http.DefaultTransport, ChildOnly(tp), propagation.TraceContext{},
		func(*http.Request) (string, []attribute.KeyValue) { described++; return "soap call", nil })}
	call := func(ctx context.Context) (*http.Request, string) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL, strings.NewReader("<x/>"))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("SOAPAction", "urn:x")
		resp, err := cl.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if req.Header.Get("traceparent") != "" || got.Get("SOAPAction") != "urn:x" {
			t.Errorf("the caller's request was changed (%v), or its headers not sent (%v)", req.Header, got)
		}
		return req, got.Get("traceparent")
	}
	tracer := tp.Tracer("test")

	rctx, read := tracer.Start(context.Background(), "GET /v1/credits", startAttr(TrafficRead)) // left out
	_, tp1 := call(rctx)
	read.End()
	sc := read.SpanContext()
	if want := "00-" + sc.TraceID().String() + "-" + sc.SpanID().String() + "-00"; tp1 != want || described != 0 {
		t.Errorf("under an unsampled read: traceparent %q (want %q), described %d times (want 0)", tp1, want, described)
	}

	pctx, paid := tracer.Start(context.Background(), "POST /v1/listings/:id/promotions", startAttr(TrafficMarketing))
	_, tp2 := call(pctx)
	paid.End()
	parts := strings.Split(tp2, "-")
	if len(parts) != 4 || parts[1] != paid.SpanContext().TraceID().String() || parts[2] == paid.SpanContext().SpanID().String() ||
		parts[3] != "01" || described != 1 {
		t.Errorf("under a sampled action: traceparent %q, described %d times; want the client span's, sampled", tp2, described)
	}
	if tree, ok := tr.Store().Get(paid.SpanContext().TraceID()); !ok || len(tree.Spans) != 1 || len(tree.Spans[0].Children) != 1 ||
		tree.Spans[0].Children[0].SpanID != parts[2] {
		t.Errorf("the client span is not the sent one under the action: %+v", tree)
	}
}
