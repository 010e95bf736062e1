package edge

import (
	"encoding/json"
	"strings"
	"testing"
)

// Every answered request leaves one access line at info, successful or not, with its
// route pattern, status, merchant and request id.
func TestAccessLog(t *testing.T) {
	h := newHarness(t, options{})
	tok := h.token("m1001", "merchant")
	credits := h.do(t, req{method: "GET", path: "/v1/credits", token: tok})
	refused := h.do(t, req{method: "POST", path: "/v1/listings/Lm1002-01/refresh", token: tok})
	missing := h.do(t, req{method: "GET", path: "/v1/nothing/" + strings.Repeat("x", 300)})

	type line struct {
		Msg, Method, Route, Path, Merchant, Remote string
		Status                                     int
		DurationMS                                 *float64 `json:"duration_ms"`
		RequestIDField                             string   `json:"request_id"`
	}
	var got []line
	for _, l := range strings.Split(strings.TrimSpace(h.logs.String()), "\n") {
		var ln line
		if err := json.Unmarshal([]byte(l), &ln); err != nil {
			t.Fatalf("log line %q: %v", l, err)
		}
		if ln.Msg == "request" {
			got = append(got, ln)
		}
	}
	// Start's own probe, before the test's requests, is logged as any request.
	if len(got) == 0 || got[0].Path != "/healthz" || got[0].Status != 200 {
		t.Fatalf("the first access line is not Start's GET /healthz:\n%s", h.logs.String())
	}
	got = got[1:]
	want := []struct {
		method, route, merchant string
		status                  int
		r                       resp
	}{
		{"GET", "/v1/credits", "m1001", 200, credits},
		{"POST", "/v1/listings/:id/refresh", "m1001", 403, refused},
		{"GET", "", "", 404, missing},
	}
	if len(got) != len(want) {
		t.Fatalf("%d access lines, want %d:\n%s", len(got), len(want), h.logs.String())
	}
	for i, w := range want {
		g := got[i]
		if g.Method != w.method || g.Route != w.route || g.Status != w.status || g.Status != w.r.status ||
			g.Merchant != w.merchant || g.RequestIDField != w.r.header.Get("X-Request-Id") || g.RequestIDField == "" ||
			g.DurationMS == nil || *g.DurationMS < 0 || g.Remote == "" {
			t.Errorf("access line %d: %+v; want %s %q %d for %s", i, g, w.method, w.route, w.status, w.merchant)
		}
	}
	if p := got[2].Path; len(p) != maxLoggedPath || !strings.HasPrefix(p, "/v1/nothing/xxx") {
		t.Errorf("a long path is logged as %q (%d bytes), want its first %d bytes", p, len(p), maxLoggedPath)
	}
}
