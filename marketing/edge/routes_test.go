package edge

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bangbang-im/bangbang/soap-clients/sim"
)

// TestMarketingRoutes runs every marketing route end to end, app → edge →
// simulator on real sockets, and checks the answers against the simulator's
// own state.
func TestMarketingRoutes(t *testing.T) {
	h := newHarness(t, options{})
	tok := h.token("m1001", "merchant")
	start := time.Now().UTC()

	t.Run("credits", func(t *testing.T) {
		r := h.do(t, req{method: "GET", path: "/v1/credits", token: tok})
		var v creditsView
		r.ok(t, &v)
		if v.MerchantID != "m1001" || v.Credits != h.credits(t, "m1001") || v.Credits != 500 || v.AsOf.Before(start.Add(-time.Minute)) {
			t.Fatalf("credits %+v", v)
		}
		for _, k := range []string{"RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset", "RateLimit-Policy"} {
			if r.header.Get(k) == "" {
				t.Fatalf("no %s header: %v", k, r.header)
			}
		}
	})

	t.Run("credit packages", func(t *testing.T) {
		var v creditPackagesView
		h.do(t, req{method: "GET", path: "/v1/credit-packages", token: tok}).ok(t, &v)
		if len(v.Packages) != 3 || v.Packages[0] != (creditPackageView{Code: "CP100", Name: v.Packages[0].Name, Credits: 100, PriceCents: 9900, Currency: "CNY"}) || v.Packages[0].Name == "" {
			t.Fatalf("packages %+v", v)
		}
	})

	t.Run("buy credits", func(t *testing.T) {
		before := h.credits(t, "m1001")
		var v purchaseView
		h.do(t, req{method: "POST", path: "/v1/credits/purchases", token: tok, key: "buy-1", body: `{"package_code":"CP100"}`}).ok(t, &v)
		after := h.credits(t, "m1001")
		if v.PackageCode != "CP100" || v.CreditsAdded != 100 || v.AmountCents != 9900 || v.Currency != "CNY" ||
			v.Balance != before+100 || after != v.Balance || v.OrderID == "" || v.PurchasedAt.Before(start.Add(-time.Minute)) {
			t.Fatalf("purchase %+v; sim credits %d -> %d", v, before, after)
		}
	})

	t.Run("refresh listing", func(t *testing.T) {
		var v refreshView
		h.do(t, req{method: "POST", path: "/v1/listings/Lm1001-01/refresh", token: tok}).ok(t, &v)
		if v.ListingID != "Lm1001-01" || v.DailyQuota != 10 || v.RemainingQuota != 9 || v.RefreshedAt.Before(start.Add(-time.Minute)) {
			t.Fatalf("refresh %+v", v)
		}
		if n := h.calls(sim.Housing, "RefreshListing"); n != 1 {
			t.Fatalf("sim saw %d RefreshListing calls, want 1", n)
		}
	})

	t.Run("promote listing", func(t *testing.T) {
		before := h.credits(t, "m1001")
		var v promotionView
		h.do(t, req{method: "POST", path: "/v1/listings/Lm1001-02/promotions", token: tok, key: "promo-l-1", body: `{"days":3}`}).ok(t, &v)
		if v.ListingID != "Lm1001-02" || v.Days != 3 || v.CreditsCharged != 30 || v.CreditsRemaining != before-30 ||
			h.credits(t, "m1001") != before-30 || v.PromotionID == "" {
			t.Fatalf("promotion %+v, credits before %d, now %d", v, before, h.credits(t, "m1001"))
		}
		if until := v.PromotedUntil.Sub(start); until < 72*time.Hour-time.Minute || until > 72*time.Hour+time.Minute {
			t.Fatalf("promoted until %v, want about 3 days after %v", v.PromotedUntil, start)
		}
	})

	t.Run("listing stats", func(t *testing.T) {
		var v statsView
		h.do(t, req{method: "GET", path: "/v1/listings/Lm1001-01/stats?from=2025-02-25&to=2025-03-03", token: tok}).ok(t, &v)
		var dates []string
		for _, d := range v.Days {
			dates = append(dates, d.Date)
		}
		want := []string{"2025-02-25", "2025-02-26", "2025-02-27", "2025-02-28", "2025-03-01", "2025-03-02", "2025-03-03"}
		if v.ListingID != "Lm1001-01" || v.From != "2025-02-25" || v.To != "2025-03-03" || !slices.Equal(dates, want) {
			t.Fatalf("stats %+v", v)
		}
		// The simulator derives the numbers from the ids: the same query gives the same answer.
		var again statsView
		h.do(t, req{method: "GET", path: "/v1/listings/Lm1001-01/stats?from=2025-02-25&to=2025-03-03", token: tok}).ok(t, &again)
		if !slices.Equal(v.Days, again.Days) {
			t.Fatalf("stats differ between two identical queries: %+v, %+v", v.Days, again.Days)
		}
	})

	t.Run("leads of one listing, paged", func(t *testing.T) {
		var p1, p2 leadsView
		h.do(t, req{method: "GET", path: "/v1/leads?listing_id=Lm1001-01&page_size=2", token: tok}).ok(t, &p1)
		if len(p1.Leads) != 2 || p1.NextPageToken == "" {
			t.Fatalf("first page %+v", p1)
		}
		h.do(t, req{method: "GET", path: "/v1/leads?listing_id=Lm1001-01&page_size=2&page_token=" + p1.NextPageToken, token: tok}).ok(t, &p2)
		if len(p2.Leads) == 0 {
			t.Fatalf("second page %+v", p2)
		}
		seen := map[string]bool{}
		for _, l := range append(p1.Leads, p2.Leads...) {
			if l.ListingID != "Lm1001-01" || seen[l.LeadID] || !strings.Contains(l.CustomerPhone, "****") || l.CreatedAt.IsZero() {
				t.Fatalf("lead %+v (pages %+v %+v)", l, p1, p2)
			}
			seen[l.LeadID] = true
		}
	})

	t.Run("leads of every listing", func(t *testing.T) {
		var v leadsView
		h.do(t, req{method: "GET", path: "/v1/leads?page_size=100", token: tok}).ok(t, &v)
		if len(v.Leads) < 5 || v.NextPageToken != "" {
			t.Fatalf("leads %+v", v)
		}
		for i, l := range v.Leads {
			if !strings.HasPrefix(l.ListingID, "Lm1001-") {
				t.Fatalf("another merchant's lead %+v", l)
			}
			if i > 0 && l.CreatedAt.After(v.Leads[i-1].CreatedAt) {
				t.Fatalf("leads not newest first at %d: %+v", i, v.Leads)
			}
		}
	})

	t.Run("refresh job post", func(t *testing.T) {
		var v refreshView
		h.do(t, req{method: "POST", path: "/v1/jobs/Jm1001-01/refresh", token: tok}).ok(t, &v)
		if v.JobPostID != "Jm1001-01" || v.ListingID != "" || v.DailyQuota != 10 || v.RemainingQuota != 9 {
			t.Fatalf("refresh %+v", v)
		}
	})

	t.Run("promote job post", func(t *testing.T) {
		before := h.credits(t, "m1001")
		var v promotionView
		h.do(t, req{method: "POST", path: "/v1/jobs/Jm1001-01/promotions", token: tok, key: "promo-j-1", body: `{"days":2}`}).ok(t, &v)
		if v.JobPostID != "Jm1001-01" || v.Days != 2 || v.CreditsCharged != 20 || v.CreditsRemaining != before-20 || h.credits(t, "m1001") != before-20 {
			t.Fatalf("promotion %+v, credits before %d", v, before)
		}
	})

	t.Run("applicants", func(t *testing.T) {
		var v applicantsView
		h.do(t, req{method: "GET", path: "/v1/jobs/Jm1001-01/applicants?page_size=100", token: tok}).ok(t, &v)
		if len(v.Applicants) < 2 || v.NextPageToken != "" {
			t.Fatalf("applicants %+v", v)
		}
		for _, a := range v.Applicants {
			if a.JobPostID != "Jm1001-01" || a.Name == "" || a.AppliedAt.IsZero() ||
				!slices.Contains([]string{"New", "Viewed", "Interviewing", "Rejected", "Hired"}, a.Status) {
				t.Fatalf("applicant %+v", a)
			}
		}
	})
}
