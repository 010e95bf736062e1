package partner_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"go.uber.org/goleak"

	genhousing "github.com/bangbang-im/bangbang/gen/soap/housing"
	"github.com/bangbang-im/bangbang/soap-clients/partner"
	"github.com/bangbang-im/bangbang/soap-clients/sim"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const nsHousing = "urn:bangbang:partner:housing:v1"

// startSim starts the simulators on loopback ports and shuts them down when
// the test ends (after the clients, registered later, close).
func startSim(t testing.TB, adjust ...func(*sim.Config)) *sim.Sim {
	t.Helper()
	cfg := sim.Config{HousingAddr: "127.0.0.1:0", RecruitmentAddr: "127.0.0.1:0", AccountAddr: "127.0.0.1:0"}
	for _, a := range adjust {
		a(&cfg)
	}
	s, err := sim.New(cfg)
	if err != nil {
		t.Fatalf("sim.New: %v", err)
	}
	if err := s.Start(); err != nil {
		t.Fatalf("sim.Start: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Errorf("sim.Shutdown: %v", err)
		}
	})
	return s
}

// newHousing builds a partner.Client for the sim's housing line and the
// generated port on it; the client's idle connections close when the test ends.
func newHousing(t testing.TB, s *sim.Sim, adjust ...func(*partner.Config)) (*partner.Client, genhousing.HousingPortType) {
	t.Helper()
	return newHousingAt(t, s.URL(sim.Housing), adjust...)
}

// newHousingAt is newHousing for any endpoint.
func newHousingAt(t testing.TB, endpoint string, adjust ...func(*partner.Config)) (*partner.Client, genhousing.HousingPortType) {
	t.Helper()
	cfg := partner.Config{
		Name:       "housing",
		Namespace:  nsHousing,
		Endpoint:   endpoint,
		PartnerID:  sim.DefaultPartnerID,
		PartnerKey: sim.DefaultPartnerKey,
	}
	for _, a := range adjust {
		a(&cfg)
	}
	c, err := partner.New(cfg)
	if err != nil {
		t.Fatalf("partner.New: %v", err)
	}
	t.Cleanup(c.Close)
	return c, genhousing.NewHousingPortType(c.SOAP)
}

// Calls of the housing operations through Do.

func refresh(ctx context.Context, c *partner.Client, port genhousing.HousingPortType, merchant, listing string) (*genhousing.RefreshListingResponse, error) {
	return partner.Do(ctx, c, "RefreshListing", false, func(ctx context.Context) (*genhousing.RefreshListingResponse, error) {
		return port.RefreshListingContext(ctx, &genhousing.RefreshListing{MerchantId: merchant, ListingId: listing})
	})
}

func promote(ctx context.Context, c *partner.Client, port genhousing.HousingPortType, merchant, listing string, days int32, requestID string) (*genhousing.PromoteListingResponse, error) {
	return partner.Do(ctx, c, "PromoteListing", false, func(ctx context.Context) (*genhousing.PromoteListingResponse, error) {
		return port.PromoteListingContext(ctx, &genhousing.PromoteListing{MerchantId: merchant, ListingId: listing, Days: days, RequestId: requestID})
	})
}

func leads(ctx context.Context, c *partner.Client, port genhousing.HousingPortType, merchant string, pageSize int32) (*genhousing.ListLeadsResponse, error) {
	return partner.Do(ctx, c, "ListLeads", true, func(ctx context.Context) (*genhousing.ListLeadsResponse, error) {
		return port.ListLeadsContext(ctx, &genhousing.ListLeads{MerchantId: merchant, PageSize: pageSize})
	})
}

// asFault returns err as a *partner.Fault or fails the test.
func asFault(t *testing.T, err error) *partner.Fault {
	t.Helper()
	var f *partner.Fault
	if !errors.As(err, &f) {
		t.Fatalf("error %v (%T) is not a *partner.Fault", err, err)
	}
	return f
}

// wantErr fails the test unless err wraps want and no other kind.
func wantErr(t *testing.T, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("error %v, want %v", err, want)
	}
	var f *partner.Fault
	if errors.As(err, &f) {
		t.Fatalf("error %v is also a Fault", err)
	}
	n := 0
	for _, kind := range []error{partner.ErrUnavailable, partner.ErrTimeout, partner.ErrBadResponse, partner.ErrTransport} {
		if errors.Is(err, kind) {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("error %v wraps %d kinds, want exactly one", err, n)
	}
}

// waitFor polls cond until it holds, failing the test after a deadline.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// hookTransport is a pooled transport that runs a function after each
// exchange: tests use it to change the simulator's faults between attempts.
type hookTransport struct {
	base  *http.Transport
	after func(n int)
	n     int
}

func newHookTransport(t *testing.T, after func(n int)) *hookTransport {
	h := &hookTransport{base: &http.Transport{}, after: after}
	t.Cleanup(h.base.CloseIdleConnections)
	return h
}

func (h *hookTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := h.base.RoundTrip(r)
	h.n++
	h.after(h.n)
	return resp, err
}

func (h *hookTransport) CloseIdleConnections() { h.base.CloseIdleConnections() }
