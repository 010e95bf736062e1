package tracing

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

func getJSON(t *testing.T, h http.Handler, target string, status int, v any) {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, target, nil)
	req.Header.Set("X-Request-Id", "req-1")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	if w.Code != status {
		t.Fatalf("GET %s: status %d (%s), want %d", target, w.Code, w.Body, status)
	}
	if ct := w.Header().Get("Content-Type"); ct != "application/json; charset=utf-8" {
		t.Errorf("GET %s: content type %q", target, ct)
	}
	if err := json.Unmarshal(w.Body.Bytes(), v); err != nil {
		t.Fatalf("GET %s: %v in %s", target, err, w.Body)
	}
}

func TestAdminList(t *testing.T) {
	h := storeWith(
		spec{trace: 1, span: 1, service: "edge", name: "refresh", durMS: 300},
		spec{trace: 2, span: 1, service: "gateway", name: "im.send", startMS: 10, durMS: 20, err: true},
	).Handler()
	for target, want := range map[string]int{
		"/admin/v1/traces":                                           2,
		"/admin/v1/traces?limit=1":                                   1,
		"/admin/v1/traces?service=edge":                              1,
		"/admin/v1/traces?service=edge&operation=im.send":            0,
		"/admin/v1/traces?min_duration=250ms":                        1,
		"/admin/v1/traces?min_duration=250":                          1,
		"/admin/v1/traces?min_duration=10":                           2,
		"/admin/v1/traces?error=true":                                1,
		"/admin/v1/traces?error=false":                               2,
		"/admin/v1/traces?user=nobody":                               0,
		"/admin/v1/traces?service=gateway&operation=im.send&error=1": 1,
	} {
		var body struct{ Traces []TraceSummary }
		getJSON(t, h, target, http.StatusOK, &body)
		if len(body.Traces) != want {
			t.Errorf("GET %s: %d traces, want %d", target, len(body.Traces), want)
		}
	}
	var body struct{ Traces []TraceSummary }
	getJSON(t, h, "/admin/v1/traces?error=true", http.StatusOK, &body)
	if ts := body.Traces[0]; ts.RootName != "im.send" || ts.Duration != 20*time.Millisecond || !ts.Error {
		t.Errorf("summary %+v", ts)
	}
}

func TestAdminListRejectsBadParams(t *testing.T) {
	h := NewStore(0).Handler()
	for _, target := range []string{
		"/admin/v1/traces?min_duration=soon",
		"/admin/v1/traces?min_duration=-5ms",
		"/admin/v1/traces?error=maybe",
		"/admin/v1/traces?limit=0",
		"/admin/v1/traces?limit=1001",
		"/admin/v1/traces/not-hex",
		"/admin/v1/traces/00000000000000000000000000000000",
	} {
		var e errorBody
		getJSON(t, h, target, http.StatusBadRequest, &e)
		if e.Code != "bad_request" || e.Message == "" || e.RequestID != "req-1" {
			t.Errorf("GET %s: error %+v", target, e)
		}
	}
	var e errorBody
	getJSON(t, h, "/admin/v1/traces/0102030405060708090a0b0c0d0e0f10", http.StatusNotFound, &e)
	if e.Code != "not_found" {
		t.Errorf("unknown trace: error %+v", e)
	}
}

// The JSON tree carries what a waterfall and a terminal tree need.
func TestAdminTrace(t *testing.T) {
	h := storeWith(
		spec{trace: 1, span: 1, service: "edge", name: "refresh", durMS: 300},
		spec{trace: 1, span: 2, parent: 1, service: "sim", name: "RefreshListing", startMS: 40, durMS: 200, err: true},
	).Handler()
	var raw map[string]any
	getJSON(t, h, "/admin/v1/traces/00000000000000000000000000000001", http.StatusOK, &raw)
	spans, _ := raw["spans"].([]any)
	if len(spans) != 1 {
		t.Fatalf("spans %v", raw["spans"])
	}
	root := spans[0].(map[string]any)
	child := root["children"].([]any)[0].(map[string]any)
	want := map[string]any{
		"span_id": "0000000000000002", "parent_id": "0000000000000001", "service": "sim",
		"name": "RefreshListing", "offset_ns": float64(40 * time.Millisecond),
		"duration_ns": float64(200 * time.Millisecond), "depth": float64(1), "status": "error", "kind": "unspecified",
	}
	for k, v := range want {
		if child[k] != v {
			t.Errorf("child %s = %#v, want %#v", k, child[k], v)
		}
	}
	if raw["trace_id"] != "00000000000000000000000000000001" || raw["root_name"] != "refresh" || raw["error"] != true {
		t.Errorf("trace header %v", raw)
	}
}
