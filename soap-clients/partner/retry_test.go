package partner_test

import (
	"context"
	"testing"

	"github.com/bangbang-im/bangbang/soap-clients/partner"
	"github.com/bangbang-im/bangbang/soap-clients/sim"
)

// TestReadRetried: a read that fails once (server fault, HTML error page,
// malformed answer) succeeds on its second attempt.
func TestReadRetried(t *testing.T) {
	for name, faults := range map[string]sim.Faults{
		"server fault":     {FaultRate: 1},
		"server fault 200": {FaultRate: 1, FaultStatusOK: true},
		"html 500":         {HTMLErrorRate: 1},
		"malformed":        {MalformedRate: 1},
	} {
		t.Run(name, func(t *testing.T) {
			s := startSim(t)
			if err := s.SetFaults(sim.Housing, faults); err != nil {
				t.Fatal(err)
			}
			// The sim heals after the first exchange.
			hook := newHookTransport(t, func(n int) {
				if n == 1 {
					if err := s.SetFaults(sim.Housing, sim.Faults{}); err != nil {
						t.Error(err)
					}
				}
			})
			c, port := newHousing(t, s, func(cfg *partner.Config) { cfg.Transport = hook })
			resp, err := leads(context.Background(), c, port, "m1001", 5)
			if err != nil {
				t.Fatalf("leads: %v", err)
			}
			if len(resp.Lead) != 5 {
				t.Errorf("%d leads, want 5", len(resp.Lead))
			}
			if got := s.Calls(sim.Housing, "ListLeads"); got != 2 {
				t.Errorf("ListLeads calls = %d, want 2", got)
			}
		})
	}
}

// TestPaidNeverRetried: a paid call that fails is not repeated, even when the
// third party charged before failing: one call, one charge.
func TestPaidNeverRetried(t *testing.T) {
	for name, faults := range map[string]sim.Faults{
		"server fault":         {FaultRate: 1},
		"html 500":             {HTMLErrorRate: 1},
		"answer lost":          {MalformedRate: 1, ApplyBeforeFailure: true},
		"fault after charging": {FaultRate: 1, ApplyBeforeFailure: true},
	} {
		t.Run(name, func(t *testing.T) {
			s := startSim(t)
			if err := s.SetFaults(sim.Housing, faults); err != nil {
				t.Fatal(err)
			}
			c, port := newHousing(t, s)
			if _, err := promote(context.Background(), c, port, "m1002", "Lm1002-01", 3, "paid-1"); err == nil {
				t.Fatal("promote succeeded")
			}
			if got := s.Calls(sim.Housing, "PromoteListing"); got != 1 {
				t.Errorf("PromoteListing calls = %d, want 1", got)
			}
			want := int64(500)
			if faults.ApplyBeforeFailure {
				want = 470
			}
			if got, _ := s.Credits("m1002"); got != want {
				t.Errorf("m1002 has %d credits, want %d", got, want)
			}
		})
	}
}

// TestDeclaredFaultNotRetried: a read refused for the merchant's own reasons
// is one call.
func TestDeclaredFaultNotRetried(t *testing.T) {
	s := startSim(t)
	c, port := newHousing(t, s)
	_, err := leads(context.Background(), c, port, "m9999", 5)
	if f := asFault(t, err); f.Kind != partner.FaultNotFound || f.ResourceType != "merchant" {
		t.Fatalf("fault %+v", f)
	}
	if got := s.Calls(sim.Housing, "ListLeads"); got != 1 {
		t.Errorf("ListLeads calls = %d, want 1", got)
	}
}

// TestRetryBudget: against a third party that always fails, retries stop
// once the budget is spent: the bucket's 10 tokens plus 0.1 per call.
func TestRetryBudget(t *testing.T) {
	s := startSim(t)
	if err := s.SetFaults(sim.Housing, sim.Faults{FaultRate: 1}); err != nil {
		t.Fatal(err)
	}
	c, port := newHousing(t, s, func(cfg *partner.Config) {
		cfg.RetryBudget = 0.1
		cfg.BreakerMinRequests = 1 << 30 // keep the breaker out of it
	})
	const calls = 30
	for i := 0; i < calls; i++ {
		if _, err := leads(context.Background(), c, port, "m1001", 5); err == nil {
			t.Fatal("leads succeeded against a failing sim")
		}
	}
	retries := s.Calls(sim.Housing, "ListLeads") - calls
	// Without a budget there would be 2 per call, 60.
	if retries < 10 || retries > 10+calls/10 {
		t.Errorf("%d retries for %d failing calls, want between 10 and %d", retries, calls, 10+calls/10)
	}
}
