package recruitment_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"go.uber.org/goleak"

	gen "github.com/bangbang-im/bangbang/gen/soap/recruitment"
	"github.com/bangbang-im/bangbang/soap-clients/partner"
	"github.com/bangbang-im/bangbang/soap-clients/recruitment"
	"github.com/bangbang-im/bangbang/soap-clients/sim"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func start(t *testing.T) (*sim.Sim, *recruitment.Client) {
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
	c, err := recruitment.New(partner.Config{
		Endpoint: s.URL(sim.Recruitment), PartnerID: sim.DefaultPartnerID, PartnerKey: sim.DefaultPartnerKey,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return s, c
}

func do[T any](c *recruitment.Client, op string, idempotent bool, call func(context.Context) (T, error)) (T, error) {
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
	want.Line = recruitment.Name
	if got != want {
		t.Errorf("fault %+v, want %+v", got, want)
	}
}

func TestOperations(t *testing.T) {
	s, c := start(t)
	if c.Name() != recruitment.Name {
		t.Errorf("Name() = %q", c.Name())
	}

	r, err := do(c, "RefreshJobPost", false, func(ctx context.Context) (*gen.RefreshJobPostResponse, error) {
		return c.Port.RefreshJobPostContext(ctx, &gen.RefreshJobPost{MerchantId: "m1005", JobPostId: "Jm1005-01"})
	})
	if err != nil || r.JobPostId != "Jm1005-01" || r.DailyQuota != 10 || r.RemainingQuota != 9 {
		t.Fatalf("RefreshJobPost: %+v, %v", r, err)
	}

	p, err := do(c, "PromoteJobPost", false, func(ctx context.Context) (*gen.PromoteJobPostResponse, error) {
		return c.Port.PromoteJobPostContext(ctx, &gen.PromoteJobPost{MerchantId: "m1005", JobPostId: "Jm1005-02", Days: 5, RequestId: "p1"})
	})
	if err != nil || p.PromotionId == "" || p.JobPostId != "Jm1005-02" || p.CreditsCharged != 50 || p.CreditsRemaining != 450 {
		t.Fatalf("PromoteJobPost: %+v, %v", p, err)
	}
	if credits, _ := s.Credits("m1005"); credits != 450 {
		t.Errorf("ledger: %d credits, want 450", credits)
	}

	a, err := do(c, "ListApplicants", true, func(ctx context.Context) (*gen.ListApplicantsResponse, error) {
		return c.Port.ListApplicantsContext(ctx, &gen.ListApplicants{MerchantId: "m1005", JobPostId: "Jm1005-01", PageSize: 2})
	})
	if err != nil || len(a.Applicant) == 0 || a.Applicant[0].ApplicantId == "" || a.Applicant[0].Status == nil {
		t.Fatalf("ListApplicants: %+v, %v", a, err)
	}
}

func TestFaults(t *testing.T) {
	_, c := start(t)
	refresh := func(merchant, job string) error {
		_, err := do(c, "RefreshJobPost", false, func(ctx context.Context) (*gen.RefreshJobPostResponse, error) {
			return c.Port.RefreshJobPostContext(ctx, &gen.RefreshJobPost{MerchantId: merchant, JobPostId: job})
		})
		return err
	}
	promote := func(job string, days int32, id string) error {
		_, err := do(c, "PromoteJobPost", false, func(ctx context.Context) (*gen.PromoteJobPostResponse, error) {
			return c.Port.PromoteJobPostContext(ctx, &gen.PromoteJobPost{MerchantId: "m1006", JobPostId: job, Days: days, RequestId: id})
		})
		return err
	}
	wantFault(t, refresh("m1006", "Jm1006-04"), partner.Fault{Op: "RefreshJobPost", Kind: partner.FaultNotFound, ResourceType: "jobPost", ResourceID: "Jm1006-04"})
	wantFault(t, refresh("m1006", "Jm1007-01"), partner.Fault{Op: "RefreshJobPost", Kind: partner.FaultNotOwner, ResourceType: "jobPost", ResourceID: "Jm1007-01"})
	for i := 0; i < 10; i++ {
		if err := refresh("m1006", "Jm1006-03"); err != nil {
			t.Fatal(err)
		}
	}
	wantFault(t, refresh("m1006", "Jm1006-03"), partner.Fault{Op: "RefreshJobPost", Kind: partner.FaultQuotaExceeded})

	if err := promote("Jm1006-01", 30, "a"); err != nil {
		t.Fatal(err)
	}
	wantFault(t, promote("Jm1006-02", 30, "b"), partner.Fault{Op: "PromoteJobPost", Kind: partner.FaultInsufficientCredits, Needed: 300, Available: 200})
	wantFault(t, promote("Jm1006-02", 31, "c"), partner.Fault{Op: "PromoteJobPost", Kind: partner.FaultInvalidRequest, Field: "days", Reason: "must be between 1 and 30"})

	_, err := do(c, "ListApplicants", true, func(ctx context.Context) (*gen.ListApplicantsResponse, error) {
		return c.Port.ListApplicantsContext(ctx, &gen.ListApplicants{MerchantId: "m1006", JobPostId: "Jm1008-01"})
	})
	wantFault(t, err, partner.Fault{Op: "ListApplicants", Kind: partner.FaultNotOwner, ResourceType: "jobPost", ResourceID: "Jm1008-01"})
}

func TestNewRefusesBadConfig(t *testing.T) {
	if _, err := recruitment.New(partner.Config{Endpoint: "not a url"}); !errors.Is(err, partner.ErrConfig) {
		t.Fatalf("New with a bad endpoint: %v, want ErrConfig", err)
	}
}
