package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

type edgeCall struct {
	t     *testing.T
	base  string
	token string
}

func (e edgeCall) do(method, path, body string, header map[string]string) (int, map[string]any, http.Header) {
	e.t.Helper()
	req, err := http.NewRequest(method, e.base+path, strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+e.token)
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		e.t.Fatalf("%s %s: %d, body %q is not a JSON object", method, path, resp.StatusCode, raw)
	}
	return resp.StatusCode, out, resp.Header
}

// TestMarketingActionThroughAll: a merchant logs in and promotes a listing through the
// edge of `bangbang all`, which calls the in-process housing simulator over SOAP; the replay
// of the paid call is answered from the idempotency store and charges nothing more.
func TestMarketingActionThroughAll(t *testing.T) {
	t.Parallel()
	s := startAllProc(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	lr, err := login(ctx, s.edge, "m1014", "demo")
	if err != nil {
		t.Fatal(err)
	}
	e := edgeCall{t: t, base: s.edge, token: lr.Token}

	status, before, _ := e.do("GET", "/v1/credits", "", nil)
	if status != 200 {
		t.Fatalf("credits: %d %v", status, before)
	}
	key := map[string]string{"Idempotency-Key": "promo-m1014-1"}
	status, first, firstHdr := e.do("POST", "/v1/listings/Lm1014-02/promotions", `{"days": 3}`, key)
	if status != 200 {
		t.Fatalf("promote: %d %v", status, first)
	}
	checkTraceCommand(t, s, firstHdr.Get("traceresponse"))
	status, again, hdr := e.do("POST", "/v1/listings/Lm1014-02/promotions", `{"days": 3}`, key)
	if status != 200 || hdr.Get("Idempotent-Replayed") != "true" || again["promotion_id"] != first["promotion_id"] {
		t.Fatalf("replay: %d %v %v", status, again, hdr)
	}
	_, after, _ := e.do("GET", "/v1/credits", "", nil)
	if spent := before["credits"].(float64) - after["credits"].(float64); spent != 30 {
		t.Fatalf("credits %v -> %v: spent %v, want 30 (3 days × 10, charged once)", before["credits"], after["credits"], spent)
	}

	status, body, _ := e.do("POST", "/v1/listings/Lm1015-01/refresh", "", nil)
	if status != 403 || body["code"] != "not_owner" {
		t.Fatalf("another merchant's listing: %d %v", status, body)
	}
	customer, err := login(ctx, s.edge, "c1014", "demo")
	if err != nil {
		t.Fatal(err)
	}
	status, body, _ = edgeCall{t: t, base: s.edge, token: customer.Token}.do("GET", "/v1/credits", "", nil)
	if status != 403 {
		t.Fatalf("customer on a marketing route: %d %v", status, body)
	}

	// The admin API's /metrics counts what happened: one promotion reached the third
	// party (the replay did not), the refresh came back as its not-owner fault, and both
	// promotion requests were answered 200 on the route's pattern.
	adminAddr := strings.TrimPrefix(s.admin, "http://")
	wantMetric(t, adminAddr, `bangbang_soap_calls_total{operation="PromoteListing",outcome="ok",partner="housing"}`, 1)
	wantMetric(t, adminAddr, `bangbang_soap_calls_total{operation="RefreshListing",outcome="fault_not_owner",partner="housing"}`, 1)
	wantMetric(t, adminAddr, `bangbang_http_requests_total{method="POST",route="/v1/listings/:id/promotions",server="edge",status="200"}`, 2)
	wantMetric(t, adminAddr, `bangbang_soap_breaker_state{partner="housing"}`, 0)
	// The staff API counts its own requests: the trace reads of checkTraceCommand at least.
	if n := metricValue(t, adminAddr, `bangbang_http_requests_total{method="GET",route="/admin/v1/traces/:id",server="admin",status="200"}`); n < 1 {
		t.Errorf("admin trace reads counted %v times, want at least 1", n)
	}
}

// checkTraceCommand runs `bangbang trace` on the trace a traceresponse header names: the
// promotion is the edge's span over the SOAP call over the simulator's span.
func checkTraceCommand(t *testing.T, s system, traceresponse string) {
	t.Helper()
	parts := strings.Split(traceresponse, "-")
	if len(parts) != 4 {
		t.Fatalf("traceresponse %q", traceresponse)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var out strings.Builder
	// The simulator's span ends just after its answer: wait until the tree is whole.
	for !strings.Contains(out.String(), "sim") {
		out.Reset()
		err := run(ctx, []string{"trace", parts[1], "--admin", s.admin, "--admin-key", testAdminKey}, &out, io.Discard)
		if ctx.Err() != nil {
			t.Fatalf("bangbang trace: %v\n%s", err, out.String())
		}
		if !strings.Contains(out.String(), "sim") {
			time.Sleep(10 * time.Millisecond) // polling the store, not synchronising
		}
	}
	// Span lines start with their offset; the lines under each hold its attributes.
	var lines []string
	for _, l := range strings.Split(out.String(), "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), "+") {
			lines = append(lines, l)
		}
	}
	want := []string{"edge     POST /v1/listings/:id/promotions", "  edge     housing/PromoteListing", "    sim"}
	if len(lines) != len(want) || !strings.Contains(out.String(), "bangbang.user=m1014") {
		t.Fatalf("bangbang trace printed:\n%s", out.String())
	}
	for i, w := range want {
		if !strings.Contains(lines[i], w) {
			t.Fatalf("span line %d %q does not show %q:\n%s", i, lines[i], w, out.String())
		}
	}
}
