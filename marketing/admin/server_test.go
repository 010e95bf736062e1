package admin

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/bangbang-im/bangbang/marketing/campaign"
	"github.com/bangbang-im/bangbang/tracing"
)

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

// client does not follow redirects, so tests see them, and records every answer for the
// document check.
func client(t *testing.T) *http.Client {
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{
		Transport:     recording{tr},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

type answer struct {
	status int
	header http.Header
	body   string
}

// send makes one request; hdr holds header name, value pairs.
func send(t *testing.T, method, url string, body io.Reader, hdr ...string) answer {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := client(t).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return answer{resp.StatusCode, resp.Header, string(b)}
}

func get(t *testing.T, url, bearer string) (int, string) {
	t.Helper()
	var hdr []string
	if bearer != "" {
		hdr = []string{"Authorization", "Bearer " + bearer}
	}
	a := send(t, http.MethodGet, url, nil, hdr...)
	return a.status, a.body
}

// storeTrace puts a trace into store through the SDK: a root span and an error child
// with an attribute and an event. It returns the trace id.
func storeTrace(t *testing.T, store *tracing.Store) trace.TraceID {
	t.Helper()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(store))
	defer func() { _ = tp.Shutdown(context.Background()) }()
	ctx, root := tp.Tracer("t").Start(context.Background(), "GET /v1/leads")
	_, child := tp.Tracer("t").Start(ctx, "RefreshListing", trace.WithAttributes(attribute.String("listing", "Lm1001-01")))
	child.AddEvent("retry", trace.WithAttributes(attribute.Int("attempt", 2)))
	child.SetStatus(codes.Error, "upstream fault")
	child.End()
	root.End()
	return root.SpanContext().TraceID()
}

func TestStaffKeyGuardsTheAdminRoutes(t *testing.T) {
	s, store := start(t)
	base := "http://" + s.Addr().String()
	id := storeTrace(t, store).String()
	if code, _ := get(t, base+"/healthz", ""); code != 200 {
		t.Fatalf("healthz: %d", code)
	}
	if code, body := get(t, base+"/metrics", ""); code != 200 || !strings.Contains(body, "go_goroutines") {
		t.Fatalf("metrics: %d %.200s", code, body)
	}
	for _, bearer := range []string{"", "wrong-key-0123456789", key + "x", key[:len(key)-1]} {
		if code, _ := get(t, base+"/admin/v1/traces", bearer); code != 401 {
			t.Fatalf("traces with key %q: %d, want 401", bearer, code)
		}
	}
	if code, body := get(t, base+"/admin/v1/traces", key); code != 200 || !strings.Contains(body, id) {
		t.Fatalf("traces with the key: %d %s", code, body)
	}
	if code, _ := get(t, base+"/admin/v1/traces?limit=0", key); code != 400 {
		t.Fatalf("bad limit: %d, want 400", code)
	}
	if code, body := get(t, base+"/admin/v1/traces/"+id, key); code != 200 || !strings.Contains(body, `"RefreshListing"`) {
		t.Fatalf("trace: %d %s", code, body)
	}
	if code, _ := get(t, base+"/admin/v1/traces/not-an-id", key); code != 400 {
		t.Fatalf("bad trace id: %d, want 400", code)
	}
	if code, _ := get(t, base+"/admin/v1/traces/0102030405060708090a0b0c0d0e0f10", key); code != 404 {
		t.Fatalf("unknown trace: %d, want 404", code)
	}
	// The pages take the key too, for curl.
	if code, body := get(t, base+"/admin/traces/"+id, key); code != 200 || !strings.Contains(body, "RefreshListing") {
		t.Fatalf("trace page with the key: %d %.300s", code, body)
	}
}

// TestOtherProcessesExportHere: a process exporting OTLP/HTTP with the staff key lands its
// spans in this process's store, readable as a tree.
func TestOtherProcessesExportHere(t *testing.T) {
	s, store := start(t)
	exp, err := otlptracehttp.New(context.Background(),
		otlptracehttp.WithHTTPClient(client(t)),
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

func TestIngestRefusals(t *testing.T) {
	s, _ := start(t)
	url := "http://" + s.Addr().String() + "/v1/traces"
	proto := []string{"Content-Type", "application/x-protobuf"}
	if a := send(t, http.MethodPost, url, strings.NewReader(""), proto...); a.status != 401 {
		t.Errorf("ingest without a key: %d, want 401", a.status)
	}
	withKey := append([]string{"Authorization", "Bearer " + key}, proto...)
	if a := send(t, http.MethodPost, url, strings.NewReader("\xff\xff"), withKey...); a.status != 400 {
		t.Errorf("ingest of garbage: %d, want 400", a.status)
	}
	if a := send(t, http.MethodPost, url, strings.NewReader("{}"), "Authorization", "Bearer "+key,
		"Content-Type", "application/json"); a.status != 415 {
		t.Errorf("ingest of OTLP/JSON: %d, want 415", a.status)
	}
}

func TestNewRefusesWeakConfig(t *testing.T) {
	for _, cfg := range []Config{{}, {Keys: []string{"short"}}, {Keys: []string{key}, SessionTTL: -time.Second}} {
		if _, err := New(cfg, Deps{}); !errors.Is(err, ErrConfig) {
			t.Fatalf("config %+v: %v", cfg, err)
		}
	}
}

// TestOnlyStaffActionsAreTraced: reading traces, pages, health and metrics make no trace
// (a trace per read would bury the traces being read); logging in does.
func TestOnlyStaffActionsAreTraced(t *testing.T) {
	store := tracing.NewStore(1 << 20)
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(store))
	s, err := New(Config{Addr: "127.0.0.1:0", Keys: []string{key}}, Deps{Traces: store, TracerProvider: tp})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Shutdown(context.Background()) })
	base := "http://" + s.Addr().String()
	for _, path := range []string{"/healthz", "/metrics", "/admin/v1/traces", "/admin/traces"} {
		if a := send(t, http.MethodGet, base+path, nil, "Authorization", "Bearer "+key); a.status != http.StatusOK {
			t.Fatalf("GET %s: %d", path, a.status)
		}
	}
	if n := len(store.List(tracing.Query{})); n != 0 {
		t.Fatalf("reads made %d traces: %+v", n, store.List(tracing.Query{}))
	}
	if a := loginWith(t, base, key, ""); a.status != http.StatusSeeOther {
		t.Fatalf("login: %d", a.status)
	}
	got := store.List(tracing.Query{})
	if len(got) != 1 || got[0].RootName != "POST /admin/login" {
		t.Fatalf("after login, traces = %+v, want one POST /admin/login", got)
	}
}

// The campaign routes need the logic service beside the store.
func TestNewRefusesCampaignsWithoutLogic(t *testing.T) {
	if _, err := New(Config{Keys: []string{key}}, Deps{Campaigns: sqliteStore(t)}); !errors.Is(err, ErrConfig) {
		t.Fatalf("campaigns without logic: %v", err)
	}
}

// Changes to campaigns, merchants and keys are traced, one server span each, named by
// route; reading them is not.
func TestCampaignWritesAreTraced(t *testing.T) {
	h := newHarness(t, sqliteStore(t))
	h.merchant("m1", "Alice", "Paris")
	var c campaign.Campaign
	a := h.ok(201, &c, "POST", "/admin/v1/campaigns", key, spec("t", "m1"))
	for _, path := range []string{"/admin/v1/campaigns", "/admin/v1/campaigns/" + c.ID, "/admin/v1/merchants", "/admin/v1/audit"} {
		h.ok(200, nil, "GET", path, key, nil)
	}
	h.ok(200, nil, "POST", "/admin/v1/campaigns/"+c.ID+"/start", key, nil)
	got := h.traces.List(tracing.Query{})
	var names []string
	for _, tr := range got {
		names = append(names, tr.RootName)
	}
	slices.Sort(names)
	if !slices.Equal(names, []string{"POST /admin/v1/campaigns", "POST /admin/v1/campaigns/:id/start"}) {
		t.Fatalf("traces %q", names)
	}
	tr, ok := h.traces.Get(mustTraceID(t, traceID(t, a)))
	if !ok || len(tr.Spans) != 1 || tr.Spans[0].Kind != "server" || tr.Spans[0].Attributes["http.route"] != "/admin/v1/campaigns" {
		t.Fatalf("trace of the create: %+v", tr)
	}
}

func mustTraceID(t *testing.T, s string) trace.TraceID {
	t.Helper()
	id, err := trace.TraceIDFromHex(s)
	if err != nil {
		t.Fatal(err)
	}
	return id
}
