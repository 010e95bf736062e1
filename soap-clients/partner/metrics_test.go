package partner_test

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/sony/gobreaker/v2"

	genrecruitment "github.com/bangbang-im/bangbang/gen/soap/recruitment"
	"github.com/bangbang-im/bangbang/soap-clients/partner"
	"github.com/bangbang-im/bangbang/soap-clients/sim"
	"github.com/bangbang-im/bangbang/tracing/metricstest"
)

// newMetrics is a fresh registry with the partner metrics on it.
func newMetrics(t *testing.T) (*prometheus.Registry, *partner.Metrics) {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	m, err := partner.NewMetrics(reg)
	if err != nil {
		t.Fatalf("NewMetrics: %v", err)
	}
	return reg, m
}

func calls(op, outcome string) string {
	return `bangbang_soap_calls_total{operation="` + op + `",outcome="` + outcome + `",partner="housing"}`
}

func attempts(op string) string {
	return `bangbang_soap_attempts_total{operation="` + op + `",partner="housing"}`
}

func timed(op, outcome string) string {
	return `bangbang_soap_call_duration_seconds{operation="` + op + `",outcome="` + outcome + `",partner="housing"}`
}

const breakerState = `bangbang_soap_breaker_state{partner="housing"}`

// TestMetricsOutcomes: a success and a declared fault are one call and one
// attempt each, under their outcome, timed; the breaker stays closed.
func TestMetricsOutcomes(t *testing.T) {
	reg, m := newMetrics(t)
	s := startSim(t)
	c, port := newHousing(t, s, func(cfg *partner.Config) { cfg.Metrics = m })
	ctx := context.Background()
	if _, err := leads(ctx, c, port, "m1001", 5); err != nil {
		t.Fatal(err)
	}
	_, err := refresh(ctx, c, port, "m1001", "Lm1002-01")
	if f := asFault(t, err); f.Kind != partner.FaultNotOwner {
		t.Fatalf("fault %+v", f)
	}
	metricstest.Want(t, reg, map[string]float64{
		calls("ListLeads", "ok"):                   1,
		calls("RefreshListing", "fault_not_owner"): 1,
		timed("ListLeads", "ok"):                   1,
		timed("RefreshListing", "fault_not_owner"): 1,
		attempts("ListLeads"):                      1,
		attempts("RefreshListing"):                 1,
		breakerState:                               0,
	})
}

// TestMetricsRetry: a read that fails once and succeeds on its retry is one
// call, "ok", of two attempts.
func TestMetricsRetry(t *testing.T) {
	reg, m := newMetrics(t)
	s := startSim(t)
	if err := s.SetFaults(sim.Housing, sim.Faults{FaultRate: 1}); err != nil {
		t.Fatal(err)
	}
	hook := newHookTransport(t, func(n int) {
		if n == 1 {
			if err := s.SetFaults(sim.Housing, sim.Faults{}); err != nil {
				t.Error(err)
			}
		}
	})
	c, port := newHousing(t, s, func(cfg *partner.Config) { cfg.Metrics, cfg.Transport = m, hook })
	if _, err := leads(context.Background(), c, port, "m1001", 5); err != nil {
		t.Fatal(err)
	}
	metricstest.Want(t, reg, map[string]float64{
		calls("ListLeads", "ok"): 1,
		timed("ListLeads", "ok"): 1,
		attempts("ListLeads"):    2,
	})
}

// TestMetricsBreakerOpen: failures open the breaker, which the gauge shows;
// the calls it then refuses are "unavailable" and make no attempt. Once the
// open timeout has passed, a scrape shows it half-open without any call.
func TestMetricsBreakerOpen(t *testing.T) {
	reg, m := newMetrics(t)
	s := startSim(t)
	if err := s.SetFaults(sim.Housing, sim.Faults{FaultRate: 1}); err != nil {
		t.Fatal(err)
	}
	c, port := newHousing(t, s, func(cfg *partner.Config) {
		cfg.Metrics = m
		cfg.ReadRetries = -1
		cfg.BreakerMinRequests = 4
		cfg.BreakerOpenTimeout = 200 * time.Millisecond
	})
	ctx := context.Background()
	for i := 0; i < 4; i++ {
		_, err := leads(ctx, c, port, "m1001", 5)
		if f := asFault(t, err); f.Kind != partner.FaultServer {
			t.Fatalf("call %d: %+v", i+1, f)
		}
	}
	for i := 0; i < 2; i++ {
		_, err := leads(ctx, c, port, "m1001", 5)
		wantErr(t, err, partner.ErrUnavailable)
	}
	metricstest.Want(t, reg, map[string]float64{
		calls("ListLeads", "fault_server"): 4,
		calls("ListLeads", "unavailable"):  2,
		attempts("ListLeads"):              4,
		breakerState:                       2,
	})

	waitFor(t, "half-open", func() bool {
		fams, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range fams {
			if f.GetName() == "bangbang_soap_breaker_state" {
				return f.GetMetric()[0].GetGauge().GetValue() == 1
			}
		}
		return false
	})
	if got := c.BreakerState(); got != gobreaker.StateHalfOpen {
		t.Fatalf("breaker %v after the gauge said half-open", got)
	}
}

// TestMetricsFailureKinds: each failure kind Do wraps has its outcome.
func TestMetricsFailureKinds(t *testing.T) {
	s := startSim(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := "http://" + ln.Addr().String() + "/soap/housing/v1"
	ln.Close()

	for _, tc := range []struct {
		outcome  string
		faults   sim.Faults
		endpoint string
		timeout  time.Duration
	}{
		{outcome: "timeout", faults: sim.Faults{Latency: 5 * time.Second}, timeout: 50 * time.Millisecond},
		{outcome: "bad_response", faults: sim.Faults{MalformedRate: 1}},
		{outcome: "fault_server", faults: sim.Faults{FaultRate: 1}},
		{outcome: "transport", endpoint: refused},
	} {
		t.Run(tc.outcome, func(t *testing.T) {
			if err := s.SetFaults(sim.Housing, tc.faults); err != nil {
				t.Fatal(err)
			}
			endpoint := tc.endpoint
			if endpoint == "" {
				endpoint = s.URL(sim.Housing)
			}
			reg, m := newMetrics(t)
			c, port := newHousingAt(t, endpoint, func(cfg *partner.Config) {
				cfg.Metrics, cfg.ReadRetries, cfg.Timeout = m, -1, tc.timeout
			})
			if _, err := leads(context.Background(), c, port, "m1001", 5); err == nil {
				t.Fatal("leads succeeded")
			}
			metricstest.Want(t, reg, map[string]float64{
				calls("ListLeads", tc.outcome): 1,
				timed("ListLeads", tc.outcome): 1,
				attempts("ListLeads"):          1,
			})
		})
	}
}

// TestMetricsShared: two NewMetrics on one registry share the series, so the
// clients of two third parties are reported side by side.
func TestMetricsShared(t *testing.T) {
	reg, m1 := newMetrics(t)
	m2, err := partner.NewMetrics(reg)
	if err != nil {
		t.Fatalf("second NewMetrics: %v", err)
	}
	s := startSim(t)
	hc, hport := newHousing(t, s, func(cfg *partner.Config) { cfg.Metrics = m1 })
	rc, err := partner.New(partner.Config{
		Name: "recruitment", Namespace: "urn:bangbang:partner:recruitment:v1", Endpoint: s.URL(sim.Recruitment),
		PartnerID: sim.DefaultPartnerID, PartnerKey: sim.DefaultPartnerKey, Metrics: m2,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(rc.Close)
	rport := genrecruitment.NewRecruitmentPortType(rc.SOAP)

	ctx := context.Background()
	if _, err := leads(ctx, hc, hport, "m1001", 5); err != nil {
		t.Fatal(err)
	}
	_, err = partner.Do(ctx, rc, "ListApplicants", true, func(ctx context.Context) (*genrecruitment.ListApplicantsResponse, error) {
		return rport.ListApplicantsContext(ctx, &genrecruitment.ListApplicants{MerchantId: "m1001", JobPostId: "Jm1001-01"})
	})
	if err != nil {
		t.Fatal(err)
	}
	metricstest.Want(t, reg, map[string]float64{
		calls("ListLeads", "ok"): 1,
		`bangbang_soap_calls_total{operation="ListApplicants",outcome="ok",partner="recruitment"}`: 1,
		breakerState: 0,
		`bangbang_soap_breaker_state{partner="recruitment"}`: 0,
	})
}

// TestNewMetricsNilRegisterer: no registry, no metrics, and a Client without
// them still works.
func TestNewMetricsNilRegisterer(t *testing.T) {
	m, err := partner.NewMetrics(nil)
	if m != nil || err != nil {
		t.Fatalf("NewMetrics(nil) = %v, %v; want nil, nil", m, err)
	}
	s := startSim(t)
	c, port := newHousing(t, s, func(cfg *partner.Config) { cfg.Metrics = m })
	if _, err := leads(context.Background(), c, port, "m1001", 5); err != nil {
		t.Fatal(err)
	}
}
