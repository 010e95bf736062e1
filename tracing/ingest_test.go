package tracing

import (
	"bytes"
	"compress/gzip"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	resourcepb "go.opentelemetry.io/proto/otlp/resource/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"
)

// Another process exports with the SDK's own OTLP/HTTP exporter to this store's ingest
// endpoint; the store assembles its spans with attributes, status and events intact.
func TestIngestFromSDKExporter(t *testing.T) {
	for _, compression := range []string{"none", "gzip"} {
		t.Run(compression, func(t *testing.T) {
			store := NewStore(0)
			srv := httptest.NewServer(store.IngestHandler())
			t.Cleanup(srv.Close)
			other := setup(t, Config{Process: "bangbang-sim", StoreBytes: -1, Env: env(map[string]string{
				"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": srv.URL + "/v1/traces",
				"OTEL_EXPORTER_OTLP_COMPRESSION":     compression,
			})})
			tracer := other.Provider("sim").Tracer("test")
			ctx, root := tracer.Start(context.Background(), "RefreshListing", trace.WithSpanKind(trace.SpanKindServer),
				trace.WithAttributes(
					attribute.String("soap.action", "RefreshListing"),
					attribute.Int("http.response.status_code", 500),
					attribute.Bool("retry", true),
					attribute.StringSlice("tags", []string{"a", "b"}),
					AttrUser.String("m1001"),
				))
			_, child := tracer.Start(ctx, "db.query")
			child.AddEvent("row locked", trace.WithAttributes(attribute.Int("rows", 3)))
			child.End()
			root.SetStatus(codes.Error, "listing not found")
			root.End()
			shutdown(t, other)

			got, ok := store.Get(root.SpanContext().TraceID())
			if !ok {
				t.Fatal("exported trace not in the store")
			}
			if got.RootService != "sim" || got.SpanCount != 2 || !got.Error {
				t.Fatalf("summary %+v", got.TraceSummary)
			}
			r := got.Spans[0]
			want := map[string]any{"soap.action": "RefreshListing", "http.response.status_code": int64(500),
				"retry": true, "bangbang.user": "m1001"}
			for k, v := range want {
				if r.Attributes[k] != v {
					t.Errorf("attribute %s = %#v, want %#v", k, r.Attributes[k], v)
				}
			}
			if tags, _ := r.Attributes["tags"].([]any); len(tags) != 2 || tags[0] != "a" {
				t.Errorf("tags = %#v", r.Attributes["tags"])
			}
			if r.Kind != "server" || r.Status != "error" || r.StatusMessage != "listing not found" {
				t.Errorf("root kind %s status %s %q", r.Kind, r.Status, r.StatusMessage)
			}
			if len(r.Children) != 1 || len(r.Children[0].Events) != 1 || r.Children[0].Events[0].Name != "row locked" {
				t.Fatalf("child %+v: want one span with its event", r.Children)
			}
			if n := len(store.List(Query{User: "m1001", ErrorOnly: true})); n != 1 {
				t.Errorf("filters find %d ingested traces, want 1", n)
			}
		})
	}
}

func post(t testing.TB, h http.Handler, contentType, encoding string, body []byte) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/v1/traces", bytes.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	if encoding != "" {
		req.Header.Set("Content-Encoding", encoding)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}

func gzipped(b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, _ = zw.Write(b)
	_ = zw.Close()
	return buf.Bytes()
}

func TestIngestRefusesBadRequests(t *testing.T) {
	store := NewStore(0)
	h := store.IngestHandler()
	huge := bytes.Repeat([]byte{0}, MaxIngestBody+1)
	for _, tc := range []struct {
		name, contentType, encoding string
		body                        []byte
		status                      int
	}{
		{"garbage", contentTypeProtobuf, "", []byte("\xff\xff\xff\xffnot protobuf"), http.StatusBadRequest},
		{"truncated", contentTypeProtobuf, "", validRequest(t)[:20], http.StatusBadRequest},
		{"bad gzip", contentTypeProtobuf, "gzip", []byte("not gzip"), http.StatusBadRequest},
		{"json", "application/json", "", []byte(`{"resourceSpans":[]}`), http.StatusUnsupportedMediaType},
		{"no content type", "", "", validRequest(t), http.StatusUnsupportedMediaType},
		{"brotli", contentTypeProtobuf, "br", validRequest(t), http.StatusUnsupportedMediaType},
		{"too large", contentTypeProtobuf, "", huge, http.StatusRequestEntityTooLarge},
		{"too large inflated", contentTypeProtobuf, "gzip", gzipped(huge), http.StatusRequestEntityTooLarge},
	} {
		if w := post(t, h, tc.contentType, tc.encoding, tc.body); w.Code != tc.status {
			t.Errorf("%s: status %d (%s), want %d", tc.name, w.Code, strings.TrimSpace(w.Body.String()), tc.status)
		}
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/v1/traces", nil))
	if w.Code != http.StatusMethodNotAllowed {
		t.Errorf("GET: status %d, want 405", w.Code)
	}
	// Each refusal is counted by its reason, and no span of them reached the store.
	st := store.Stats()
	if want := (IngestRefused{BadPayload: 3, TooLarge: 2, UnsupportedMedia: 3}); st.IngestRefused != want || st.Spans != 0 ||
		st.IngestAccepted+st.IngestRejected != 0 {
		t.Errorf("stats after the refusals: %+v, want refused %+v and nothing ingested", st, want)
	}
}

// validRequest is an export request of three spans, one of them without a valid id.
func validRequest(t testing.TB) []byte {
	t.Helper()
	req := &coltracepb.ExportTraceServiceRequest{ResourceSpans: []*tracepb.ResourceSpans{{
		Resource: &resourcepb.Resource{Attributes: attrsToOTLP(attribute.String("service.name", "logic"))},
		ScopeSpans: []*tracepb.ScopeSpans{{Spans: []*tracepb.Span{
			{TraceId: bytes.Repeat([]byte{1}, 16), SpanId: bytes.Repeat([]byte{1}, 8), Name: "Send",
				StartTimeUnixNano: 1_000_000, EndTimeUnixNano: 5_000_000,
				Attributes: attrsToOTLP(attribute.String("rpc.system", "thrift"))},
			{TraceId: bytes.Repeat([]byte{1}, 16), SpanId: bytes.Repeat([]byte{2}, 8), ParentSpanId: bytes.Repeat([]byte{1}, 8),
				Name: "append", StartTimeUnixNano: 2_000_000, EndTimeUnixNano: 1_000_000, // ends before it starts
				Status: &tracepb.Status{Code: tracepb.Status_STATUS_CODE_ERROR, Message: "disk full"}},
			{TraceId: make([]byte, 16), SpanId: bytes.Repeat([]byte{3}, 8), Name: "zero trace id"},
		}}},
	}}}
	b, err := proto.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestIngestPartialSuccess(t *testing.T) {
	store := NewStore(0)
	w := post(t, store.IngestHandler(), contentTypeProtobuf+"; charset=binary", "", validRequest(t))
	if w.Code != http.StatusOK || w.Header().Get("Content-Type") != contentTypeProtobuf {
		t.Fatalf("status %d %s", w.Code, w.Body)
	}
	resp := &coltracepb.ExportTraceServiceResponse{}
	if err := proto.Unmarshal(w.Body.Bytes(), resp); err != nil {
		t.Fatal(err)
	}
	if resp.GetPartialSuccess().GetRejectedSpans() != 1 {
		t.Errorf("response %v: want one rejected span", resp)
	}
	got, ok := store.Get(trace.TraceID{1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1})
	if !ok || got.SpanCount != 2 || got.RootService != "logic" || !got.Error {
		t.Fatalf("stored %+v", got)
	}
	if c := got.Spans[0].Children[0]; c.Duration != 0 || c.Status != "error" {
		t.Errorf("child %+v: want a zero duration (end before start) and an error", c)
	}
}

// attrsToOTLP encodes string attributes as OTLP does, for hand-built requests.
func attrsToOTLP(kvs ...attribute.KeyValue) []*commonpb.KeyValue {
	out := make([]*commonpb.KeyValue, len(kvs))
	for i, kv := range kvs {
		out[i] = &commonpb.KeyValue{Key: string(kv.Key), Value: &commonpb.AnyValue{
			Value: &commonpb.AnyValue_StringValue{StringValue: kv.Value.AsString()}}}
	}
	return out
}
