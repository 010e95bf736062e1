package admin

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.uber.org/goleak"

	"github.com/bangbang-im/bangbang/tracing"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		goleak.IgnoreAnyFunction("github.com/cloudwego/netpoll.(*defaultPoll).Wait"),
		// Hertz's process-wide Date header refresher.
		goleak.IgnoreAnyFunction("github.com/cloudwego/hertz/pkg/protocol.UpdateServerDate.func1"),
	)
}

const key = "staff-key-0123456789"

func start(t *testing.T) (*Server, *tracing.Store) {
	t.Helper()
	store := tracing.NewStore(1 << 20)
	s, err := New(Config{Addr: "127.0.0.1:0", Keys: []string{key}}, Deps{Traces: store})
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
	return s, store
}

func get(t *testing.T, url, bearer string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestStaffKeyGuardsTheAdminRoutes(t *testing.T) {
	s, _ := start(t)
	base := "http://" + s.Addr().String()
	if code, _ := get(t, base+"/healthz", ""); code != 200 {
		t.Fatalf("healthz: %d", code)
	}
	if code, body := get(t, base+"/metrics", ""); code != 200 || !strings.Contains(body, "go_goroutines") {
		t.Fatalf("metrics: %d %.200s", code, body)
	}
	for _, bearer := range []string{"", "wrong-key-0123456789", key + "x"} {
		if code, _ := get(t, base+"/admin/v1/traces", bearer); code != 401 {
			t.Fatalf("traces with key %q: %d, want 401", bearer, code)
		}
	}
	if code, body := get(t, base+"/admin/v1/traces", key); code != 200 || !strings.Contains(body, `"traces"`) {
		t.Fatalf("traces with the key: %d %s", code, body)
	}
	if code, _ := get(t, base+"/admin/v1/traces/not-an-id", key); code != 400 {
		t.Fatalf("bad trace id: %d, want 400", code)
	}
}

// TestOtherProcessesExportHere: a process exporting OTLP/HTTP with the staff key lands its
// spans in this process's store, readable as a tree.
func TestOtherProcessesExportHere(t *testing.T) {
	s, store := start(t)
	hc := &http.Transport{}
	defer hc.CloseIdleConnections()
	exp, err := otlptracehttp.New(context.Background(),
		otlptracehttp.WithHTTPClient(&http.Client{Transport: hc}),
		otlptracehttp.WithEndpointURL("http://"+s.Addr().String()+"/v1/traces"),
		otlptracehttp.WithHeaders(map[string]string{"Authorization": "Bearer " + key}))
	if err != nil {
		t.Fatal(err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	ctx, parent := tp.Tracer("t").Start(context.Background(), "gateway SEND")
	_, child := tp.Tracer("t").Start(ctx, "logic Send")
	child.End()
	parent.End()
	if err := tp.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	tr, ok := store.Get(parent.SpanContext().TraceID())
	if !ok || len(tr.Spans) != 1 || tr.Spans[0].Name != "gateway SEND" || len(tr.Spans[0].Children) != 1 {
		t.Fatalf("ingested trace: %+v %v", tr, ok)
	}
	code, body := get(t, "http://"+s.Addr().String()+"/admin/v1/traces/"+parent.SpanContext().TraceID().String(), key)
	var out map[string]any
	if code != 200 || json.Unmarshal([]byte(body), &out) != nil {
		t.Fatalf("trace over the API: %d %s", code, body)
	}
}

func TestNewRefusesWeakConfig(t *testing.T) {
	for _, keys := range [][]string{nil, {"short"}} {
		if _, err := New(Config{Keys: keys}, Deps{}); !errors.Is(err, ErrConfig) {
			t.Fatalf("keys %v: %v", keys, err)
		}
	}
}
