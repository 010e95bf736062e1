package edge

import (
	"strconv"
	"testing"
	"time"

	"github.com/bangbang-im/bangbang/marketing/ratelimit"
	"github.com/bangbang-im/bangbang/soap-clients/sim"
)

// tight allows burst requests of every class, then one an hour.
func tight(burst int) map[ratelimit.Class]ratelimit.Limit {
	l := ratelimit.Limit{Rate: 1, Burst: burst, Period: time.Hour}
	return map[ratelimit.Class]ratelimit.Limit{
		ratelimit.ClassRead: l, ratelimit.ClassRefresh: l, ratelimit.ClassPromote: l, ratelimit.ClassPurchase: l,
	}
}

// TestRateLimit: past its burst a merchant's class is refused with 429 and
// the headers that say when to come back, before any SOAP call; other
// classes and other merchants keep their own budgets.
func TestRateLimit(t *testing.T) {
	h := newHarness(t, options{limiter: ratelimit.NewLocal(tight(2), ratelimit.Options{})})
	tok := h.token("m1001", "merchant")
	refresh := req{method: "POST", path: "/v1/listings/Lm1001-01/refresh", token: tok}

	for i := 2; i > 0; i-- {
		r := h.do(t, refresh)
		r.ok(t, &refreshView{})
		if r.header.Get("RateLimit-Limit") != "2" || r.header.Get("RateLimit-Remaining") != strconv.Itoa(i-1) ||
			r.header.Get("RateLimit-Policy") == "" || r.header.Get("RateLimit-Reset") == "" {
			t.Fatalf("headers %v", r.header)
		}
	}
	r := h.do(t, refresh)
	r.fails(t, 429, CodeRateLimited)
	if s, err := strconv.Atoi(r.header.Get("Retry-After")); err != nil || s < 1 || s > 3600 ||
		r.header.Get("RateLimit-Remaining") != "0" || r.header.Get("RateLimit-Limit") != "2" {
		t.Fatalf("429 headers %v", r.header)
	}
	if n := h.calls(sim.Housing, "RefreshListing"); n != 2 {
		t.Fatalf("%d SOAP calls, want 2", n)
	}
	// A job post refresh shares the class; a read does not.
	h.do(t, req{method: "POST", path: "/v1/jobs/Jm1001-01/refresh", token: tok}).fails(t, 429, CodeRateLimited)
	h.do(t, req{method: "GET", path: "/v1/credits", token: tok}).ok(t, &creditsView{})
	// Another merchant has a budget of its own.
	h.do(t, req{method: "POST", path: "/v1/listings/Lm1002-01/refresh", token: h.token("m1002", "merchant")}).ok(t, &refreshView{})
	// Paid actions have their own class, charged before the key is claimed.
	pay := req{method: "POST", path: "/v1/listings/Lm1001-01/promotions", token: tok, body: `{"days":1}`}
	for i := 0; i < 2; i++ {
		pay.key = "p-" + strconv.Itoa(i)
		h.do(t, pay).ok(t, &promotionView{})
	}
	pay.key = "p-2"
	h.do(t, pay).fails(t, 429, CodeRateLimited)
	if n := h.calls(sim.Housing, "PromoteListing"); n != 2 {
		t.Fatalf("%d promotions, want 2", n)
	}
}

// TestRateLimitMisconfigured: a class without a limit refuses rather than
// running unlimited.
func TestRateLimitMisconfigured(t *testing.T) {
	limits := tight(5)
	delete(limits, ratelimit.ClassPurchase)
	h := newHarness(t, options{limiter: ratelimit.NewLocal(limits, ratelimit.Options{})})
	h.do(t, req{method: "POST", path: "/v1/credits/purchases", token: h.token("m1001", "merchant"), key: "x", body: `{"package_code":"CP100"}`}).
		fails(t, 500, CodeInternal)
	if n := h.calls(sim.Account, "BuyCreditPackage"); n != 0 {
		t.Fatalf("%d purchases", n)
	}
}
