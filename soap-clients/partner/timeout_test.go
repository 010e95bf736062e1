package partner_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/sony/gobreaker/v2"

	"github.com/bangbang-im/bangbang/soap-clients/partner"
	"github.com/bangbang-im/bangbang/soap-clients/sim"
)

// TestSlowThirdParty: a third party slower than the deadline costs the
// deadline and no more, whichever of Timeout and the caller's is first.
func TestSlowThirdParty(t *testing.T) {
	s := startSim(t)
	if err := s.SetFaults(sim.Housing, sim.Faults{Latency: 5 * time.Second}); err != nil {
		t.Fatal(err)
	}
	const deadline = 300 * time.Millisecond
	for name, tc := range map[string]struct {
		timeout time.Duration
		ctx     func() (context.Context, context.CancelFunc)
	}{
		"Timeout": {deadline, func() (context.Context, context.CancelFunc) { return context.WithCancel(context.Background()) }},
		"caller deadline": {10 * time.Second, func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), deadline)
		}},
	} {
		t.Run(name, func(t *testing.T) {
			c, port := newHousing(t, s, func(cfg *partner.Config) { cfg.Timeout = tc.timeout })
			ctx, cancel := tc.ctx()
			defer cancel()
			start := time.Now()
			_, err := promote(ctx, c, port, "m1001", "Lm1001-01", 1, "slow-"+name)
			elapsed := time.Since(start)
			wantErr(t, err, partner.ErrTimeout)
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("error %v does not wrap context.DeadlineExceeded", err)
			}
			if elapsed < deadline || elapsed > deadline+time.Second {
				t.Errorf("took %v, deadline %v", elapsed, deadline)
			}
		})
	}
	// The sim is told the client went away, and charged nothing.
	if c, _ := s.Credits("m1001"); c != 500 {
		t.Errorf("m1001 has %d credits, want 500", c)
	}
}

// TestAttemptTimeout: each attempt of a read gets AttemptTimeout; retries
// fit in Timeout.
func TestAttemptTimeout(t *testing.T) {
	s := startSim(t)
	if err := s.SetFaults(sim.Housing, sim.Faults{Latency: 5 * time.Second}); err != nil {
		t.Fatal(err)
	}
	c, port := newHousing(t, s, func(cfg *partner.Config) {
		cfg.Timeout = 2 * time.Second
		cfg.AttemptTimeout = 100 * time.Millisecond
	})
	start := time.Now()
	_, err := leads(context.Background(), c, port, "m1001", 5)
	elapsed := time.Since(start)
	wantErr(t, err, partner.ErrTimeout)
	if elapsed < 300*time.Millisecond || elapsed > 2*time.Second {
		t.Errorf("three attempts of 100ms took %v", elapsed)
	}
	waitFor(t, "three attempts at the sim", func() bool { return s.Calls(sim.Housing, "ListLeads") == 3 })
}

// TestCallerCancel: a caller that gives up gets ErrTimeout wrapping
// context.Canceled at once, and the breaker does not hold it against the
// third party.
func TestCallerCancel(t *testing.T) {
	s := startSim(t)
	if err := s.SetFaults(sim.Housing, sim.Faults{Latency: 5 * time.Second}); err != nil {
		t.Fatal(err)
	}
	c, port := newHousing(t, s, func(cfg *partner.Config) { cfg.BreakerMinRequests = 1 })
	for i := 0; i < 3; i++ {
		ctx, cancel := context.WithCancel(context.Background())
		n := s.Calls(sim.Housing, "ListLeads")
		done := make(chan struct{})
		go func() {
			defer close(done)
			defer cancel()
			// Cancel once the call is at the sim, so that it is under way.
			give := time.Now().Add(5 * time.Second)
			for s.Calls(sim.Housing, "ListLeads") == n && time.Now().Before(give) {
				time.Sleep(time.Millisecond)
			}
		}()
		_, err := leads(ctx, c, port, "m1001", 5)
		wantErr(t, err, partner.ErrTimeout)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("error %v does not wrap context.Canceled", err)
		}
		<-done
	}
	if got := c.BreakerState(); got != gobreaker.StateClosed {
		t.Errorf("breaker %v after cancellations, want closed", got)
	}
	if got := s.Calls(sim.Housing, "ListLeads"); got != 3 {
		t.Errorf("ListLeads calls = %d, want 3 (a canceled call is not retried)", got)
	}
}
