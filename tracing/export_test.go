package tracing

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"go.opentelemetry.io/otel/trace"

	"github.com/bangbang-im/bangbang/internal/buildinfo"
	"github.com/bangbang-im/bangbang/internal/syncbuf"
)

// emitTwoComponents makes the trace every export test checks: an edge server span with a
// logic child, ended child first, just before Shutdown.
func emitTwoComponents(t *testing.T, tr *Tracing) (root, child trace.SpanContext) {
	t.Helper()
	ctx, edge := tr.Provider("edge").Tracer("test").Start(context.Background(), "POST /v1/listings/refresh",
		trace.WithSpanKind(trace.SpanKindServer), trace.WithAttributes(AttrTraffic.String(TrafficMarketing)))
	_, logic := tr.Provider("logic").Tracer("test").Start(ctx, "logic.Send")
	logic.End()
	edge.End()
	return edge.SpanContext(), logic.SpanContext()
}

// shutdown stops tr, which must flush every batched span before returning.
func shutdown(t *testing.T, tr *Tracing) {
	t.Helper()
	if err := tr.Shutdown(context.Background()); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
}

// checkTwoComponents asserts the receiver decoded both spans, each under its component's
// service.name, the child pointing at the parent, one process instance for both.
func checkTwoComponents(t *testing.T, rc *receiver, root, child trace.SpanContext) {
	t.Helper()
	got := rc.spans()
	if len(got) != 2 {
		t.Fatalf("received %d spans, want 2", len(got))
	}
	byID := make(map[trace.SpanID]receivedSpan)
	for _, s := range got {
		var id trace.SpanID
		copy(id[:], s.span.GetSpanId())
		byID[id] = s
	}
	e, l := byID[root.SpanID()], byID[child.SpanID()]
	if e.span == nil || l.span == nil {
		t.Fatalf("received span ids %v, want %s and %s", byID, root.SpanID(), child.SpanID())
	}
	if e.resource["service.name"] != "edge" || l.resource["service.name"] != "logic" {
		t.Errorf("service.name = %q, %q; want edge, logic", e.resource["service.name"], l.resource["service.name"])
	}
	for _, s := range got {
		if s.resource["service.namespace"] != Namespace || s.resource["bangbang.process"] != "bangbang-test" {
			t.Errorf("resource %v lacks namespace or process", s.resource)
		}
		if v := s.resource["service.version"]; v == "" || v != buildinfo.Read().Version {
			t.Errorf("service.version %q, want the build's %q", v, buildinfo.Read().Version)
		}
	}
	if id := e.resource["service.instance.id"]; id == "" || id != l.resource["service.instance.id"] {
		t.Errorf("service.instance.id %q vs %q: want one non-empty id per process", id, l.resource["service.instance.id"])
	}
	if !bytes.Equal(l.span.GetTraceId(), e.span.GetTraceId()) || !bytes.Equal(l.span.GetParentSpanId(), e.span.GetSpanId()) {
		t.Errorf("child trace %x parent %x; want trace %x parent %x",
			l.span.GetTraceId(), l.span.GetParentSpanId(), e.span.GetTraceId(), e.span.GetSpanId())
	}
	if len(e.span.GetParentSpanId()) != 0 {
		t.Errorf("root has parent %x", e.span.GetParentSpanId())
	}
}

func TestExportOTLPHTTP(t *testing.T) {
	rc, srv := httpReceiver(t)
	tr := setup(t, Config{Process: "bangbang-test", Env: env(map[string]string{
		"OTEL_EXPORTER_OTLP_ENDPOINT": srv.URL,
		"OTEL_EXPORTER_OTLP_HEADERS":  "authorization=Bearer%20secret,x-tenant=t1",
	})})
	root, child := emitTwoComponents(t, tr)
	shutdown(t, tr)
	checkTwoComponents(t, rc, root, child)
	if exported, failed := exportCounts(t, tr); exported != 2 || failed != 0 {
		t.Errorf("exported %v, failed %v; want 2 and 0", exported, failed)
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if h := rc.headers[0]; h["Authorization"] != "Bearer secret" || h["X-Tenant"] != "t1" {
		t.Errorf("headers %v lack OTEL_EXPORTER_OTLP_HEADERS", h)
	}
}

func TestExportOTLPGRPC(t *testing.T) {
	rc, addr := grpcReceiver(t)
	tr := setup(t, Config{Process: "bangbang-test", Env: env(map[string]string{
		"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://" + addr,
		"OTEL_EXPORTER_OTLP_PROTOCOL":        "grpc",
		"OTEL_EXPORTER_OTLP_TRACES_HEADERS":  "x-tenant=t2",
		"OTEL_EXPORTER_OTLP_COMPRESSION":     "gzip",
	})})
	root, child := emitTwoComponents(t, tr)
	shutdown(t, tr)
	checkTwoComponents(t, rc, root, child)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if h := rc.headers[0]; h["x-tenant"] != "t2" {
		t.Errorf("metadata %v lacks OTEL_EXPORTER_OTLP_TRACES_HEADERS", h)
	}
}

// The embedded store sees the same spans as the exporter, and keeps them after Shutdown.
func TestStoreReceivesEveryComponent(t *testing.T) {
	tr := setup(t, Config{Process: "bangbang-test"})
	root, child := emitTwoComponents(t, tr)
	shutdown(t, tr)
	got, ok := tr.Store().Get(root.TraceID())
	if !ok {
		t.Fatal("trace not in the store")
	}
	if got.RootService != "edge" || len(got.Spans) != 1 || len(got.Spans[0].Children) != 1 {
		t.Fatalf("tree %+v: want edge root with one child", got)
	}
	if c := got.Spans[0].Children[0]; c.Service != "logic" || c.SpanID != child.SpanID().String() || c.Depth != 1 {
		t.Errorf("child %+v: want logic span %s at depth 1", c, child.SpanID())
	}
	if got := got.Services; len(got) != 2 || got[0] != "edge" || got[1] != "logic" {
		t.Errorf("services %v, want [edge logic]", got)
	}
}

func TestProviderPerComponent(t *testing.T) {
	tr := setup(t, Config{})
	if tr.Provider("gateway") != tr.Provider("gateway") {
		t.Error("two providers for one component")
	}
	if tr.Provider("gateway") == tr.Provider("logic") {
		t.Error("one provider for two components")
	}
	shutdown(t, tr)
	shutdown(t, tr) // idempotent
	_, span := tr.Provider("gateway").Tracer("test").Start(context.Background(), "late")
	if span.IsRecording() {
		t.Error("a provider records after Shutdown")
	}
	span.End()
}

// TestSDKDisabled: OTEL_SDK_DISABLED=true turns tracing off as the specification says:
// no span is recorded, exported or stored, while the store still takes other processes'.
func TestSDKDisabled(t *testing.T) {
	rc, srv := httpReceiver(t)
	tr := setup(t, Config{Process: "bangbang-test", Env: env(map[string]string{
		"OTEL_EXPORTER_OTLP_ENDPOINT": srv.URL,
		"OTEL_SDK_DISABLED":           "true",
	})})
	_, span := tr.Provider("gateway").Tracer("test").Start(context.Background(), "off")
	if span.IsRecording() || span.SpanContext().IsValid() {
		t.Error("a span was recorded with OTEL_SDK_DISABLED=true")
	}
	span.End()
	shutdown(t, tr)
	if n := len(rc.spans()); n != 0 {
		t.Errorf("exported %d spans with OTEL_SDK_DISABLED=true", n)
	}
	if tr.Store() == nil || len(tr.Store().List(Query{})) != 0 {
		t.Error("want an empty store")
	}
}

func TestStoreDisabled(t *testing.T) {
	tr := setup(t, Config{StoreBytes: -1})
	if tr.Store() != nil {
		t.Error("store present with StoreBytes < 0")
	}
	emitTwoComponents(t, tr) // spans go nowhere, without failing
}

func TestResourceFromEnv(t *testing.T) {
	rc, srv := httpReceiver(t)
	tr := setup(t, Config{Process: "bangbang-test", Env: env(map[string]string{
		"OTEL_EXPORTER_OTLP_ENDPOINT": srv.URL,
		"OTEL_RESOURCE_ATTRIBUTES":    "deployment.environment.name=staging,service.name=ignored",
		"OTEL_SERVICE_NAME":           "ignored",
	})})
	emitTwoComponents(t, tr)
	shutdown(t, tr)
	for _, s := range rc.spans() {
		if s.resource["deployment.environment.name"] != "staging" {
			t.Errorf("resource %v lacks OTEL_RESOURCE_ATTRIBUTES", s.resource)
		}
		if s.resource["service.name"] == "ignored" {
			t.Errorf("the environment renamed component %v", s.resource)
		}
	}
}

func TestSetupRejectsBadConfig(t *testing.T) {
	for name, tc := range map[string]struct {
		cfg  Config
		vars map[string]string
	}{
		"ratio over 1":      {cfg: Config{ChatSampleRatio: 1.5}},
		"unknown sampler":   {vars: map[string]string{"OTEL_TRACES_SAMPLER": "jaeger_remote"}},
		"bad sampler arg":   {vars: map[string]string{"OTEL_TRACES_SAMPLER": "traceidratio", "OTEL_TRACES_SAMPLER_ARG": "half"}},
		"json protocol":     {vars: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318", "OTEL_EXPORTER_OTLP_PROTOCOL": "http/json"}},
		"endpoint no URL":   {vars: map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "127.0.0.1:4318"}},
		"bad timeout":       {vars: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318", "OTEL_EXPORTER_OTLP_TIMEOUT": "10s"}},
		"bad compression":   {vars: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318", "OTEL_EXPORTER_OTLP_COMPRESSION": "zstd"}},
		"bad headers":       {vars: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318", "OTEL_EXPORTER_OTLP_HEADERS": "novalue"}},
		"bad resource attr": {vars: map[string]string{"OTEL_RESOURCE_ATTRIBUTES": "k=%zz"}},
	} {
		t.Run(name, func(t *testing.T) {
			tc.cfg.Env = env(tc.vars)
			tr, err := Setup(context.Background(), tc.cfg)
			if !errors.Is(err, ErrConfig) {
				t.Errorf("Setup error %v, want ErrConfig", err)
			}
			if tr != nil {
				_ = tr.Shutdown(context.Background())
			}
		})
	}
}

// exportCounts reads bangbang_tracing_exported_spans_total from tr's collector.
func exportCounts(t *testing.T, tr *Tracing) (exported, failed float64) {
	t.Helper()
	c := exportResults(t, tr)
	return c["exported"], c["failed"]
}

// exportResults reads bangbang_tracing_exported_spans_total by result.
func exportResults(t *testing.T, tr *Tracing) map[string]float64 {
	t.Helper()
	reg := prometheus.NewRegistry()
	reg.MustRegister(tr.Collector())
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		if mf.GetName() != "bangbang_tracing_exported_spans_total" {
			continue // the store's metrics
		}
		for _, m := range mf.GetMetric() {
			out[m.GetLabel()[0].GetValue()] = m.GetCounter().GetValue()
		}
	}
	return out
}

// A collector that does not answer while spans keep ending: past the export queue's
// size, spans are dropped and counted as such; the ones queued are exported once it
// answers.
func TestExportQueueFullCountedAsDropped(t *testing.T) {
	arrived, release := make(chan struct{}, 16), make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		<-release
		w.Header().Set("Content-Type", "application/x-protobuf")
	}))
	defer srv.Close()
	tr := setup(t, Config{Process: "bangbang-test", Env: env(map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": srv.URL,
		"OTEL_BSP_MAX_QUEUE_SIZE": "4", "OTEL_BSP_MAX_EXPORT_BATCH_SIZE": "2"})})
	tracer := tr.Provider("edge").Tracer("test")
	end := func(n int) {
		for range n {
			_, s := tracer.Start(context.Background(), "GET /v1/credits")
			s.End()
		}
	}
	end(2) // a full batch: the batcher sends it at once, and the collector holds it
	<-arrived
	end(10) // two more fit behind it; eight do not
	if got := exportResults(t, tr); got["dropped"] != 8 || got["exported"] != 0 {
		t.Errorf("while the collector hangs: %v; want 8 dropped, none exported yet", got)
	}
	close(release)
	shutdown(t, tr)
	if got := exportResults(t, tr); got["dropped"] != 8 || got["exported"] != 4 || got["failed"] != 0 {
		t.Errorf("after the collector answered: %v; want 4 exported, 8 dropped", got)
	}
}

// A collector that refuses the spans: they are counted as failed, and the failure is
// logged as a JSON line through the process's logger, not as plain text.
func TestExportFailuresCountedAndLogged(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no such tenant", http.StatusBadRequest) // not retryable: fails at once
	}))
	defer srv.Close()
	var logs syncbuf.Buffer
	tr := setup(t, Config{Process: "bangbang-test", Logger: slog.New(slog.NewJSONHandler(&logs, nil)),
		Env: env(map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": srv.URL})})
	emitTwoComponents(t, tr)
	shutdown(t, tr)
	if exported, failed := exportCounts(t, tr); exported != 0 || failed != 2 {
		t.Errorf("exported %v, failed %v; want 0 and 2", exported, failed)
	}
	var line struct{ Level, Msg, Err string }
	for _, l := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		if json.Unmarshal([]byte(l), &line) == nil && strings.HasPrefix(line.Msg, "opentelemetry:") {
			break
		}
		line.Msg = ""
	}
	if line.Level != "WARN" || !strings.Contains(line.Err, "400") {
		t.Errorf("no JSON warning naming the refusal in the log: %q", logs.String())
	}
}
