package tracing

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
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
		"/admin/v1/traces?attr=novalue",
		"/admin/v1/traces?attr=:v",
		"/admin/v1/traces?attr=a:1&attr=b",
		"/admin/v1/traces?" + strings.Repeat("attr=k:v&", MaxAttrFilters+1),
		"/admin/v1/traces?start=yesterday",
		"/admin/v1/traces?start=2025-03-01",
		"/admin/v1/traces?end=2025-13-01T00:00:00Z",
		"/admin/v1/traces?start=-5",
		"/admin/v1/traces?end=999999999999999999",
		"/admin/v1/traces?start=2025-03-01T12:00:01Z&end=2025-03-01T12:00:00Z",
		"/admin/v1/traces/map?start=soon",
		"/admin/v1/traces/map?start=1740830401000&end=1740830400000",
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

// attr, start and end reach the query: each accepted form finds what it should.
func TestAdminListSearch(t *testing.T) {
	h := searchStore().Handler()
	ms := func(offset int) string {
		return strconv.FormatInt(t0().Add(time.Duration(offset)*time.Millisecond).UnixMilli(), 10)
	}
	for target, want := range map[string]string{
		"/admin/v1/traces?attr=service.version:1.3.0":                                   "02,01",
		"/admin/v1/traces?attr=service.version:1.3.0&attr=retry:true":                   "02",
		"/admin/v1/traces?attr=service.version:1.2.0&attr=retry:true":                   "",
		"/admin/v1/traces?attr=url.full:http://sim:8080/soap":                           "03",
		"/admin/v1/traces?attr=":                                                        "03,02,01", // an empty form field
		"/admin/v1/traces?start=2025-03-01T12:00:00.350Z":                               "03,02",
		"/admin/v1/traces?start=2025-03-01T13:00:00.350%2B01:00":                        "03,02",
		"/admin/v1/traces?end=" + ms(350):                                               "01",
		"/admin/v1/traces?start=" + ms(410) + "&end=" + ms(415):                         "02",
		"/admin/v1/traces?start=" + ms(301) + "&end=" + ms(399):                         "",
		"/admin/v1/traces?start=2025-03-01T12:00:00Z&end=2025-03-01T12:00:00Z":          "01",
		"/admin/v1/traces?start=" + ms(0) + "&attr=service.version:1.3.0&service=logic": "01",
	} {
		var body struct{ Traces []TraceSummary }
		getJSON(t, h, target, http.StatusOK, &body)
		if got := ids(body.Traces); got != want {
			t.Errorf("GET %s: traces %s, want %s", target, got, want)
		}
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
