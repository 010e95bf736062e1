package edge

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bangbang-im/bangbang/soap-clients/partner"
	"github.com/bangbang-im/bangbang/soap-clients/sim"
)

// TestUpstreamFailures: whatever a third party does wrong, the app gets a
// clear 5xx within the deadline, never the third party's own words, and a
// paid action is not charged twice.
func TestUpstreamFailures(t *testing.T) {
	const deadline = 400 * time.Millisecond
	h := newHarness(t, options{partner: func(line string, c *partner.Config) { c.Timeout = deadline }})
	tok := h.token("m1001", "merchant")

	for _, tc := range []struct {
		name   string
		faults sim.Faults
		status int
		code   string
	}{
		{"soap:Server fault with HTTP 500", sim.Faults{FaultRate: 1}, 502, CodeUpstreamError},
		{"soap:Server fault with HTTP 200", sim.Faults{FaultRate: 1, FaultStatusOK: true}, 502, CodeUpstreamError},
		{"HTML error page", sim.Faults{HTMLErrorRate: 1}, 502, CodeUpstreamError},
		{"malformed XML", sim.Faults{MalformedRate: 1}, 502, CodeUpstreamError},
		{"a body that never ends", sim.Faults{EndlessRate: 1}, 502, CodeUpstreamError},
		{"slower than the deadline", sim.Faults{Latency: 5 * time.Second}, 504, CodeUpstreamTimeout},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := h.sim.SetFaults(sim.Housing, tc.faults); err != nil {
				t.Fatal(err)
			}
			defer func() { _ = h.sim.SetFaults(sim.Housing, sim.Faults{}) }()
			for _, r := range []req{
				{method: "GET", path: "/v1/listings/Lm1001-01/stats?from=2025-03-01&to=2025-03-02"}, // a read, retried
				{method: "POST", path: "/v1/listings/Lm1001-01/refresh"},                            // a write, not retried
			} {
				r.token = tok
				began := time.Now()
				res := h.do(t, r)
				took := time.Since(began)
				res.fails(t, tc.status, tc.code)
				if took > deadline+time.Second {
					t.Fatalf("%s %s answered after %v; deadline %v", r.method, r.path, took, deadline)
				}
				if b := strings.ToLower(string(res.body)); strings.Contains(b, "temporarily") || strings.Contains(b, "html") || strings.Contains(b, "soap") {
					t.Fatalf("the third party's words reached the app: %s", res.body)
				}
			}
		})
	}

	t.Run("a lost answer is not charged twice", func(t *testing.T) {
		// The simulator performs the promotion, then fails: the edge cannot
		// know it happened, answers 502 and frees the key; the retry with
		// the same key sends the same requestId and is not charged again.
		before := h.credits(t, "m1001")
		if err := h.sim.SetFaults(sim.Housing, sim.Faults{FaultRate: 1, ApplyBeforeFailure: true}); err != nil {
			t.Fatal(err)
		}
		r := req{method: "POST", path: "/v1/listings/Lm1001-05/promotions", token: tok, key: "lost-1", body: `{"days":4}`}
		h.do(t, r).fails(t, 502, CodeUpstreamError)
		if c := h.credits(t, "m1001"); c != before-40 {
			t.Fatalf("credits %d, want %d after the applied call", c, before-40)
		}
		if err := h.sim.SetFaults(sim.Housing, sim.Faults{}); err != nil {
			t.Fatal(err)
		}
		var v promotionView
		h.do(t, r).ok(t, &v)
		if v.CreditsCharged != 40 || h.credits(t, "m1001") != before-40 || h.calls(sim.Housing, "PromoteListing") != 2 {
			t.Fatalf("retry %+v: credits %d (before %d), calls %d", v, h.credits(t, "m1001"), before, h.calls(sim.Housing, "PromoteListing"))
		}
	})

	t.Run("other lines unaffected", func(t *testing.T) {
		if err := h.sim.SetFaults(sim.Housing, sim.Faults{FaultRate: 1}); err != nil {
			t.Fatal(err)
		}
		defer func() { _ = h.sim.SetFaults(sim.Housing, sim.Faults{}) }()
		h.do(t, req{method: "GET", path: "/v1/credits", token: tok}).ok(t, &creditsView{})
	})
}

// TestThirdPartyDown: nothing listens at the endpoint any more.
func TestThirdPartyDown(t *testing.T) {
	gone := startSim(t)
	url := gone.URL(sim.Housing)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := gone.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, options{partner: func(line string, c *partner.Config) {
		if line == sim.Housing {
			c.Endpoint = url
		}
	}})
	tok := h.token("m1001", "merchant")
	h.do(t, req{method: "POST", path: "/v1/listings/Lm1001-01/refresh", token: tok}).fails(t, 502, CodeUpstreamError)
	r := h.do(t, req{method: "POST", path: "/v1/listings/Lm1001-01/promotions", token: tok, key: "down-1", body: `{"days":1}`})
	if e := r.fails(t, 502, CodeUpstreamError); strings.Contains(e.Message, "127.0.0.1") || strings.Contains(e.Message, "refused") {
		t.Fatalf("transport detail reached the app: %q", e.Message)
	}
}

// TestBreakerOpens: once a failing third party opens the breaker, calls are
// refused at once with 503 and Retry-After, and none reaches it.
func TestBreakerOpens(t *testing.T) {
	h := newHarness(t, options{partner: func(line string, c *partner.Config) {
		c.BreakerMinRequests, c.BreakerFailureRatio, c.BreakerOpenTimeout = 3, 0.5, time.Minute
		c.ReadRetries = -1
	}})
	tok := h.token("m1001", "merchant")
	if err := h.sim.SetFaults(sim.Recruitment, sim.Faults{FaultRate: 1}); err != nil {
		t.Fatal(err)
	}
	r := req{method: "POST", path: "/v1/jobs/Jm1001-01/refresh", token: tok}
	var opened bool
	for i := 0; i < 10 && !opened; i++ {
		res := h.do(t, r)
		switch res.status {
		case 502:
			res.fails(t, 502, CodeUpstreamError)
		case 503:
			res.fails(t, 503, CodeUpstreamUnavailable)
			if s, err := strconv.Atoi(res.header.Get("Retry-After")); err != nil || s < 1 || s > 60 {
				t.Fatalf("Retry-After %q", res.header.Get("Retry-After"))
			}
			opened = true
		default:
			t.Fatalf("status %d: %s", res.status, res.body)
		}
	}
	if !opened {
		t.Fatal("the breaker did not open after 10 failures")
	}
	calls := h.calls(sim.Recruitment, "RefreshJobPost")
	h.do(t, r).fails(t, 503, CodeUpstreamUnavailable)
	h.do(t, req{method: "GET", path: "/v1/jobs/Jm1001-01/applicants", token: tok}).fails(t, 503, CodeUpstreamUnavailable)
	if n := h.calls(sim.Recruitment, "RefreshJobPost"); n != calls {
		t.Fatalf("calls went through an open breaker: %d -> %d", calls, n)
	}
	// One third party's breaker is its own.
	h.do(t, req{method: "POST", path: "/v1/listings/Lm1001-01/refresh", token: tok}).ok(t, &refreshView{})
}

// TestPartnerCredentialsRejected: our partner key is wrong. Merchants get a
// plain 502; the operators get an error in the log.
func TestPartnerCredentialsRejected(t *testing.T) {
	h := newHarness(t, options{partner: func(line string, c *partner.Config) { c.PartnerKey = "wrong" }})
	res := h.do(t, req{method: "GET", path: "/v1/credits", token: h.token("m1001", "merchant")})
	if e := res.fails(t, 502, CodeUpstreamError); strings.Contains(strings.ToLower(e.Message), "auth") {
		t.Fatalf("message %q", e.Message)
	}
	if logs := h.logs.String(); !strings.Contains(logs, `"level":"ERROR"`) || !strings.Contains(logs, "partner credentials") {
		t.Fatalf("no loud log line:\n%s", logs)
	}
}
