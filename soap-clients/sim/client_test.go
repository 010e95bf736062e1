package sim

import (
	"context"
	"testing"
	"time"

	"github.com/bangbang-im/bangbang/gen/soap/account"
	"github.com/bangbang-im/bangbang/gen/soap/housing"
	"github.com/bangbang-im/bangbang/gen/soap/recruitment"
	"github.com/hooklift/gowsdl/soap"
)

// These tests drive every operation through the clients generated from the
// WSDLs, the way the soap-clients wrappers call them.

func TestHousingRefreshListing(t *testing.T) {
	s := startSim(t)
	port := housing.NewHousingPortType(soapClient(t, s, Housing))
	ctx := context.Background()
	for i := 1; i <= refreshQuota; i++ {
		resp, err := port.RefreshListingContext(ctx, &housing.RefreshListing{MerchantId: "m1001", ListingId: "Lm1001-03"})
		if err != nil {
			t.Fatalf("refresh %d: %v", i, err)
		}
		if resp.ListingId != "Lm1001-03" || resp.DailyQuota != refreshQuota || int(resp.RemainingQuota) != refreshQuota-i {
			t.Fatalf("refresh %d: %+v", i, resp)
		}
		if got := resp.RefreshedAt.ToGoTime(); !got.Equal(fixedNow) {
			t.Errorf("refreshedAt = %v, want %v", got, fixedNow)
		}
		wantNext := fixedNow
		if i == refreshQuota {
			wantNext = startOfDay(fixedNow).AddDate(0, 0, 1)
		}
		if got := resp.NextRefreshAllowedAt.ToGoTime(); !got.Equal(wantNext) {
			t.Errorf("refresh %d: nextRefreshAllowedAt = %v, want %v", i, got, wantNext)
		}
	}
	// The quota is per listing: another listing still has all of its own.
	resp, err := port.RefreshListingContext(ctx, &housing.RefreshListing{MerchantId: "m1001", ListingId: "Lm1001-04"})
	if err != nil || resp.RemainingQuota != refreshQuota-1 {
		t.Fatalf("other listing: %+v, %v", resp, err)
	}
	if got := s.Calls(Housing, "RefreshListing"); got != refreshQuota+1 {
		t.Errorf("Calls = %d, want %d", got, refreshQuota+1)
	}
}

func TestRefreshQuotaResetsAtMidnightUTC(t *testing.T) {
	clk := &clock{t: fixedNow}
	s := startSim(t, func(c *Config) { c.Now = clk.Now })
	port := recruitment.NewRecruitmentPortType(soapClient(t, s, Recruitment))
	ctx := context.Background()
	req := &recruitment.RefreshJobPost{MerchantId: "m1002", JobPostId: "Jm1002-01"}
	for range refreshQuota {
		if _, err := port.RefreshJobPostContext(ctx, req); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := port.RefreshJobPostContext(ctx, req); err == nil {
		t.Fatal("refresh past the quota succeeded")
	}
	clk.Advance(startOfDay(fixedNow).AddDate(0, 0, 1).Sub(fixedNow)) // midnight
	resp, err := port.RefreshJobPostContext(ctx, req)
	if err != nil {
		t.Fatalf("first refresh of the next day: %v", err)
	}
	if resp.RemainingQuota != refreshQuota-1 || resp.JobPostId != "Jm1002-01" {
		t.Fatalf("next day: %+v", resp)
	}
}

func TestHousingPromoteListing(t *testing.T) {
	s := startSim(t)
	port := housing.NewHousingPortType(soapClient(t, s, Housing))
	ctx := context.Background()
	first, err := port.PromoteListingContext(ctx, &housing.PromoteListing{MerchantId: "m1003", ListingId: "Lm1003-01", Days: 7, RequestId: "req-1"})
	if err != nil {
		t.Fatal(err)
	}
	if first.CreditsCharged != 70 || first.CreditsRemaining != seedCredits-70 || first.Days != 7 || first.ListingId != "Lm1003-01" || first.PromotionId == "" {
		t.Fatalf("first promotion: %+v", first)
	}
	if got, want := first.PromotedUntil.ToGoTime(), fixedNow.AddDate(0, 0, 7); !got.Equal(want) {
		t.Errorf("promotedUntil = %v, want %v", got, want)
	}
	// A second promotion of a listing still promoted extends it.
	second, err := port.PromoteListingContext(ctx, &housing.PromoteListing{MerchantId: "m1003", ListingId: "Lm1003-01", Days: 3, RequestId: "req-2"})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := second.PromotedUntil.ToGoTime(), fixedNow.AddDate(0, 0, 10); !got.Equal(want) {
		t.Errorf("extended promotedUntil = %v, want %v", got, want)
	}
	if second.CreditsRemaining != seedCredits-100 || second.PromotionId == first.PromotionId {
		t.Errorf("second promotion: %+v", second)
	}
	if c, _ := s.Credits("m1003"); c != seedCredits-100 {
		t.Errorf("ledger has %d credits, want %d", c, seedCredits-100)
	}
}

func TestHousingGetListingStats(t *testing.T) {
	s := startSim(t)
	port := housing.NewHousingPortType(soapClient(t, s, Housing))
	from := time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC)
	to := time.Date(2026, 3, 16, 0, 0, 0, 0, time.UTC) // two days after "today"
	req := &housing.GetListingStats{
		MerchantId: "m1001", ListingId: "Lm1001-02",
		FromDate: soap.CreateXsdDate(from, false), ToDate: soap.CreateXsdDate(to, false),
	}
	resp, err := port.GetListingStatsContext(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.ListingId != "Lm1001-02" || len(resp.Day) != 7 {
		t.Fatalf("stats: listing %q, %d days", resp.ListingId, len(resp.Day))
	}
	for i, d := range resp.Day {
		day := from.AddDate(0, 0, i)
		if got := d.Date.ToGoTime(); got.Year() != day.Year() || got.YearDay() != day.YearDay() {
			t.Errorf("day %d is %v, want %v", i, got, day)
		}
		future := day.After(startOfDay(fixedNow))
		if future != (d.Views == 0) {
			t.Errorf("%s: %d views (future %v)", day.Format(time.DateOnly), d.Views, future)
		}
		if d.Favorites > d.Views || d.Inquiries < 0 {
			t.Errorf("%s: implausible %+v", day.Format(time.DateOnly), d)
		}
	}
	again, err := port.GetListingStatsContext(context.Background(), req)
	if err != nil || again.Day[0].Views != resp.Day[0].Views {
		t.Errorf("stats are not deterministic: %v", err)
	}
}

func TestHousingListLeadsPages(t *testing.T) {
	s := startSim(t)
	port := housing.NewHousingPortType(soapClient(t, s, Housing))
	ctx := context.Background()
	// Every lead of the merchant, 7 at a time, newest first and without repeats.
	seen := map[string]bool{}
	var last time.Time
	token := ""
	pages := 0
	for {
		resp, err := port.ListLeadsContext(ctx, &housing.ListLeads{MerchantId: "m1004", PageToken: token, PageSize: 7})
		if err != nil {
			t.Fatal(err)
		}
		pages++
		if len(resp.Lead) == 0 || len(resp.Lead) > 7 {
			t.Fatalf("page %d has %d leads", pages, len(resp.Lead))
		}
		for _, l := range resp.Lead {
			if seen[l.LeadId] {
				t.Fatalf("lead %s twice", l.LeadId)
			}
			seen[l.LeadId] = true
			at := l.CreatedAt.ToGoTime()
			if !last.IsZero() && at.After(last) {
				t.Fatalf("lead %s at %v is newer than the one before", l.LeadId, at)
			}
			last = at
			if l.CustomerName == "" || l.Message == "" || len(l.CustomerPhone) != 11 || l.CustomerPhone[3:7] != "****" {
				t.Errorf("implausible lead %+v", l)
			}
			if owner, ok := ownerOf(l.ListingId, 'L', listingsPerMerchant); !ok || owner != "m1004" {
				t.Errorf("lead %s of listing %s", l.LeadId, l.ListingId)
			}
		}
		if resp.NextPageToken == "" {
			break
		}
		token = resp.NextPageToken
	}
	want := 0
	for _, id := range listingIDs("m1004") {
		want += len(leadsOf(id, startOfDay(fixedNow)))
	}
	if len(seen) != want || pages != (want+6)/7 {
		t.Fatalf("%d leads in %d pages, want %d", len(seen), pages, want)
	}
	// One listing only, default page size.
	one, err := port.ListLeadsContext(ctx, &housing.ListLeads{MerchantId: "m1004", ListingId: "Lm1004-05"})
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range one.Lead {
		if l.ListingId != "Lm1004-05" {
			t.Fatalf("lead of %s in a one-listing answer", l.ListingId)
		}
	}
	if len(one.Lead) != len(leadsOf("Lm1004-05", startOfDay(fixedNow))) || one.NextPageToken != "" {
		t.Fatalf("one listing: %d leads, token %q", len(one.Lead), one.NextPageToken)
	}
}

func TestRecruitmentOperations(t *testing.T) {
	s := startSim(t)
	port := recruitment.NewRecruitmentPortType(soapClient(t, s, Recruitment))
	ctx := context.Background()
	ref, err := port.RefreshJobPostContext(ctx, &recruitment.RefreshJobPost{MerchantId: "m1005", JobPostId: "Jm1005-03"})
	if err != nil || ref.JobPostId != "Jm1005-03" || ref.RemainingQuota != refreshQuota-1 {
		t.Fatalf("refresh: %+v, %v", ref, err)
	}
	promo, err := port.PromoteJobPostContext(ctx, &recruitment.PromoteJobPost{MerchantId: "m1005", JobPostId: "Jm1005-03", Days: 30, RequestId: "r-30"})
	if err != nil {
		t.Fatal(err)
	}
	if promo.CreditsCharged != 300 || promo.CreditsRemaining != seedCredits-300 || promo.Days != 30 || promo.JobPostId != "Jm1005-03" {
		t.Fatalf("promote: %+v", promo)
	}
	all := applicantsOf("Jm1005-01", startOfDay(fixedNow))
	page, err := port.ListApplicantsContext(ctx, &recruitment.ListApplicants{MerchantId: "m1005", JobPostId: "Jm1005-01", PageSize: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Applicant) != 2 || page.NextPageToken == "" {
		t.Fatalf("first page of %d applicants: %d, token %q", len(all), len(page.Applicant), page.NextPageToken)
	}
	rest, err := port.ListApplicantsContext(ctx, &recruitment.ListApplicants{MerchantId: "m1005", JobPostId: "Jm1005-01", PageToken: page.NextPageToken, PageSize: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(rest.Applicant) != len(all)-2 || rest.NextPageToken != "" {
		t.Fatalf("second page: %d applicants, token %q; want %d", len(rest.Applicant), rest.NextPageToken, len(all)-2)
	}
	statuses := map[recruitment.ApplicantStatus]bool{
		recruitment.ApplicantStatusNew: true, recruitment.ApplicantStatusViewed: true, recruitment.ApplicantStatusInterviewing: true,
		recruitment.ApplicantStatusRejected: true, recruitment.ApplicantStatusHired: true,
	}
	for i, a := range append(page.Applicant, rest.Applicant...) {
		if a.ApplicantId != all[i].id || a.Name != all[i].name || int(a.ExperienceYears) != all[i].experienceYears || a.JobPostId != "Jm1005-01" {
			t.Errorf("applicant %d = %+v, want %+v", i, a, all[i])
		}
		if a.Status == nil || !statuses[*a.Status] {
			t.Errorf("applicant %s has status %v", a.ApplicantId, a.Status)
		}
		if !a.AppliedAt.ToGoTime().Equal(all[i].at) {
			t.Errorf("applicant %s applied at %v, want %v", a.ApplicantId, a.AppliedAt.ToGoTime(), all[i].at)
		}
	}
}

func TestAccountOperations(t *testing.T) {
	s := startSim(t)
	port := account.NewAccountPortType(soapClient(t, s, Account))
	ctx := context.Background()
	bal, err := port.GetCreditBalanceContext(ctx, &account.GetCreditBalance{MerchantId: "m1006"})
	if err != nil {
		t.Fatal(err)
	}
	if bal.MerchantId != "m1006" || bal.Credits != seedCredits || bal.FrozenCredits != frozenCreditsOf("m1006") || !bal.AsOf.ToGoTime().Equal(fixedNow) {
		t.Fatalf("balance: %+v", bal)
	}
	pkgs, err := port.ListCreditPackagesContext(ctx, &account.ListCreditPackages{MerchantId: "m1006"})
	if err != nil {
		t.Fatal(err)
	}
	if len(pkgs.CreditPackage) != 3 {
		t.Fatalf("%d packages", len(pkgs.CreditPackage))
	}
	for i, p := range pkgs.CreditPackage {
		want := creditPackages()[i]
		if p.Code != want.code || p.Name != want.name || p.Credits != want.credits || p.PriceCents != want.price || p.Currency != "CNY" {
			t.Errorf("package %d = %+v", i, p)
		}
	}
	order, err := port.BuyCreditPackageContext(ctx, &account.BuyCreditPackage{MerchantId: "m1006", PackageCode: "CP500", RequestId: "buy-1"})
	if err != nil {
		t.Fatal(err)
	}
	if order.CreditsAdded != 500 || order.Balance != seedCredits+500 || order.AmountCents != 45000 || order.Currency != "CNY" ||
		order.PackageCode != "CP500" || order.OrderId == "" || !order.PurchasedAt.ToGoTime().Equal(fixedNow) {
		t.Fatalf("order: %+v", order)
	}
	// The ledger is shared: housing spends what account sold.
	hp := housing.NewHousingPortType(soapClient(t, s, Housing))
	promo, err := hp.PromoteListingContext(ctx, &housing.PromoteListing{MerchantId: "m1006", ListingId: "Lm1006-01", Days: 30, RequestId: "p-1"})
	if err != nil {
		t.Fatal(err)
	}
	if promo.CreditsRemaining != seedCredits+500-300 {
		t.Fatalf("after buying 500 and spending 300: %d", promo.CreditsRemaining)
	}
	bal, err = port.GetCreditBalanceContext(ctx, &account.GetCreditBalance{MerchantId: "m1006"})
	if err != nil || bal.Credits != seedCredits+500-300 {
		t.Fatalf("balance after: %+v, %v", bal, err)
	}
}
