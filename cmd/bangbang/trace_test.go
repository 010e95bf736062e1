package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"net/http"
	"net/http/httptest"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/bangbang-im/bangbang/tracing"
)

// traceFixture is a trace store holding two traces recorded as the services record
// them, served the way the admin serves it (a staff key required).
type traceFixture struct {
	store     *tracing.Store
	url       string
	promotion string // a marketing action the third party refused
	send      string // an IM send, stored, whose push failed
}

const traceTestKey = "bbk_test"

func newTraceFixture(t *testing.T) *traceFixture {
	t.Helper()
	store := tracing.NewStore(0)
	tracer := func(service string) trace.Tracer {
		tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(store),
			sdktrace.WithResource(resource.NewSchemaless(attribute.String("service.name", service))))
		t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
		return tp.Tracer("test")
	}
	edge, sim, gateway, logic := tracer("edge"), tracer("sim"), tracer("gateway"), tracer("logic")
	base := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	at := func(ms float64) time.Time { return base.Add(time.Duration(ms * float64(time.Millisecond))) }
	ctx := context.Background()

	// POST /v1/listings/L1/promotions: the SOAP call answered a not_owner fault.
	actx, action := edge.Start(ctx, "POST /v1/listings/:id/promotions", trace.WithSpanKind(trace.SpanKindServer),
		trace.WithTimestamp(at(0)), trace.WithAttributes(
			attribute.String("http.request.method", "POST"),
			attribute.String("http.route", "/v1/listings/:id/promotions"),
			attribute.String("url.path", "/v1/listings/L1/promotions"),
			attribute.String("bangbang.traffic", "marketing"),
			attribute.String("bangbang.user", "m1017")))
	cctx, call := edge.Start(actx, "housing/PromoteListing", trace.WithSpanKind(trace.SpanKindClient),
		trace.WithTimestamp(at(3)), trace.WithAttributes(
			attribute.String("rpc.system", "soap"),
			attribute.String("rpc.service", "housing"),
			attribute.String("rpc.method", "PromoteListing"),
			attribute.String("soap.action", "urn:housing:PromoteListing"),
			attribute.String("server.address", "127.0.0.1"),
			attribute.Int("server.port", 8600),
			attribute.String("url.full", "http://127.0.0.1:8600/soap/housing/v1")))
	_, served := sim.Start(cctx, "POST /soap/housing/v1", trace.WithSpanKind(trace.SpanKindServer),
		trace.WithTimestamp(at(5)), trace.WithAttributes(
			attribute.String("http.route", "/soap/housing/v1"),
			attribute.String("server.address", "127.0.0.1"),
			attribute.String("rpc.method", "PromoteListing"),
			attribute.Int("http.response.status_code", 500)))
	served.End(trace.WithTimestamp(at(206)))
	call.SetAttributes(attribute.Int("http.response.status_code", 500),
		attribute.String("soap.fault.kind", "not_owner"),
		attribute.String("soap.fault.code", "soap:Client.NotOwner"),
		attribute.String("soap.fault.string", "listing L1 is not yours"))
	call.SetStatus(codes.Error, "soap fault: not_owner")
	call.End(trace.WithTimestamp(at(208)))
	action.SetAttributes(attribute.Int("http.response.status_code", 403))
	action.End(trace.WithTimestamp(at(212)))

	// IM SEND: stored in a batch of three; the push to the recipient failed and is retried.
	sctx, send := gateway.Start(ctx, "IM SEND", trace.WithSpanKind(trace.SpanKindServer),
		trace.WithTimestamp(at(0)), trace.WithAttributes(
			attribute.String("bangbang.im.op", "SEND"),
			attribute.String("bangbang.conn", "c-42"),
			attribute.String("bangbang.user", "u1"),
			attribute.String("bangbang.device", "phone")))
	_, appendSpan := logic.Start(sctx, "store.Append", trace.WithSpanKind(trace.SpanKindClient),
		trace.WithTimestamp(at(1)), trace.WithAttributes(
			attribute.String("db.system.name", "sqlite"),
			attribute.String("bangbang.conv", "c:u1:u2")))
	appendSpan.AddEvent("store.batch_committed", trace.WithTimestamp(at(2.5)), trace.WithAttributes(
		attribute.Int("bangbang.store.batch_size", 3),
		attribute.Int("bangbang.store.batch_marks", 1),
		attribute.Int64("bangbang.store.commit_us", 900),
		attribute.Int64("bangbang.store.queued_us", 120),
		attribute.String("db.note", "not a runbook attribute")))
	appendSpan.End(trace.WithTimestamp(at(2.6)))
	_, push := logic.Start(sctx, "logic.push", trace.WithSpanKind(trace.SpanKindConsumer),
		trace.WithTimestamp(at(3)), trace.WithAttributes(
			attribute.String("bangbang.user", "u2"),
			attribute.Int64("bangbang.push.queued_us", 40),
			attribute.Int("bangbang.push.retry", 1)))
	push.RecordError(errors.New("route table unreachable"), trace.WithTimestamp(at(4)))
	push.SetStatus(codes.Error, "route table unreachable")
	push.End(trace.WithTimestamp(at(4)))
	send.End(trace.WithTimestamp(at(5)))

	admin := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+traceTestKey {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"code":"unauthorized","message":"a staff key is required"}`))
			return
		}
		store.Handler().ServeHTTP(w, r)
	})
	srv := httptest.NewServer(admin)
	t.Cleanup(srv.Close)
	return &traceFixture{store: store, url: srv.URL,
		promotion: action.SpanContext().TraceID().String(), send: send.SpanContext().TraceID().String()}
}

// run is `bangbang trace ARGS --admin URL --admin-key KEY`.
func (fx *traceFixture) run(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	err := runTrace(context.Background(), append(args, "--admin", fx.url, "--admin-key", traceTestKey), &stdout, &stderr)
	return stdout.String(), err
}

var spanLine = regexp.MustCompile(`^ *\+\d+\.\d{3}ms +\d+\.\d{3}ms  `)

// spanBlock is the line of the span named name in a printed trace, with the detail lines
// under it (up to the next span line).
func spanBlock(t *testing.T, out, name string) string {
	t.Helper()
	var block []string
	for _, line := range strings.Split(out, "\n") {
		if spanLine.MatchString(line) {
			if len(block) > 0 {
				break
			}
			if strings.HasSuffix(strings.TrimSpace(strings.SplitN(line, "  ERROR", 2)[0]), " "+name) {
				block = append(block, line)
			}
			continue
		}
		if len(block) > 0 {
			block = append(block, line)
		}
	}
	if len(block) == 0 {
		t.Fatalf("no span %q in:\n%s", name, out)
	}
	return strings.Join(block, "\n")
}

func checkBlock(t *testing.T, out, span string, want, notWant []string) {
	t.Helper()
	b := spanBlock(t, out, span)
	for _, s := range want {
		if !strings.Contains(b, s) {
			t.Errorf("span %s lacks %q:\n%s", span, s, b)
		}
	}
	for _, s := range notWant {
		if strings.Contains(b, s) {
			t.Errorf("span %s has %q:\n%s", span, s, b)
		}
	}
}

// Each span shows the attributes a runbook reads, under its own line, and nothing else.
func TestTracePrintsRunbookAttributes(t *testing.T) {
	fx := newTraceFixture(t)
	out, err := fx.run(t, fx.promotion)
	if err != nil {
		t.Fatalf("trace: %v", err)
	}
	if first := strings.SplitN(out, "\n", 2)[0]; first != "trace "+fx.promotion+"  2025-03-01T12:00:00.000Z  212.000ms  3 spans  1 error" {
		t.Errorf("header %q", first)
	}
	checkBlock(t, out, "POST /v1/listings/:id/promotions",
		[]string{"+0.000ms  212.000ms  edge     POST", "bangbang.user=m1017", "http.response.status_code=403"},
		[]string{"soap.fault", "url.path", "bangbang.traffic", "http.request.method", "http.route=", "ERROR"})
	checkBlock(t, out, "housing/PromoteListing",
		[]string{"+3.000ms  205.000ms    edge     housing/PromoteListing  ERROR soap fault: not_owner",
			"soap.fault.kind=not_owner", "soap.fault.code=soap:Client.NotOwner", `soap.fault.string="listing L1 is not yours"`,
			"soap.action=urn:housing:PromoteListing",
			"server.address=127.0.0.1", "http.response.status_code=500"},
		[]string{"bangbang.user", "rpc.system", "rpc.service", "server.port", "url.full", "rpc.method="})
	// The fault leads: it is what the runbook looks for.
	if b := spanBlock(t, out, "housing/PromoteListing"); strings.Index(b, "soap.fault.kind=") > strings.Index(b, "http.response.status_code=") {
		t.Errorf("fault kind after the status code:\n%s", b)
	}
	// The server span's name does not say which operation: its rpc.method does.
	checkBlock(t, out, "POST /soap/housing/v1",
		[]string{"+5.000ms  201.000ms      sim      POST", "rpc.method=PromoteListing", "http.response.status_code=500"},
		[]string{"soap.fault", "http.route=", "server.address"})

	out, err = fx.run(t, fx.send)
	if err != nil {
		t.Fatalf("trace: %v", err)
	}
	checkBlock(t, out, "IM SEND", []string{"bangbang.user=u1", "bangbang.device=phone"},
		[]string{"bangbang.conn", "bangbang.im.op", "event"})
	checkBlock(t, out, "store.Append",
		[]string{"event store.batch_committed +2.500ms", "bangbang.store.batch_size=3", "bangbang.store.batch_marks=1",
			"bangbang.store.commit_us=900", "bangbang.store.queued_us=120"},
		[]string{"db.system.name", "bangbang.conv", "db.note"})
	// The exception event says what the status message says: it is not repeated.
	checkBlock(t, out, "logic.push",
		[]string{"ERROR route table unreachable", "bangbang.user=u2", "bangbang.push.queued_us=40", "bangbang.push.retry=1"},
		[]string{"exception"})
}

// --all prints every attribute and event attribute.
func TestTraceAllPrintsEveryAttribute(t *testing.T) {
	fx := newTraceFixture(t)
	out, err := fx.run(t, fx.promotion, "--all")
	if err != nil {
		t.Fatalf("trace: %v", err)
	}
	checkBlock(t, out, "POST /v1/listings/:id/promotions",
		[]string{"bangbang.user=m1017", "url.path=/v1/listings/L1/promotions", "bangbang.traffic=marketing",
			"http.request.method=POST", "http.route=/v1/listings/:id/promotions"}, nil)
	checkBlock(t, out, "housing/PromoteListing",
		[]string{"soap.fault.kind=not_owner", "rpc.system=soap", "rpc.service=housing", "rpc.method=PromoteListing",
			"server.port=8600", "url.full=http://127.0.0.1:8600/soap/housing/v1"}, nil)
	checkBlock(t, out, "POST /soap/housing/v1",
		[]string{"http.route=/soap/housing/v1", "server.address=127.0.0.1", "rpc.method=PromoteListing"}, nil)
	out, err = fx.run(t, fx.send, "--all")
	if err != nil {
		t.Fatalf("trace: %v", err)
	}
	checkBlock(t, out, "IM SEND", []string{"bangbang.conn=c-42", "bangbang.im.op=SEND"}, nil)
	checkBlock(t, out, "store.Append", []string{"db.system.name=sqlite", `db.note="not a runbook attribute"`}, nil)
	checkBlock(t, out, "logic.push", []string{"event exception", `exception.message="route table unreachable"`}, nil)
}

// --json prints the API's answer, indented: the same trace, whatever the flags' order.
func TestTraceJSON(t *testing.T) {
	fx := newTraceFixture(t)
	out, err := fx.run(t, "--json", fx.promotion)
	if err != nil {
		t.Fatalf("trace: %v", err)
	}
	if !strings.Contains(out, "\n  \"trace_id\": \""+fx.promotion+"\"") {
		t.Errorf("not indented JSON:\n%s", out)
	}
	var got tracing.Trace
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("decode: %v\n%s", err, out)
	}
	if got.TraceID != fx.promotion || got.SpanCount != 3 || len(got.Spans) != 1 {
		t.Fatalf("trace %s, %d spans, %d roots", got.TraceID, got.SpanCount, len(got.Spans))
	}
	client := got.Spans[0].Children[0]
	if client.Name != "housing/PromoteListing" || client.Attributes["soap.fault.kind"] != "not_owner" ||
		len(client.Children) != 1 || client.Children[0].Service != "sim" {
		t.Errorf("client span %+v", client)
	}
	// Everything the store holds, nothing more.
	id, _ := trace.TraceIDFromHex(fx.promotion)
	want, ok := fx.store.Get(id)
	if !ok {
		t.Fatal("trace not in the store")
	}
	wantJSON, err := json.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	var a, b any
	if err := json.Unmarshal(wantJSON, &a); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(out), &b); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(a, b) {
		t.Errorf("--json printed\n%s\nthe store holds\n%s", out, wantJSON)
	}
}

// A trace the store does not hold, a malformed id, a missing id or key: a message that
// says so, and nothing on stdout.
func TestTraceErrors(t *testing.T) {
	fx := newTraceFixture(t)
	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"unknown", []string{"0102030405060708090a0b0c0d0e0f10"},
			[]string{"trace 0102030405060708090a0b0c0d0e0f10", "404 not_found", "no such trace"}},
		{"malformed", []string{"not-a-trace"}, []string{"400 bad_request", "32 lower-case hex digits"}},
		{"no id", nil, []string{"usage: bangbang trace TRACE_ID"}},
		{"extra argument", []string{fx.promotion, "again"}, []string{"unexpected arguments"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := fx.run(t, tc.args...)
			if err == nil {
				t.Fatalf("no error; printed:\n%s", out)
			}
			for _, s := range tc.want {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q lacks %q", err, s)
				}
			}
			if out != "" {
				t.Errorf("printed %q", out)
			}
		})
	}
	t.Run("no key", func(t *testing.T) {
		var stdout, stderr bytes.Buffer
		err := runTrace(context.Background(), []string{fx.promotion, "--admin", fx.url}, &stdout, &stderr)
		if err == nil || !strings.Contains(err.Error(), "401 unauthorized") || stdout.Len() != 0 {
			t.Errorf("error %v, printed %q", err, stdout.String())
		}
	})
	t.Run("help", func(t *testing.T) {
		var stdout, stderr bytes.Buffer
		err := runTrace(context.Background(), []string{"-h"}, &stdout, &stderr)
		if !errors.Is(err, flag.ErrHelp) {
			t.Fatalf("error %v", err)
		}
		for _, s := range []string{"usage: bangbang trace TRACE_ID", "-all", "-json", "-admin-key"} {
			if !strings.Contains(stderr.String(), s) {
				t.Errorf("help lacks %q:\n%s", s, stderr.String())
			}
		}
	})
}

func TestTraceValueFormat(t *testing.T) {
	for _, tc := range []struct {
		v    any
		want string
	}{
		{"not_owner", "not_owner"},
		{"", `""`},
		{"soap fault", `"soap fault"`},
		{"\x1b[2J", `"\x1b[2J"`},
		{json.Number("404"), "404"},
		{json.Number("9007199254740993"), "9007199254740993"},
		{true, "true"},
		{[]any{"a", json.Number("1")}, `["a",1]`},
	} {
		if got := fmtValue(tc.v); got != tc.want {
			t.Errorf("fmtValue(%#v) = %s, want %s", tc.v, got, tc.want)
		}
	}
}
