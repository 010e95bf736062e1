package partner_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/sony/gobreaker/v2"

	"github.com/bangbang-im/bangbang/soap-clients/partner"
	"github.com/bangbang-im/bangbang/soap-clients/sim"
)

// TestDeclaredFaults: every fault the housing WSDL declares comes back as a
// *Fault of its kind with its detail, whether the server sends faults with
// HTTP 500 (as SOAP 1.1 says) or with HTTP 200.
func TestDeclaredFaults(t *testing.T) {
	for _, statusOK := range []bool{false, true} {
		t.Run(fmt.Sprintf("status200=%v", statusOK), func(t *testing.T) {
			s := startSim(t)
			if err := s.SetFaults(sim.Housing, sim.Faults{FaultStatusOK: statusOK}); err != nil {
				t.Fatal(err)
			}
			c, port := newHousing(t, s)
			ctx := context.Background()

			_, err := refresh(ctx, c, port, "m1001", "Lm1001-09")
			f := asFault(t, err)
			if f.Kind != partner.FaultNotFound || f.ResourceType != "listing" || f.ResourceID != "Lm1001-09" ||
				f.Line != "housing" || f.Op != "RefreshListing" || f.Code != "soap:Client" || f.Message == "" {
				t.Errorf("not found: %+v", f)
			}

			_, err = refresh(ctx, c, port, "m1001", "Lm1002-01")
			if f := asFault(t, err); f.Kind != partner.FaultNotOwner || f.ResourceType != "listing" || f.ResourceID != "Lm1002-01" {
				t.Errorf("not owner: %+v", f)
			}

			if _, err := promote(ctx, c, port, "m1003", "Lm1003-01", 30, "r1"); err != nil {
				t.Fatal(err)
			}
			_, err = promote(ctx, c, port, "m1003", "Lm1003-02", 30, "r2")
			if f := asFault(t, err); f.Kind != partner.FaultInsufficientCredits || f.Needed != 300 || f.Available != 200 || f.Op != "PromoteListing" {
				t.Errorf("insufficient credits: %+v", f)
			}

			_, err = promote(ctx, c, port, "m1003", "Lm1003-01", 31, "r3")
			if f := asFault(t, err); f.Kind != partner.FaultInvalidRequest || f.Field != "days" || f.Reason == "" {
				t.Errorf("invalid request: %+v", f)
			}

			for i := 0; i < 10; i++ {
				if _, err := refresh(ctx, c, port, "m1004", "Lm1004-01"); err != nil {
					t.Fatalf("refresh %d: %v", i+1, err)
				}
			}
			_, err = refresh(ctx, c, port, "m1004", "Lm1004-01")
			f = asFault(t, err)
			if f.Kind != partner.FaultQuotaExceeded || f.RetryAfter <= 0 || f.RetryAfter > 24*time.Hour || f.RetryAfter%time.Second != 0 {
				t.Errorf("quota exceeded: %+v", f)
			}
			if got := partner.RetryAfter(err); got != f.RetryAfter {
				t.Errorf("RetryAfter = %v, want %v", got, f.RetryAfter)
			}

			// Each fault was one call: declared faults are never retried.
			if got := s.Calls(sim.Housing, "RefreshListing"); got != 13 {
				t.Errorf("RefreshListing calls = %d, want 13", got)
			}
			if got := s.Calls(sim.Housing, "PromoteListing"); got != 3 {
				t.Errorf("PromoteListing calls = %d, want 3", got)
			}
			if st := c.BreakerState(); st != gobreaker.StateClosed {
				t.Errorf("breaker %v after declared faults, want closed", st)
			}
		})
	}
}

// TestServerFault: an injected soap:Server fault, with HTTP 500 and 200, is a
// FaultServer carrying the fault text for the logs.
func TestServerFault(t *testing.T) {
	for _, statusOK := range []bool{false, true} {
		t.Run(fmt.Sprintf("status200=%v", statusOK), func(t *testing.T) {
			s := startSim(t)
			if err := s.SetFaults(sim.Housing, sim.Faults{FaultRate: 1, FaultStatusOK: statusOK}); err != nil {
				t.Fatal(err)
			}
			c, port := newHousing(t, s)
			_, err := refresh(context.Background(), c, port, "m1001", "Lm1001-01")
			f := asFault(t, err)
			if f.Kind != partner.FaultServer || f.Code != "soap:Server" || f.Message != "service temporarily unavailable" {
				t.Errorf("fault %+v", f)
			}
			if partner.RetryAfter(err) != 0 {
				t.Errorf("RetryAfter = %v for a server fault", partner.RetryAfter(err))
			}
		})
	}
}

// TestWrongCredentials: HTTP 401 is FaultAuth, reaches no operation, is not
// retried, and does not open the breaker (the third party is healthy).
func TestWrongCredentials(t *testing.T) {
	s := startSim(t)
	c, port := newHousing(t, s, func(cfg *partner.Config) {
		cfg.PartnerKey = "wrong"
		cfg.BreakerMinRequests = 2
	})
	for i := 0; i < 4; i++ {
		_, err := leads(context.Background(), c, port, "m1001", 5)
		if f := asFault(t, err); f.Kind != partner.FaultAuth || f.Line != "housing" || f.Op != "ListLeads" {
			t.Fatalf("fault %+v", f)
		}
	}
	st, err := s.Stats(sim.Housing)
	if err != nil {
		t.Fatal(err)
	}
	if st.AuthFailures != 4 || st.Calls["ListLeads"] != 0 {
		t.Errorf("sim saw %d auth failures and %d calls, want 4 and 0", st.AuthFailures, st.Calls["ListLeads"])
	}
	if got := c.BreakerState(); got != gobreaker.StateClosed {
		t.Errorf("breaker %v, want closed", got)
	}
}
