package housing_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/hooklift/gowsdl/soap"
	"go.uber.org/goleak"

	gen "github.com/bangbang-im/bangbang/gen/soap/housing"
	"github.com/bangbang-im/bangbang/soap-clients/housing"
	"github.com/bangbang-im/bangbang/soap-clients/partner"
	"github.com/bangbang-im/bangbang/soap-clients/sim"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func start(t *testing.T) (*sim.Sim, *housing.Client) {
	t.Helper()
	s, err := sim.New(sim.Config{HousingAddr: "127.0.0.1:0", RecruitmentAddr: "127.0.0.1:0", AccountAddr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Errorf("sim shutdown: %v", err)
		}
	})
	// Name and Namespace are the line's, whatever the caller put there.
	c, err := housing.New(partner.Config{
		Name: "wrong", Namespace: "urn:wrong", Endpoint: s.URL(sim.Housing),
		PartnerID: sim.DefaultPartnerID, PartnerKey: sim.DefaultPartnerKey,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return s, c
}

func do[T any](c *housing.Client, op string, idempotent bool, call func(context.Context) (T, error)) (T, error) {
	return partner.Do(context.Background(), c.Client, op, idempotent, call)
}

func wantFault(t *testing.T, err error, want partner.Fault) {
	t.Helper()
	var f *partner.Fault
	if !errors.As(err, &f) {
		t.Fatalf("error %v, want a %s fault", err, want.Kind)
	}
	got := *f
	got.Code, got.Message = "", ""
	if want.Kind == partner.FaultQuotaExceeded && got.RetryAfter > 0 && got.RetryAfter <= 24*time.Hour {
		got.RetryAfter = 0
	}
	want.Line = housing.Name
	if got != want {
		t.Errorf("fault %+v, want %+v", got, want)
	}
}

func TestOperations(t *testing.T) {
	s, c := start(t)
	if c.Name() != housing.Name {
		t.Errorf("Name() = %q", c.Name())
	}

	r, err := do(c, "RefreshListing", false, func(ctx context.Context) (*gen.RefreshListingResponse, error) {
		return c.Port.RefreshListingContext(ctx, &gen.RefreshListing{MerchantId: "m1001", ListingId: "Lm1001-01"})
	})
	if err != nil || r.ListingId != "Lm1001-01" || r.DailyQuota != 10 || r.RemainingQuota != 9 {
		t.Fatalf("RefreshListing: %+v, %v", r, err)
	}

	p, err := do(c, "PromoteListing", false, func(ctx context.Context) (*gen.PromoteListingResponse, error) {
		return c.Port.PromoteListingContext(ctx, &gen.PromoteListing{MerchantId: "m1001", ListingId: "Lm1001-02", Days: 7, RequestId: "p1"})
	})
	if err != nil || p.PromotionId == "" || p.Days != 7 || p.CreditsCharged != 70 || p.CreditsRemaining != 430 {
		t.Fatalf("PromoteListing: %+v, %v", p, err)
	}
	if credits, _ := s.Credits("m1001"); credits != 430 {
		t.Errorf("ledger: %d credits, want 430", credits)
	}

	from := time.Now().UTC().AddDate(0, 0, -6)
	st, err := do(c, "GetListingStats", true, func(ctx context.Context) (*gen.GetListingStatsResponse, error) {
		return c.Port.GetListingStatsContext(ctx, &gen.GetListingStats{
			MerchantId: "m1001", ListingId: "Lm1001-01",
			FromDate: soap.CreateXsdDate(from, false), ToDate: soap.CreateXsdDate(from.AddDate(0, 0, 6), false),
		})
	})
	if err != nil || st.ListingId != "Lm1001-01" || len(st.Day) != 7 {
		t.Fatalf("GetListingStats: %+v, %v", st, err)
	}

	l, err := do(c, "ListLeads", true, func(ctx context.Context) (*gen.ListLeadsResponse, error) {
		return c.Port.ListLeadsContext(ctx, &gen.ListLeads{MerchantId: "m1001", PageSize: 3})
	})
	if err != nil || len(l.Lead) != 3 || l.NextPageToken == "" || l.Lead[0].LeadId == "" {
		t.Fatalf("ListLeads: %+v, %v", l, err)
	}
}

func TestFaults(t *testing.T) {
	_, c := start(t)
	refresh := func(merchant, listing string) error {
		_, err := do(c, "RefreshListing", false, func(ctx context.Context) (*gen.RefreshListingResponse, error) {
			return c.Port.RefreshListingContext(ctx, &gen.RefreshListing{MerchantId: merchant, ListingId: listing})
		})
		return err
	}
	promote := func(listing string, days int32, id string) error {
		_, err := do(c, "PromoteListing", false, func(ctx context.Context) (*gen.PromoteListingResponse, error) {
			return c.Port.PromoteListingContext(ctx, &gen.PromoteListing{MerchantId: "m1002", ListingId: listing, Days: days, RequestId: id})
		})
		return err
	}

	wantFault(t, refresh("m1001", "Lm1001-06"), partner.Fault{Op: "RefreshListing", Kind: partner.FaultNotFound, ResourceType: "listing", ResourceID: "Lm1001-06"})
	wantFault(t, refresh("m1001", "Lm1003-01"), partner.Fault{Op: "RefreshListing", Kind: partner.FaultNotOwner, ResourceType: "listing", ResourceID: "Lm1003-01"})
	for i := 0; i < 10; i++ {
		if err := refresh("m1001", "Lm1001-05"); err != nil {
			t.Fatal(err)
		}
	}
	wantFault(t, refresh("m1001", "Lm1001-05"), partner.Fault{Op: "RefreshListing", Kind: partner.FaultQuotaExceeded})

	if err := promote("Lm1002-01", 30, "a"); err != nil {
		t.Fatal(err)
	}
	wantFault(t, promote("Lm1002-02", 30, "b"), partner.Fault{Op: "PromoteListing", Kind: partner.FaultInsufficientCredits, Needed: 300, Available: 200})
	wantFault(t, promote("Lm1002-01", 29, "a"), partner.Fault{Op: "PromoteListing", Kind: partner.FaultInvalidRequest, Field: "requestId", Reason: "already used for a different request"})
}

func TestNewRefusesBadConfig(t *testing.T) {
	if _, err := housing.New(partner.Config{}); !errors.Is(err, partner.ErrConfig) {
		t.Fatalf("New without an endpoint: %v, want ErrConfig", err)
	}
}
