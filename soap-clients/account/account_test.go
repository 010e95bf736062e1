package account_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"go.uber.org/goleak"

	gen "github.com/bangbang-im/bangbang/gen/soap/account"
	"github.com/bangbang-im/bangbang/soap-clients/account"
	"github.com/bangbang-im/bangbang/soap-clients/partner"
	"github.com/bangbang-im/bangbang/soap-clients/sim"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func start(t *testing.T) (*sim.Sim, *account.Client) {
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
	c, err := account.New(partner.Config{
		Endpoint: s.URL(sim.Account), PartnerID: sim.DefaultPartnerID, PartnerKey: sim.DefaultPartnerKey,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return s, c
}

func do[T any](c *account.Client, op string, idempotent bool, call func(context.Context) (T, error)) (T, error) {
	return partner.Do(context.Background(), c.Client, op, idempotent, call)
}

func buy(c *account.Client, merchant, code, requestID string) (*gen.BuyCreditPackageResponse, error) {
	return do(c, "BuyCreditPackage", false, func(ctx context.Context) (*gen.BuyCreditPackageResponse, error) {
		return c.Port.BuyCreditPackageContext(ctx, &gen.BuyCreditPackage{MerchantId: merchant, PackageCode: code, RequestId: requestID})
	})
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
	want.Line = account.Name
	if got != want {
		t.Errorf("fault %+v, want %+v", got, want)
	}
}

func TestOperations(t *testing.T) {
	s, c := start(t)
	if c.Name() != account.Name {
		t.Errorf("Name() = %q", c.Name())
	}

	b, err := do(c, "GetCreditBalance", true, func(ctx context.Context) (*gen.GetCreditBalanceResponse, error) {
		return c.Port.GetCreditBalanceContext(ctx, &gen.GetCreditBalance{MerchantId: "m1010"})
	})
	if err != nil || b.MerchantId != "m1010" || b.Credits != 500 {
		t.Fatalf("GetCreditBalance: %+v, %v", b, err)
	}

	p, err := do(c, "ListCreditPackages", true, func(ctx context.Context) (*gen.ListCreditPackagesResponse, error) {
		return c.Port.ListCreditPackagesContext(ctx, &gen.ListCreditPackages{MerchantId: "m1010"})
	})
	if err != nil || len(p.CreditPackage) != 3 {
		t.Fatalf("ListCreditPackages: %+v, %v", p, err)
	}
	pkg := p.CreditPackage[0]
	if pkg.Code == "" || pkg.Credits <= 0 || pkg.PriceCents <= 0 || pkg.Currency == "" {
		t.Fatalf("package %+v", pkg)
	}

	o, err := buy(c, "m1010", pkg.Code, "order-1")
	if err != nil || o.OrderId == "" || o.PackageCode != pkg.Code || o.CreditsAdded != pkg.Credits ||
		o.Balance != 500+pkg.Credits || o.AmountCents != pkg.PriceCents {
		t.Fatalf("BuyCreditPackage: %+v, %v", o, err)
	}
	if credits, _ := s.Credits("m1010"); credits != o.Balance {
		t.Errorf("ledger: %d credits, want %d", credits, o.Balance)
	}
}

func TestFaults(t *testing.T) {
	_, c := start(t)
	_, err := do(c, "GetCreditBalance", true, func(ctx context.Context) (*gen.GetCreditBalanceResponse, error) {
		return c.Port.GetCreditBalanceContext(ctx, &gen.GetCreditBalance{MerchantId: "m9999"})
	})
	wantFault(t, err, partner.Fault{Op: "GetCreditBalance", Kind: partner.FaultNotFound, ResourceType: "merchant", ResourceID: "m9999"})

	_, err = buy(c, "m1011", "CP999", "x")
	wantFault(t, err, partner.Fault{Op: "BuyCreditPackage", Kind: partner.FaultNotFound, ResourceType: "creditPackage", ResourceID: "CP999"})

	for i := 0; i < 5; i++ {
		if _, err := buy(c, "m1011", "CP100", fmt.Sprintf("buy-%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	_, err = buy(c, "m1011", "CP100", "buy-5")
	wantFault(t, err, partner.Fault{Op: "BuyCreditPackage", Kind: partner.FaultQuotaExceeded})

	_, err = buy(c, "m1011", "CP500", "buy-0")
	wantFault(t, err, partner.Fault{Op: "BuyCreditPackage", Kind: partner.FaultInvalidRequest, Field: "requestId", Reason: "already used for a different request"})
}

func TestNewRefusesBadConfig(t *testing.T) {
	if _, err := account.New(partner.Config{Endpoint: "http://127.0.0.1:8602/soap/account/v1", PartnerKey: "k"}); !errors.Is(err, partner.ErrConfig) {
		t.Fatalf("New with a key but no id: %v, want ErrConfig", err)
	}
}
