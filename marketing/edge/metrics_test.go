package edge

import (
	"fmt"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/bangbang-im/bangbang/marketing/ratelimit"
	"github.com/bangbang-im/bangbang/soap-clients/partner"
	"github.com/bangbang-im/bangbang/tracing"
	"github.com/bangbang-im/bangbang/tracing/metricstest"
)

func httpRequests(method, route string, status int) string {
	return fmt.Sprintf("bangbang_http_requests_total{method=%q,route=%q,server=\"edge\",status=\"%d\"}", method, route, status)
}

func httpDurations(method, route string) string {
	return fmt.Sprintf("bangbang_http_request_duration_seconds{method=%q,route=%q,server=\"edge\"}", method, route)
}

// TestMetrics: with one registry wired as a process wires it (edge, SOAP
// clients, limiter), requests are counted under their route pattern, never
// their path; a rate-limited request and a SOAP fault show in the limiter's
// and the client's metrics too.
func TestMetrics(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	em, err := tracing.NewHTTPMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	pm, err := partner.NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	rm, err := ratelimit.NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, options{
		metrics: em,
		limiter: ratelimit.NewLocal(tight(1), ratelimit.Options{Metrics: rm}),
		partner: func(_ string, c *partner.Config) { c.Metrics = pm },
	})
	m1001, m1002 := h.token("m1001", "merchant"), h.token("m1002", "merchant")

	h.do(t, req{method: "POST", path: "/v1/listings/Lm1001-01/refresh", token: m1001}).ok(t, &refreshView{})
	h.do(t, req{method: "POST", path: "/v1/listings/Lm1001-02/refresh", token: m1001}).fails(t, 429, CodeRateLimited)
	h.do(t, req{method: "POST", path: "/v1/listings/Lm1001-01/refresh", token: m1002}).fails(t, 403, CodeNotOwner)
	if r := h.do(t, req{method: "GET", path: "/healthz"}); r.status != 200 {
		t.Fatalf("healthz: %d", r.status)
	}
	h.do(t, req{method: "GET", path: "/v1/nothing-here", token: m1001}).fails(t, 404, CodeNotFound)
	h.do(t, req{method: "DELETE", path: "/v1/credits", token: m1001}).fails(t, 405, CodeMethodNotAllowed)
	h.do(t, req{method: "BREW", path: "/healthz"}).fails(t, 405, CodeMethodNotAllowed)

	const refresh = "/v1/listings/:id/refresh"
	metricstest.Want(t, reg, map[string]float64{
		httpRequests("POST", refresh, 200):                                                                  1,
		httpRequests("POST", refresh, 429):                                                                  1,
		httpRequests("POST", refresh, 403):                                                                  1,
		httpRequests("GET", "/healthz", 200):                                                                2, // Start's probe too
		httpRequests("GET", "unmatched", 404):                                                               1,
		httpRequests("DELETE", "method_not_allowed", 405):                                                   1,
		httpRequests("other", "method_not_allowed", 405):                                                    1,
		httpDurations("POST", refresh):                                                                      3,
		httpDurations("GET", "/healthz"):                                                                    2,
		httpDurations("GET", "unmatched"):                                                                   1,
		httpDurations("DELETE", "method_not_allowed"):                                                       1,
		httpDurations("other", "method_not_allowed"):                                                        1,
		`bangbang_ratelimit_decisions_total{limit="refresh",result="allowed",source="local"}`:               2,
		`bangbang_ratelimit_decisions_total{limit="refresh",result="limited",source="local"}`:               1,
		`bangbang_soap_calls_total{operation="RefreshListing",outcome="ok",partner="housing"}`:              1,
		`bangbang_soap_calls_total{operation="RefreshListing",outcome="fault_not_owner",partner="housing"}`: 1,
		`bangbang_soap_attempts_total{operation="RefreshListing",partner="housing"}`:                        2,
		`bangbang_soap_breaker_state{partner="account"}`:                                                    0,
		`bangbang_soap_breaker_state{partner="housing"}`:                                                    0,
		`bangbang_soap_breaker_state{partner="recruitment"}`:                                                0,
	})
}

// TestMetricsShared: a second NewMetrics on the registry reuses the series
// (two servers of one process); nil is no metrics.
func TestMetricsShared(t *testing.T) {
	if m, err := tracing.NewHTTPMetrics(nil); m != nil || err != nil {
		t.Fatalf("tracing.NewHTTPMetrics(nil) = %v, %v; want nil, nil", m, err)
	}
	reg := prometheus.NewPedanticRegistry()
	m1, err := tracing.NewHTTPMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	m2, err := tracing.NewHTTPMetrics(reg)
	if err != nil {
		t.Fatalf("second NewMetrics: %v", err)
	}
	s := startSim(t)
	for _, m := range []*tracing.HTTPMetrics{m1, m2} {
		h := newHarness(t, options{sim: s, metrics: m, noMarketing: true})
		if r := h.do(t, req{method: "GET", path: "/healthz"}); r.status != 200 {
			t.Fatalf("healthz: %d", r.status)
		}
	}
	metricstest.Want(t, reg, map[string]float64{
		httpRequests("GET", "/healthz", 200): 4, // and each Start's probe
		httpDurations("GET", "/healthz"):     4,
	})
}
