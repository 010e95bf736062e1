package edge

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/bangbang-im/bangbang/soap-clients/sim"
)

// TestBusinessFaults: each fault a third party declares reaches the app as
// the documented 4xx, in the one error shape, saying no more than it should.
func TestBusinessFaults(t *testing.T) {
	h := newHarness(t, options{})
	tok := h.token("m1001", "merchant")

	t.Run("unknown listing", func(t *testing.T) {
		e := h.do(t, req{method: "POST", path: "/v1/listings/Lm1001-09/refresh", token: tok}).fails(t, 404, CodeNotFound)
		if !strings.Contains(e.Message, "listing Lm1001-09") {
			t.Fatalf("message %q", e.Message)
		}
		h.do(t, req{method: "GET", path: "/v1/listings/nope/stats?from=2025-03-01&to=2025-03-02", token: tok}).fails(t, 404, CodeNotFound)
		h.do(t, req{method: "GET", path: "/v1/jobs/Jm1001-07/applicants", token: tok}).fails(t, 404, CodeNotFound)
	})

	t.Run("another merchant's listing", func(t *testing.T) {
		before := h.credits(t, "m1002")
		for _, r := range []req{
			{method: "POST", path: "/v1/listings/Lm1002-01/refresh"},
			{method: "POST", path: "/v1/listings/Lm1002-01/promotions", key: "steal-1", body: `{"days":1}`},
			{method: "GET", path: "/v1/listings/Lm1002-01/stats?from=2025-03-01&to=2025-03-02"},
			{method: "GET", path: "/v1/leads?listing_id=Lm1002-01"},
			{method: "POST", path: "/v1/jobs/Jm1002-01/refresh"},
			{method: "POST", path: "/v1/jobs/Jm1002-01/promotions", key: "steal-2", body: `{"days":1}`},
			{method: "GET", path: "/v1/jobs/Jm1002-01/applicants"},
		} {
			r.token = tok
			res := h.do(t, r)
			e := res.fails(t, 403, CodeNotOwner)
			if !strings.HasSuffix(e.Message, "belongs to another merchant") || strings.Contains(string(res.body), "m1002") {
				t.Fatalf("%s %s: %s", r.method, r.path, res.body)
			}
		}
		if after := h.credits(t, "m1002"); after != before {
			t.Fatalf("m1002 charged: %d -> %d", before, after)
		}
	})

	t.Run("insufficient credits", func(t *testing.T) {
		m := h.token("m1003", "merchant")
		h.do(t, req{method: "POST", path: "/v1/listings/Lm1003-01/promotions", token: m, key: "big-1", body: `{"days":30}`}).ok(t, &promotionView{})
		e := h.do(t, req{method: "POST", path: "/v1/listings/Lm1003-02/promotions", token: m, key: "big-2", body: `{"days":30}`}).fails(t, 402, CodeInsufficientCredits)
		if !strings.Contains(e.Message, "300 needed, 200 available") {
			t.Fatalf("message %q", e.Message)
		}
		if c := h.credits(t, "m1003"); c != 200 {
			t.Fatalf("credits %d, want 200", c)
		}
	})

	t.Run("refresh quota", func(t *testing.T) {
		for i := 0; i < 10; i++ {
			h.do(t, req{method: "POST", path: "/v1/listings/Lm1001-04/refresh", token: tok}).ok(t, &refreshView{})
		}
		r := h.do(t, req{method: "POST", path: "/v1/listings/Lm1001-04/refresh", token: tok})
		r.fails(t, 429, CodeQuotaExceeded)
		if s, err := strconv.Atoi(r.header.Get("Retry-After")); err != nil || s < 1 || s > 86400 {
			t.Fatalf("Retry-After %q", r.header.Get("Retry-After"))
		}
	})

	t.Run("purchase quota and unknown package", func(t *testing.T) {
		m := h.token("m1004", "merchant")
		for i := 0; i < 5; i++ {
			h.do(t, req{method: "POST", path: "/v1/credits/purchases", token: m, key: fmt.Sprint("q-", i), body: `{"package_code":"CP100"}`}).ok(t, &purchaseView{})
		}
		r := h.do(t, req{method: "POST", path: "/v1/credits/purchases", token: m, key: "q-5", body: `{"package_code":"CP100"}`})
		r.fails(t, 429, CodeQuotaExceeded)
		if r.header.Get("Retry-After") == "" {
			t.Fatalf("no Retry-After: %v", r.header)
		}
		h.do(t, req{method: "POST", path: "/v1/credits/purchases", token: h.token("m1005", "merchant"), key: "u-1", body: `{"package_code":"CP42"}`}).fails(t, 404, CodeNotFound)
	})

	t.Run("invalid request", func(t *testing.T) {
		// The edge accepts ids up to 64 bytes; the housing WSDL only 32.
		long := "L" + strings.Repeat("x", 40)
		e := h.do(t, req{method: "POST", path: "/v1/listings/" + long + "/refresh", token: tok}).fails(t, 422, CodeInvalidRequest)
		if !strings.Contains(e.Message, "listingId") {
			t.Fatalf("message %q does not name the field", e.Message)
		}
	})

	t.Run("merchant unknown to the third party", func(t *testing.T) {
		h.do(t, req{method: "GET", path: "/v1/credits", token: h.token("m9999", "merchant")}).fails(t, 404, CodeNotFound)
	})

	if n := h.calls(sim.Housing, "PromoteListing"); n != 3 {
		t.Fatalf("sim saw %d PromoteListing calls, want 3 (1 not owner, 2 for m1003)", n)
	}
}
