package sim

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/bangbang-im/bangbang/gen/soap/housing"
	"github.com/bangbang-im/bangbang/gen/soap/recruitment"
	"github.com/hooklift/gowsdl/soap"
)

// TestConcurrentPromotesNeverOverdraw races 40 promotions of one merchant's
// listings and job posts, through both lines, against one balance.
func TestConcurrentPromotesNeverOverdraw(t *testing.T) {
	s := startSim(t)
	hp := housing.NewHousingPortType(soapClient(t, s, Housing))
	rp := recruitment.NewRecruitmentPortType(soapClient(t, s, Recruitment))
	const n, days = 40, 3 // 30 credits each: 16 fit in 500
	var wg sync.WaitGroup
	remaining := make([]int64, n)
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if i%2 == 0 {
				r, err := hp.PromoteListingContext(context.Background(), &housing.PromoteListing{
					MerchantId: "m1015", ListingId: fmt.Sprintf("Lm1015-%02d", 1+i%5), Days: days, RequestId: fmt.Sprint("race-", i)})
				if errs[i] = err; err == nil {
					remaining[i] = r.CreditsRemaining
				}
				return
			}
			r, err := rp.PromoteJobPostContext(context.Background(), &recruitment.PromoteJobPost{
				MerchantId: "m1015", JobPostId: fmt.Sprintf("Jm1015-%02d", 1+i%3), Days: days, RequestId: fmt.Sprint("race-", i)})
			if errs[i] = err; err == nil {
				remaining[i] = r.CreditsRemaining
			}
		}()
	}
	wg.Wait()
	ok, broke := 0, 0
	seen := map[int64]bool{}
	for i, err := range errs {
		var he *soap.HTTPError
		switch {
		case err == nil:
			ok++
			if seen[remaining[i]] {
				t.Errorf("two promotions left %d credits", remaining[i])
			}
			seen[remaining[i]] = true
		case errors.As(err, &he) && parseFault(t, he.ResponseBody).String == fmt.Sprintf("insufficient credits: 30 needed, %d available", seedCredits%30):
			broke++
		default:
			t.Errorf("promotion %d: %v", i, err)
		}
	}
	if ok != seedCredits/30 || broke != n-seedCredits/30 {
		t.Errorf("%d promotions succeeded and %d were refused; want %d and %d", ok, broke, seedCredits/30, n-seedCredits/30)
	}
	if c, _ := s.Credits("m1015"); c != seedCredits%30 {
		t.Errorf("balance %d, want %d", c, seedCredits%30)
	}
}

// TestRequestIDReplay: the same requestId, sent again (also concurrently),
// returns the first result and charges once; reused for another request it
// is refused.
func TestRequestIDReplay(t *testing.T) {
	s := startSim(t)
	hp := housing.NewHousingPortType(soapClient(t, s, Housing))
	req := &housing.PromoteListing{MerchantId: "m1017", ListingId: "Lm1017-02", Days: 5, RequestId: "idem-1"}
	var wg sync.WaitGroup
	results := make([]*housing.PromoteListingResponse, 8)
	errs := make([]error, len(results))
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = hp.PromoteListingContext(context.Background(), req)
		}()
	}
	wg.Wait()
	for i, r := range results {
		if errs[i] != nil {
			t.Fatalf("attempt %d: %v", i, errs[i])
		}
		if *r != *results[0] {
			t.Errorf("attempt %d answered %+v, the first %+v", i, r, results[0])
		}
	}
	if results[0].CreditsCharged != 50 || results[0].CreditsRemaining != seedCredits-50 {
		t.Errorf("first result %+v", results[0])
	}
	if c, _ := s.Credits("m1017"); c != seedCredits-50 {
		t.Errorf("balance %d after %d attempts, want one charge", c, len(results))
	}
	if n := s.Calls(Housing, "PromoteListing"); n != int64(len(results)) {
		t.Errorf("Calls = %d, want %d", n, len(results))
	}
	// A later replay, after another promotion changed the balance, still
	// answers what the first one did.
	if _, err := hp.PromoteListingContext(context.Background(), &housing.PromoteListing{MerchantId: "m1017", ListingId: "Lm1017-03", Days: 1, RequestId: "idem-2"}); err != nil {
		t.Fatal(err)
	}
	again, err := hp.PromoteListingContext(context.Background(), req)
	if err != nil || *again != *results[0] {
		t.Fatalf("late replay: %+v, %v", again, err)
	}

	// The same requestId for a different request: for the other line too,
	// since the ledger is shared.
	for name, call := range map[string]func() error{
		"other days": func() error {
			_, err := hp.PromoteListingContext(context.Background(), &housing.PromoteListing{MerchantId: "m1017", ListingId: "Lm1017-02", Days: 6, RequestId: "idem-1"})
			return err
		},
		"other line": func() error {
			_, err := recruitment.NewRecruitmentPortType(soapClient(t, s, Recruitment)).PromoteJobPostContext(context.Background(),
				&recruitment.PromoteJobPost{MerchantId: "m1017", JobPostId: "Jm1017-01", Days: 5, RequestId: "idem-1"})
			return err
		},
	} {
		var he *soap.HTTPError
		if err := call(); !errors.As(err, &he) {
			t.Fatalf("%s: %v, want a fault", name, err)
		}
		if f := parseFault(t, he.ResponseBody); f.String != "invalid requestId: already used for a different request" {
			t.Errorf("%s: %q", name, f.String)
		}
	}
	// requestIds are per merchant: another merchant's idem-1 is a new request.
	other, err := hp.PromoteListingContext(context.Background(), &housing.PromoteListing{MerchantId: "m1018", ListingId: "Lm1018-02", Days: 5, RequestId: "idem-1"})
	if err != nil || other.CreditsRemaining != seedCredits-50 || other.PromotionId == results[0].PromotionId {
		t.Fatalf("other merchant: %+v, %v", other, err)
	}
}
