package edge

import (
	"strings"
	"testing"
	"time"

	"github.com/bangbang-im/bangbang/core-im/auth"
)

// TestBadInput: requests the edge refuses itself, before any SOAP call.
func TestBadInput(t *testing.T) {
	// A server limit small enough that a body over it fits in the socket
	// buffers: Hertz answers 413 before reading it all.
	h := newHarness(t, options{cfg: Config{MaxBodyBytes: 8 << 10}})
	tok := h.token("m1001", "merchant")
	promote := "/v1/listings/Lm1001-01/promotions"
	for _, tc := range []struct {
		name   string
		r      req
		status int
		code   string
	}{
		{"malformed json", req{method: "POST", path: promote, key: "k", body: `{"days":`}, 400, CodeBadRequest},
		{"unknown field", req{method: "POST", path: promote, key: "k", body: `{"days":3,"merchant_id":"m1002"}`}, 400, CodeBadRequest},
		{"two documents", req{method: "POST", path: promote, key: "k", body: `{"days":3}{"days":4}`}, 400, CodeBadRequest},
		{"days as a string", req{method: "POST", path: promote, key: "k", body: `{"days":"3"}`}, 400, CodeBadRequest},
		{"no body", req{method: "POST", path: promote, key: "k"}, 400, CodeBadRequest},
		{"zero days", req{method: "POST", path: promote, key: "k", body: `{"days":0}`}, 400, CodeBadRequest},
		{"31 days", req{method: "POST", path: promote, key: "k", body: `{"days":31}`}, 400, CodeBadRequest},
		{"oversized body", req{method: "POST", path: promote, key: "k", body: `{"days":3,"x":"` + strings.Repeat("x", 5000) + `"}`}, 413, CodePayloadTooLarge},
		{"bad package code", req{method: "POST", path: "/v1/credits/purchases", key: "k", body: `{"package_code":"CP 100"}`}, 400, CodeBadRequest},
		{"bad listing id", req{method: "POST", path: "/v1/listings/L%3Cscript%3E/refresh"}, 400, CodeBadRequest},
		{"listing id over 64 bytes", req{method: "POST", path: "/v1/listings/" + strings.Repeat("L", 65) + "/refresh"}, 400, CodeBadRequest},
		{"bad job id", req{method: "GET", path: "/v1/jobs/J.1/applicants"}, 400, CodeBadRequest},
		{"stats without dates", req{method: "GET", path: "/v1/listings/Lm1001-01/stats"}, 400, CodeBadRequest},
		{"stats with a bad date", req{method: "GET", path: "/v1/listings/Lm1001-01/stats?from=2025-02-30&to=2025-03-01"}, 400, CodeBadRequest},
		{"stats backwards", req{method: "GET", path: "/v1/listings/Lm1001-01/stats?from=2025-03-02&to=2025-03-01"}, 400, CodeBadRequest},
		{"stats over 31 days", req{method: "GET", path: "/v1/listings/Lm1001-01/stats?from=2025-01-01&to=2025-02-01"}, 400, CodeBadRequest},
		{"page size 0", req{method: "GET", path: "/v1/leads?page_size=0"}, 400, CodeBadRequest},
		{"page size 101", req{method: "GET", path: "/v1/leads?page_size=101"}, 400, CodeBadRequest},
		{"page size not a number", req{method: "GET", path: "/v1/jobs/Jm1001-01/applicants?page_size=ten"}, 400, CodeBadRequest},
		{"page token with odd characters", req{method: "GET", path: "/v1/leads?page_token=%27%3B--"}, 400, CodeBadRequest},
		{"page token too long", req{method: "GET", path: "/v1/leads?page_token=" + strings.Repeat("a", 129)}, 400, CodeBadRequest},
		{"bad listing filter", req{method: "GET", path: "/v1/leads?listing_id="}, 400, CodeBadRequest},
		{"idempotency key too long", req{method: "POST", path: promote, key: strings.Repeat("k", 129), body: `{"days":3}`}, 400, CodeBadRequest},
		{"no idempotency key", req{method: "POST", path: promote, body: `{"days":3}`}, 400, CodeIdempotencyKeyRequired},
		{"no idempotency key on a purchase", req{method: "POST", path: "/v1/credits/purchases", body: `{"package_code":"CP100"}`}, 400, CodeIdempotencyKeyRequired},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := h.requests(t)
			tc.r.token = tok
			h.do(t, tc.r).fails(t, tc.status, tc.code)
			if after := h.requests(t); after != before {
				t.Fatalf("a refused request reached the third party (%d -> %d SOAP requests)", before, after)
			}
		})
	}

	t.Run("31 days is the longest range", func(t *testing.T) {
		var v statsView
		h.do(t, req{method: "GET", path: "/v1/listings/Lm1001-01/stats?from=2025-01-01&to=2025-01-31", token: tok}).ok(t, &v)
		if len(v.Days) != 31 {
			t.Fatalf("%d days", len(v.Days))
		}
	})

	t.Run("over the server's body limit", func(t *testing.T) {
		// Refused by Hertz before any route runs, as documented.
		r := h.do(t, req{method: "POST", path: promote, token: tok, key: "k", body: strings.Repeat("x", 10<<10)})
		if r.status != 413 {
			t.Fatalf("status %d", r.status)
		}
	})

	t.Run("unknown route and method", func(t *testing.T) {
		h.do(t, req{method: "GET", path: "/v1/nothing-here", token: tok}).fails(t, 404, CodeNotFound)
		h.do(t, req{method: "GET", path: "/v1/credits/", token: tok}).fails(t, 404, CodeNotFound)
		h.do(t, req{method: "GET", path: "/v1/listings/Lm1001-01/refresh", token: tok}).fails(t, 405, CodeMethodNotAllowed)
		h.do(t, req{method: "DELETE", path: "/v1/credits", token: tok}).fails(t, 405, CodeMethodNotAllowed)
	})
}

// TestAuthentication: every marketing route needs a valid merchant token,
// and the merchant comes from it alone.
func TestAuthentication(t *testing.T) {
	h := newHarness(t, options{})
	forger, err := auth.NewTokens([]byte(strings.Repeat("f", 32)), time.Hour, nil)
	if err != nil {
		t.Fatal(err)
	}
	forged, _, _ := forger.Issue("m1001", "merchant")
	past, err := auth.NewTokens([]byte(testSecret), time.Hour, func() time.Time { return time.Now().Add(-2 * time.Hour) })
	if err != nil {
		t.Fatal(err)
	}
	expired, _, _ := past.Issue("m1001", "merchant")

	routes := []req{
		{method: "GET", path: "/v1/credits"},
		{method: "GET", path: "/v1/credit-packages"},
		{method: "POST", path: "/v1/credits/purchases", key: "a", body: `{"package_code":"CP100"}`},
		{method: "POST", path: "/v1/listings/Lm1001-01/refresh"},
		{method: "POST", path: "/v1/listings/Lm1001-01/promotions", key: "a", body: `{"days":1}`},
		{method: "GET", path: "/v1/listings/Lm1001-01/stats?from=2025-03-01&to=2025-03-02"},
		{method: "GET", path: "/v1/leads"},
		{method: "POST", path: "/v1/jobs/Jm1001-01/refresh"},
		{method: "POST", path: "/v1/jobs/Jm1001-01/promotions", key: "a", body: `{"days":1}`},
		{method: "GET", path: "/v1/jobs/Jm1001-01/applicants"},
	}
	for _, tc := range []struct {
		name   string
		header string
		status int
		code   string
	}{
		{"no token", "", 401, CodeUnauthenticated},
		{"not a bearer token", "Basic bTEwMDE6ZGVtbw==", 401, CodeUnauthenticated},
		{"garbage", "Bearer not.a.token", 401, CodeUnauthenticated},
		{"forged", "Bearer " + forged, 401, CodeUnauthenticated},
		{"expired", "Bearer " + expired, 401, CodeTokenExpired},
		{"customer", "Bearer " + h.token("c1001", "customer"), 403, CodeForbidden},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, r := range routes {
				if tc.header != "" {
					r.header = map[string]string{"Authorization": tc.header}
				}
				res := h.do(t, r)
				res.fails(t, tc.status, tc.code)
				if tc.status == 401 && !strings.HasPrefix(res.header.Get("WWW-Authenticate"), "Bearer") {
					t.Fatalf("%s %s: no WWW-Authenticate", r.method, r.path)
				}
			}
		})
	}
	if n := h.requests(t); n != 0 {
		t.Fatalf("%d SOAP requests for unauthenticated calls", n)
	}
}

// TestMarketingNotConfigured: a node started without the third parties
// answers 503 on marketing routes and still serves logins.
func TestMarketingNotConfigured(t *testing.T) {
	h := newHarness(t, options{noMarketing: true})
	tok := h.token("m1001", "merchant")
	h.do(t, req{method: "GET", path: "/v1/credits", token: tok}).fails(t, 503, CodeUnavailable)
	h.do(t, req{method: "POST", path: "/v1/listings/Lm1001-01/promotions", token: tok, key: "x", body: `{"days":1}`}).fails(t, 503, CodeUnavailable)
	h.do(t, req{method: "GET", path: "/v1/credits"}).fails(t, 401, CodeUnauthenticated)
}
