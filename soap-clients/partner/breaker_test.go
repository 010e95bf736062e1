package partner_test

import (
	"context"
	"testing"
	"time"

	"github.com/sony/gobreaker/v2"

	"github.com/bangbang-im/bangbang/soap-clients/partner"
	"github.com/bangbang-im/bangbang/soap-clients/sim"
)

// TestBreaker: failures open the breaker; while open, calls fail at once
// with ErrUnavailable and never reach the third party; after OpenTimeout a
// failing probe opens it again and a good one closes it.
func TestBreaker(t *testing.T) {
	s := startSim(t)
	if err := s.SetFaults(sim.Housing, sim.Faults{FaultRate: 1}); err != nil {
		t.Fatal(err)
	}
	const openTimeout = 200 * time.Millisecond
	c, port := newHousing(t, s, func(cfg *partner.Config) {
		cfg.ReadRetries = -1
		cfg.BreakerMinRequests = 4
		cfg.BreakerFailureRatio = 0.5
		cfg.BreakerOpenTimeout = openTimeout
	})
	ctx := context.Background()
	for i := 0; i < 4; i++ {
		_, err := leads(ctx, c, port, "m1001", 5)
		if f := asFault(t, err); f.Kind != partner.FaultServer {
			t.Fatalf("call %d: %+v", i+1, f)
		}
	}
	if got := c.BreakerState(); got != gobreaker.StateOpen {
		t.Fatalf("breaker %v after 4 failures, want open", got)
	}

	start := time.Now()
	_, err := leads(ctx, c, port, "m1001", 5)
	wantErr(t, err, partner.ErrUnavailable)
	if ra := partner.RetryAfter(err); ra <= 0 || ra > openTimeout {
		t.Errorf("RetryAfter = %v, want in (0, %v]", ra, openTimeout)
	}
	if elapsed := time.Since(start); elapsed > time.Second {
		t.Errorf("refusal took %v", elapsed)
	}
	if got := s.Calls(sim.Housing, "ListLeads"); got != 4 {
		t.Errorf("ListLeads calls = %d, want 4: an open breaker must not call", got)
	}

	// Still failing: the probe fails and the breaker opens again.
	waitFor(t, "half-open", func() bool { return c.BreakerState() == gobreaker.StateHalfOpen })
	if _, err := leads(ctx, c, port, "m1001", 5); err == nil {
		t.Fatal("probe succeeded against a failing sim")
	}
	if got := c.BreakerState(); got != gobreaker.StateOpen {
		t.Fatalf("breaker %v after a failed probe, want open", got)
	}

	// Healed: the next probe closes it.
	if err := s.SetFaults(sim.Housing, sim.Faults{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "half-open", func() bool { return c.BreakerState() == gobreaker.StateHalfOpen })
	if _, err := leads(ctx, c, port, "m1001", 5); err != nil {
		t.Fatalf("probe: %v", err)
	}
	if got := c.BreakerState(); got != gobreaker.StateClosed {
		t.Fatalf("breaker %v after a good probe, want closed", got)
	}
	if got := s.Calls(sim.Housing, "ListLeads"); got != 6 {
		t.Errorf("ListLeads calls = %d, want 6", got)
	}
}

// TestBreakerIgnoresDeclaredFaults: a merchant asking for what does not exist
// says nothing about the third party's health.
func TestBreakerIgnoresDeclaredFaults(t *testing.T) {
	s := startSim(t)
	c, port := newHousing(t, s, func(cfg *partner.Config) { cfg.BreakerMinRequests = 2 })
	for i := 0; i < 6; i++ {
		_, err := refresh(context.Background(), c, port, "m1001", "Lm1002-01")
		if f := asFault(t, err); f.Kind != partner.FaultNotOwner {
			t.Fatalf("fault %+v", f)
		}
	}
	if got := c.BreakerState(); got != gobreaker.StateClosed {
		t.Errorf("breaker %v, want closed", got)
	}
	if got := s.Calls(sim.Housing, "RefreshListing"); got != 6 {
		t.Errorf("RefreshListing calls = %d, want 6", got)
	}
}
