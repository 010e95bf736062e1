package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/bangbang-im/bangbang/core-im/client"
	"github.com/bangbang-im/bangbang/tracing"
)

// TestSeparateProcessesOneChatTrace runs admin, logic, a gateway and the edge as four
// processes, the three exporting their spans over OTLP to the admin's trace store, as a
// cluster does. A message from a traced SDK must come back from the admin API as one trace
// crossing every process and hop: SDK → gateway → Kitex → logic → store, then the push →
// Kitex → the recipient's gateway. The metrics endpoints count that one send.
func TestSeparateProcessesOneChatTrace(t *testing.T) {
	t.Parallel()
	adminAddr, logicAddr, pushAddr, tcp, edgeAddr := freeAddr(t), freeAddr(t), freeAddr(t), freeAddr(t), freeAddr(t)
	logicMetrics, gatewayMetrics, edgeMetrics := freeAddr(t), freeAddr(t), freeAddr(t)
	dataDir := t.TempDir()
	otlp := otlpEnv(adminAddr)

	start(t, "admin", []string{"BANGBANG_ADMIN_KEY=" + testAdminKey}, []string{adminAddr}, "admin", "--admin-addr", adminAddr, "--data-dir", t.TempDir())
	start(t, "logic", append([]string{"DATABASE_URL=" + pgSchema(t), "REDIS_ADDR=127.0.0.1:6379"}, otlp...), []string{logicAddr, logicMetrics},
		"logic", "--demo", "--data-dir", dataDir, "--logic-addr", logicAddr, "--metrics-addr", logicMetrics)
	start(t, "gateway", otlp, []string{tcp, pushAddr, gatewayMetrics}, "gateway", "--data-dir", dataDir, "--logic-addr", logicAddr,
		"--push-addr", pushAddr, "--tcp-addr", tcp, "--ws-addr", "-", "--metrics-addr", gatewayMetrics)
	start(t, "edge", otlp, []string{edgeAddr, edgeMetrics}, "edge", "--data-dir", dataDir, "--logic-addr", logicAddr,
		"--edge-addr", edgeAddr, "--tcp-addr", tcp, "--metrics-addr", edgeMetrics)
	s := system{edge: "http://" + edgeAddr, imAddr: tcp, admin: "http://" + adminAddr}

	// The test is the app: its SDK traces every send and exports to the admin too.
	env := map[string]string{}
	for _, kv := range otlp {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	tr, err := tracing.Setup(context.Background(), tracing.Config{Process: "test-app", ChatSampleRatio: 1, StoreBytes: -1,
		Env: func(k string) string { return env[k] }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tr.Shutdown(context.Background()) })

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	receiver := dialUser(t, ctx, s, "c1018", "phone")
	sender := dialTraced(t, ctx, s, "m1018", "phone", tr.Provider("im-client"))
	res, err := sender.Send(ctx, "c1018", "text/plain", []byte("viewing at 6?"))
	if err != nil {
		t.Fatal(err)
	}
	wantTexts(t, receiveFrom(t, receiver, "m1018", 1), "viewing at 6?")
	if err := tr.ForceFlush(ctx); err != nil {
		t.Fatal(err)
	}
	id, err := trace.TraceIDFromHex(res.TraceID)
	if err != nil {
		t.Fatalf("ack trace id %q: %v", res.TraceID, err)
	}

	// Each process exports on its own schedule: wait for the whole tree, one root down to
	// the recipient gateway's Deliver through the logic process's spans.
	got := waitAdminTrace(t, ctx, s, id, func(tr *tracing.Trace) bool {
		return len(tr.Spans) == 1 && findSpan(tr.Spans, "gateway", "gateway.Deliver") != nil &&
			findSpan(tr.Spans, "logic", "GatewayService/Deliver") != nil && findSpan(tr.Spans, "logic", "store.Append") != nil
	})
	if len(got.Spans) != 1 {
		t.Fatalf("trace has %d top-level spans, want one root:%s", len(got.Spans), dumpSpans(got.Spans))
	}
	path := []struct{ service, name, kind string }{
		{"im-client", "IM SEND", "client"},
		{"gateway", "IM SEND", "server"},
		{"gateway", "LogicService/Send", "client"},
		{"logic", "LogicService/Send", "server"},
		{"logic", "logic.Send", "internal"},
	}
	n := got.Spans[0]
	for i, want := range path {
		if i > 0 {
			n = childSpan(t, n, want.service, want.name)
		}
		if n.Service != want.service || n.Name != want.name || n.Kind != want.kind {
			t.Fatalf("hop %d = %s %s (%s), want %s %s (%s):%s", i, n.Service, n.Name, n.Kind, want.service, want.name, want.kind, dumpSpans(got.Spans))
		}
	}
	send := n
	appendSpan := childSpan(t, send, "logic", "store.Append")
	if appendSpan.Attributes["db.system.name"] != "postgresql" {
		t.Errorf("store.Append db.system.name = %v", appendSpan.Attributes["db.system.name"])
	}
	var push *tracing.Node
	for _, c := range send.Children {
		if c.Name == "logic.push" && c.Attributes["bangbang.user"] == "c1018" {
			push = c
		}
	}
	if push == nil {
		t.Fatalf("no push to c1018 under logic.Send:%s", dumpSpans(got.Spans))
	}
	call := childSpan(t, push, "logic", "GatewayService/Deliver")
	served := childSpan(t, call, "gateway", "GatewayService/Deliver")
	childSpan(t, served, "gateway", "gateway.Deliver")
	redisSpan := false // the route lookup: the name says the commands
	for _, c := range push.Children {
		redisSpan = redisSpan || strings.HasPrefix(c.Name, "redis.") && c.Kind == "client"
	}
	if !redisSpan {
		t.Errorf("no Redis span (route lookup) under the push:%s", dumpSpans([]*tracing.Node{push}))
	}

	// Nothing failed in this run, so no trace holds an error (a spurious one would be kept
	// whatever the sampling); and logic never starts a trace: background work (route
	// renewals, group commits) opens none, and every logic span continues a caller's.
	for _, sum := range listAdminTraces(t, ctx, s) {
		id, _ := trace.TraceIDFromHex(sum.TraceID)
		tr := waitAdminTrace(t, ctx, s, id, func(*tracing.Trace) bool { return true })
		if sum.Error {
			t.Errorf("a trace with an error in a healthy run:%s", dumpSpans(tr.Spans))
		}
		for _, top := range tr.Spans {
			if top.Service == "logic" && top.ParentID == "" {
				t.Errorf("a trace started in logic:%s", dumpSpans(tr.Spans))
			}
		}
	}

	// operations.md's span catalogue: its rows between processes are all here (the Kitex
	// hops; TestSpanCatalogue holds the rest to `bangbang all`), and every span is in it.
	doc, err := os.ReadFile("../../docs/operations.md")
	if err != nil {
		t.Fatal(err)
	}
	rows := parseCatalogue(t, string(doc))
	spans := storedSpans(t, ctx, s)
	for _, m := range rows.unseen(spans, true) {
		t.Errorf("catalogue row never seen between processes: %s", m)
	}
	for _, sp := range spans {
		if !rows.covers(sp) {
			t.Errorf("span not in the catalogue: %s %s (%s)", sp.service, sp.name, sp.kind)
		}
	}

	// One send, counted once by the gateway, logic and the store.
	wantMetric(t, gatewayMetrics, `bangbang_gateway_request_duration_seconds_count{op="SEND",outcome="ok"}`, 1)
	wantMetric(t, gatewayMetrics, `bangbang_gateway_connections{state="authenticated"}`, 2)
	wantMetric(t, logicMetrics, `bangbang_logic_call_duration_seconds_count{method="Send",outcome="ok"}`, 1)
	wantMetric(t, logicMetrics, `bangbang_store_operation_duration_seconds_count{backend="postgresql",operation="Append",outcome="ok"}`, 1)
}

// otlpEnv makes a process export its spans to the admin API's OTLP receiver, quickly.
func otlpEnv(adminAddr string) []string {
	return []string{
		"OTEL_EXPORTER_OTLP_ENDPOINT=http://" + adminAddr,
		"OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf",
		"OTEL_EXPORTER_OTLP_HEADERS=Authorization=Bearer%20" + testAdminKey,
		"OTEL_BSP_SCHEDULE_DELAY=50",
	}
}

func dialTraced(t *testing.T, ctx context.Context, s system, user, device string, tp trace.TracerProvider) *client.Client {
	t.Helper()
	lr, err := login(ctx, s.edge, user, "demo")
	if err != nil {
		t.Fatalf("login %s: %v", user, err)
	}
	c, err := client.Dial(ctx, client.Config{Addr: lr.IM.TCP, DeviceID: device, TracerProvider: tp,
		Token: func(ctx context.Context) (string, error) { return lr.Token, nil }})
	if err != nil {
		t.Fatalf("dial %s/%s: %v", user, device, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// waitAdminTrace polls the admin API until the trace satisfies done: spans arrive from
// several processes, each on its own export schedule.
func waitAdminTrace(t *testing.T, ctx context.Context, s system, id trace.TraceID, done func(*tracing.Trace) bool) *tracing.Trace {
	t.Helper()
	var last *tracing.Trace
	for ctx.Err() == nil {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.admin+"/admin/v1/traces/"+id.String(), nil)
		req.Header.Set("Authorization", "Bearer "+testAdminKey)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode == http.StatusOK {
			var tr tracing.Trace
			err := json.NewDecoder(resp.Body).Decode(&tr)
			resp.Body.Close()
			if err != nil {
				t.Fatal(err)
			}
			if last = &tr; done(&tr) {
				return &tr
			}
		} else {
			resp.Body.Close()
		}
		time.Sleep(20 * time.Millisecond) // polling a condition, not synchronising on time
	}
	if last != nil {
		t.Fatalf("trace %s incomplete:%s", id, dumpSpans(last.Spans))
	}
	t.Fatalf("trace %s never reached the admin API", id)
	return nil
}

func childSpan(t *testing.T, parent *tracing.Node, service, name string) *tracing.Node {
	t.Helper()
	for _, c := range parent.Children {
		if c.Service == service && c.Name == name {
			return c
		}
	}
	t.Fatalf("%s %s has no child %s %s:%s", parent.Service, parent.Name, service, name, dumpSpans([]*tracing.Node{parent}))
	return nil
}

func findSpan(nodes []*tracing.Node, service, name string) *tracing.Node {
	for _, n := range nodes {
		if n.Service == service && n.Name == name {
			return n
		}
		if f := findSpan(n.Children, service, name); f != nil {
			return f
		}
	}
	return nil
}

func dumpSpans(nodes []*tracing.Node) string {
	var b strings.Builder
	var walk func([]*tracing.Node, string)
	walk = func(ns []*tracing.Node, indent string) {
		for _, n := range ns {
			fmt.Fprintf(&b, "\n%s%s %s (%s)", indent, n.Service, n.Name, n.Kind)
			if n.Status == "error" {
				fmt.Fprintf(&b, " error: %s %v", n.StatusMessage, n.Attributes)
			}
			walk(n.Children, indent+"  ")
		}
	}
	walk(nodes, "")
	return b.String()
}

// wantMetric reads one sample from a /metrics endpoint and compares it.
func wantMetric(t *testing.T, addr, series string, want float64) {
	t.Helper()
	if got := metricValue(t, addr, series); got != want {
		t.Errorf("%s = %v, want %v", series, got, want)
	}
}

// metricValue reads one sample from a /metrics endpoint; a missing series fails the test.
func metricValue(t *testing.T, addr, series string) float64 {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), series+" "); ok {
			var got float64
			if _, err := fmt.Sscan(v, &got); err != nil {
				t.Fatalf("%s: value %q: %v", series, v, err)
			}
			return got
		}
	}
	t.Fatalf("%s: no such series at %s", series, addr)
	return 0
}

func listAdminTraces(t *testing.T, ctx context.Context, s system) []tracing.TraceSummary {
	t.Helper()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.admin+"/admin/v1/traces?limit="+fmt.Sprint(tracing.MaxLimit), nil)
	req.Header.Set("Authorization", "Bearer "+testAdminKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var list struct {
		Traces []tracing.TraceSummary `json:"traces"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("list traces: %d %v", resp.StatusCode, err)
	}
	return list.Traces
}
