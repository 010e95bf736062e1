package sim

import (
	"context"
	"encoding/xml"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/bangbang-im/bangbang/gen/soap/account"
	"github.com/bangbang-im/bangbang/gen/soap/housing"
	"github.com/bangbang-im/bangbang/gen/soap/recruitment"
	"github.com/hooklift/gowsdl/soap"
)

// faultCase is one declared fault of one operation, provoked through the
// generated client. want is the generated detail type with the expected
// values (its XMLName is not compared: decoding into it already checks it).
type faultCase struct {
	name  string
	setup func(ctx context.Context) error // runs first; its error fails the test
	call  func(ctx context.Context) error
	want  any
}

// TestDeclaredFaults provokes every fault each WSDL declares, operation by
// operation, and checks that it arrives the way SOAP 1.1 sends it: HTTP 500,
// faultcode soap:Client, and a detail the generated fault type decodes.
func TestDeclaredFaults(t *testing.T) {
	s := startSim(t)
	hp := housing.NewHousingPortType(soapClient(t, s, Housing))
	rp := recruitment.NewRecruitmentPortType(soapClient(t, s, Recruitment))
	ap := account.NewAccountPortType(soapClient(t, s, Account))
	cases := declaredFaultCases(hp, rp, ap)
	declared := declaredFaults(t)
	covered := map[string]bool{}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ctx := context.Background()
			if c.setup != nil {
				if err := c.setup(ctx); err != nil {
					t.Fatalf("setup: %v", err)
				}
			}
			err := c.call(ctx)
			var he *soap.HTTPError
			if !errors.As(err, &he) {
				t.Fatalf("error %T %v, want *soap.HTTPError", err, err)
			}
			if he.StatusCode != http.StatusInternalServerError {
				t.Errorf("HTTP %d, want 500", he.StatusCode)
			}
			f := parseFault(t, he.ResponseBody)
			if f.Code != "soap:Client" || f.String == "" {
				t.Errorf("faultcode %q, faultstring %q", f.Code, f.String)
			}
			got := reflect.New(reflect.TypeOf(c.want).Elem())
			if err := xml.Unmarshal(f.Detail.Inner, got.Interface()); err != nil {
				t.Fatalf("detail does not decode into %T: %v\n%s", c.want, err, f.Detail.Inner)
			}
			got.Elem().FieldByName("XMLName").SetZero()
			if !reflect.DeepEqual(got.Interface(), c.want) {
				t.Errorf("detail = %+v, want %+v", got.Interface(), c.want)
			}
		})
		covered[c.name] = true
	}
	for _, d := range declared {
		if !covered[d] {
			t.Errorf("declared fault %s is not provoked by any case", d)
		}
	}
}

// declaredFaultCases provokes each declared fault once, on a fresh Sim (the
// setups spend quotas and credits of merchants no other case uses).
func declaredFaultCases(hp housing.HousingPortType, rp recruitment.RecruitmentPortType, ap account.AccountPortType) []faultCase {
	date := func(y, m, d int) soap.XSDDate {
		return soap.CreateXsdDate(time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC), false)
	}
	exhaust := func(call func(ctx context.Context) error, n int) func(ctx context.Context) error {
		return func(ctx context.Context) error {
			for range n {
				if err := call(ctx); err != nil {
					return err
				}
			}
			return nil
		}
	}

	return []faultCase{
		// housing: RefreshListing
		{name: "RefreshListing/NotFound", call: func(ctx context.Context) error {
			_, err := hp.RefreshListingContext(ctx, &housing.RefreshListing{MerchantId: "m1001", ListingId: "Lm1001-06"})
			return err
		}, want: &housing.NotFoundFault{ResourceType: "listing", ResourceId: "Lm1001-06"}},
		{name: "RefreshListing/NotOwner", call: func(ctx context.Context) error {
			_, err := hp.RefreshListingContext(ctx, &housing.RefreshListing{MerchantId: "m1001", ListingId: "Lm1002-01"})
			return err
		}, want: &housing.NotOwnerFault{ResourceType: "listing", ResourceId: "Lm1002-01", MerchantId: "m1001"}},
		{name: "RefreshListing/QuotaExceeded", setup: exhaust(func(ctx context.Context) error {
			_, err := hp.RefreshListingContext(ctx, &housing.RefreshListing{MerchantId: "m1010", ListingId: "Lm1010-01"})
			return err
		}, refreshQuota), call: func(ctx context.Context) error {
			_, err := hp.RefreshListingContext(ctx, &housing.RefreshListing{MerchantId: "m1010", ListingId: "Lm1010-01"})
			return err
		}, want: &housing.QuotaExceededFault{Quota: "listing.refresh.daily", Limit: refreshQuota, RetryAfterSeconds: 14*3600 + 30*60}},
		{name: "RefreshListing/InvalidRequest", call: func(ctx context.Context) error {
			_, err := hp.RefreshListingContext(ctx, &housing.RefreshListing{MerchantId: "m1001"})
			return err
		}, want: &housing.InvalidRequestFault{Field: "listingId", Reason: "required"}},

		// housing: PromoteListing
		{name: "PromoteListing/NotFound", call: func(ctx context.Context) error {
			_, err := hp.PromoteListingContext(ctx, &housing.PromoteListing{MerchantId: "m9999", ListingId: "Lm9999-01", Days: 1, RequestId: "x"})
			return err
		}, want: &housing.NotFoundFault{ResourceType: "listing", ResourceId: "Lm9999-01"}},
		{name: "PromoteListing/NotOwner", call: func(ctx context.Context) error {
			_, err := hp.PromoteListingContext(ctx, &housing.PromoteListing{MerchantId: "m1003", ListingId: "Lm1004-05", Days: 1, RequestId: "x"})
			return err
		}, want: &housing.NotOwnerFault{ResourceType: "listing", ResourceId: "Lm1004-05", MerchantId: "m1003"}},
		{name: "PromoteListing/InsufficientCredits", setup: func(ctx context.Context) error {
			_, err := hp.PromoteListingContext(ctx, &housing.PromoteListing{MerchantId: "m1011", ListingId: "Lm1011-01", Days: 30, RequestId: "a"})
			return err
		}, call: func(ctx context.Context) error {
			_, err := hp.PromoteListingContext(ctx, &housing.PromoteListing{MerchantId: "m1011", ListingId: "Lm1011-02", Days: 30, RequestId: "b"})
			return err
		}, want: &housing.InsufficientCreditsFault{Needed: 300, Available: seedCredits - 300}},
		{name: "PromoteListing/InvalidRequest", call: func(ctx context.Context) error {
			_, err := hp.PromoteListingContext(ctx, &housing.PromoteListing{MerchantId: "m1001", ListingId: "Lm1001-01", Days: 31, RequestId: "x"})
			return err
		}, want: &housing.InvalidRequestFault{Field: "days", Reason: "must be between 1 and 30"}},

		// housing: GetListingStats
		{name: "GetListingStats/NotFound", call: func(ctx context.Context) error {
			_, err := hp.GetListingStatsContext(ctx, &housing.GetListingStats{MerchantId: "m1001", ListingId: "nope", FromDate: date(2026, 3, 1), ToDate: date(2026, 3, 2)})
			return err
		}, want: &housing.NotFoundFault{ResourceType: "listing", ResourceId: "nope"}},
		{name: "GetListingStats/NotOwner", call: func(ctx context.Context) error {
			_, err := hp.GetListingStatsContext(ctx, &housing.GetListingStats{MerchantId: "m1001", ListingId: "Lm1020-05", FromDate: date(2026, 3, 1), ToDate: date(2026, 3, 2)})
			return err
		}, want: &housing.NotOwnerFault{ResourceType: "listing", ResourceId: "Lm1020-05", MerchantId: "m1001"}},
		{name: "GetListingStats/InvalidRequest", call: func(ctx context.Context) error {
			_, err := hp.GetListingStatsContext(ctx, &housing.GetListingStats{MerchantId: "m1001", ListingId: "Lm1001-01", FromDate: date(2026, 3, 1), ToDate: date(2026, 4, 1)})
			return err
		}, want: &housing.InvalidRequestFault{Field: "toDate", Reason: "the range is longer than 31 days"}},

		// housing: ListLeads
		{name: "ListLeads/NotFound", call: func(ctx context.Context) error {
			_, err := hp.ListLeadsContext(ctx, &housing.ListLeads{MerchantId: "m0001"})
			return err
		}, want: &housing.NotFoundFault{ResourceType: "merchant", ResourceId: "m0001"}},
		{name: "ListLeads/NotOwner", call: func(ctx context.Context) error {
			_, err := hp.ListLeadsContext(ctx, &housing.ListLeads{MerchantId: "m1001", ListingId: "Lm1002-02"})
			return err
		}, want: &housing.NotOwnerFault{ResourceType: "listing", ResourceId: "Lm1002-02", MerchantId: "m1001"}},
		{name: "ListLeads/InvalidRequest", call: func(ctx context.Context) error {
			_, err := hp.ListLeadsContext(ctx, &housing.ListLeads{MerchantId: "m1001", PageToken: "not-ours"})
			return err
		}, want: &housing.InvalidRequestFault{Field: "pageToken", Reason: "not a token this service issued"}},

		// recruitment: RefreshJobPost
		{name: "RefreshJobPost/NotFound", call: func(ctx context.Context) error {
			_, err := rp.RefreshJobPostContext(ctx, &recruitment.RefreshJobPost{MerchantId: "m1001", JobPostId: "Jm1001-04"})
			return err
		}, want: &recruitment.NotFoundFault{ResourceType: "jobPost", ResourceId: "Jm1001-04"}},
		{name: "RefreshJobPost/NotOwner", call: func(ctx context.Context) error {
			_, err := rp.RefreshJobPostContext(ctx, &recruitment.RefreshJobPost{MerchantId: "m1001", JobPostId: "Jm1002-01"})
			return err
		}, want: &recruitment.NotOwnerFault{ResourceType: "jobPost", ResourceId: "Jm1002-01", MerchantId: "m1001"}},
		{name: "RefreshJobPost/QuotaExceeded", setup: exhaust(func(ctx context.Context) error {
			_, err := rp.RefreshJobPostContext(ctx, &recruitment.RefreshJobPost{MerchantId: "m1012", JobPostId: "Jm1012-02"})
			return err
		}, refreshQuota), call: func(ctx context.Context) error {
			_, err := rp.RefreshJobPostContext(ctx, &recruitment.RefreshJobPost{MerchantId: "m1012", JobPostId: "Jm1012-02"})
			return err
		}, want: &recruitment.QuotaExceededFault{Quota: "jobpost.refresh.daily", Limit: refreshQuota, RetryAfterSeconds: 14*3600 + 30*60}},
		{name: "RefreshJobPost/InvalidRequest", call: func(ctx context.Context) error {
			_, err := rp.RefreshJobPostContext(ctx, &recruitment.RefreshJobPost{JobPostId: "Jm1001-01"})
			return err
		}, want: &recruitment.InvalidRequestFault{Field: "merchantId", Reason: "required"}},

		// recruitment: PromoteJobPost
		{name: "PromoteJobPost/NotFound", call: func(ctx context.Context) error {
			_, err := rp.PromoteJobPostContext(ctx, &recruitment.PromoteJobPost{MerchantId: "m1001", JobPostId: "Lm1001-01", Days: 1, RequestId: "x"})
			return err
		}, want: &recruitment.NotFoundFault{ResourceType: "jobPost", ResourceId: "Lm1001-01"}},
		{name: "PromoteJobPost/NotOwner", call: func(ctx context.Context) error {
			_, err := rp.PromoteJobPostContext(ctx, &recruitment.PromoteJobPost{MerchantId: "m1001", JobPostId: "Jm1003-03", Days: 1, RequestId: "x"})
			return err
		}, want: &recruitment.NotOwnerFault{ResourceType: "jobPost", ResourceId: "Jm1003-03", MerchantId: "m1001"}},
		{name: "PromoteJobPost/InsufficientCredits", setup: func(ctx context.Context) error {
			_, err := rp.PromoteJobPostContext(ctx, &recruitment.PromoteJobPost{MerchantId: "m1013", JobPostId: "Jm1013-01", Days: 25, RequestId: "a"})
			return err
		}, call: func(ctx context.Context) error {
			_, err := rp.PromoteJobPostContext(ctx, &recruitment.PromoteJobPost{MerchantId: "m1013", JobPostId: "Jm1013-02", Days: 26, RequestId: "b"})
			return err
		}, want: &recruitment.InsufficientCreditsFault{Needed: 260, Available: seedCredits - 250}},
		{name: "PromoteJobPost/InvalidRequest", call: func(ctx context.Context) error {
			_, err := rp.PromoteJobPostContext(ctx, &recruitment.PromoteJobPost{MerchantId: "m1001", JobPostId: "Jm1001-01", Days: 3})
			return err
		}, want: &recruitment.InvalidRequestFault{Field: "requestId", Reason: "required"}},

		// recruitment: ListApplicants
		{name: "ListApplicants/NotFound", call: func(ctx context.Context) error {
			_, err := rp.ListApplicantsContext(ctx, &recruitment.ListApplicants{MerchantId: "m1001", JobPostId: "Jm1001-00"})
			return err
		}, want: &recruitment.NotFoundFault{ResourceType: "jobPost", ResourceId: "Jm1001-00"}},
		{name: "ListApplicants/NotOwner", call: func(ctx context.Context) error {
			_, err := rp.ListApplicantsContext(ctx, &recruitment.ListApplicants{MerchantId: "m1019", JobPostId: "Jm1020-01"})
			return err
		}, want: &recruitment.NotOwnerFault{ResourceType: "jobPost", ResourceId: "Jm1020-01", MerchantId: "m1019"}},
		{name: "ListApplicants/InvalidRequest", call: func(ctx context.Context) error {
			_, err := rp.ListApplicantsContext(ctx, &recruitment.ListApplicants{MerchantId: "m1001", JobPostId: "Jm1001-01", PageSize: 101})
			return err
		}, want: &recruitment.InvalidRequestFault{Field: "pageSize", Reason: "must be between 1 and 100"}},

		// account
		{name: "GetCreditBalance/NotFound", call: func(ctx context.Context) error {
			_, err := ap.GetCreditBalanceContext(ctx, &account.GetCreditBalance{MerchantId: "m2001"})
			return err
		}, want: &account.NotFoundFault{ResourceType: "merchant", ResourceId: "m2001"}},
		{name: "GetCreditBalance/InvalidRequest", call: func(ctx context.Context) error {
			_, err := ap.GetCreditBalanceContext(ctx, &account.GetCreditBalance{MerchantId: strings.Repeat("m", 33)})
			return err
		}, want: &account.InvalidRequestFault{Field: "merchantId", Reason: "longer than 32 characters"}},
		{name: "ListCreditPackages/NotFound", call: func(ctx context.Context) error {
			_, err := ap.ListCreditPackagesContext(ctx, &account.ListCreditPackages{MerchantId: "c1001"})
			return err
		}, want: &account.NotFoundFault{ResourceType: "merchant", ResourceId: "c1001"}},
		{name: "ListCreditPackages/InvalidRequest", call: func(ctx context.Context) error {
			_, err := ap.ListCreditPackagesContext(ctx, &account.ListCreditPackages{})
			return err
		}, want: &account.InvalidRequestFault{Field: "merchantId", Reason: "required"}},
		{name: "BuyCreditPackage/NotFound", call: func(ctx context.Context) error {
			_, err := ap.BuyCreditPackageContext(ctx, &account.BuyCreditPackage{MerchantId: "m1001", PackageCode: "CP42", RequestId: "x"})
			return err
		}, want: &account.NotFoundFault{ResourceType: "creditPackage", ResourceId: "CP42"}},
		{name: "BuyCreditPackage/QuotaExceeded", setup: func(ctx context.Context) error {
			for i := range purchaseQuota {
				if _, err := ap.BuyCreditPackageContext(ctx, &account.BuyCreditPackage{MerchantId: "m1014", PackageCode: "CP100", RequestId: "q" + string(rune('a'+i))}); err != nil {
					return err
				}
			}
			return nil
		}, call: func(ctx context.Context) error {
			_, err := ap.BuyCreditPackageContext(ctx, &account.BuyCreditPackage{MerchantId: "m1014", PackageCode: "CP100", RequestId: "one-too-many"})
			return err
		}, want: &account.QuotaExceededFault{Quota: "credits.purchase.daily", Limit: purchaseQuota, RetryAfterSeconds: 14*3600 + 30*60}},
		{name: "BuyCreditPackage/InvalidRequest", call: func(ctx context.Context) error {
			_, err := ap.BuyCreditPackageContext(ctx, &account.BuyCreditPackage{MerchantId: "m1001", RequestId: "x"})
			return err
		}, want: &account.InvalidRequestFault{Field: "packageCode", Reason: "required"}},
	}
}

// declaredFaults lists Operation/Fault (fault name without the Fault suffix)
// for every wsdl:fault of every portType operation of the three WSDLs.
func declaredFaults(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, line := range Lines() {
		var defs struct {
			PortType struct {
				Operations []struct {
					Name   string `xml:"name,attr"`
					Faults []struct {
						Name string `xml:"name,attr"`
					} `xml:"fault"`
				} `xml:"operation"`
			} `xml:"portType"`
		}
		if err := xml.Unmarshal(readWSDL(t, line), &defs); err != nil {
			t.Fatal(err)
		}
		for _, op := range defs.PortType.Operations {
			for _, f := range op.Faults {
				out = append(out, op.Name+"/"+strings.TrimSuffix(f.Name, "Fault"))
			}
		}
	}
	if len(out) < 30 {
		t.Fatalf("only %d declared faults found", len(out))
	}
	return out
}

// faultDetail receives the detail of a fault sent with HTTP 200, through the
// generic client's CallContextWithFaultDetail.
type faultDetail struct {
	NotOwner *housing.NotOwnerFault `xml:"NotOwnerFault"`
}

func (d *faultDetail) ErrorString() string { return "not owner" }
func (d *faultDetail) HasData() bool       { return d.NotOwner != nil }

// TestFaultWithHTTP200 checks the FaultStatusOK mode: the same fault, sent as
// some servers do with HTTP 200, reaches the generated client as a
// *soap.SOAPFault, and its detail decodes where the caller asks for it.
func TestFaultWithHTTP200(t *testing.T) {
	s := startSim(t)
	if err := s.SetFaults(Housing, Faults{FaultStatusOK: true}); err != nil {
		t.Fatal(err)
	}
	client := soapClient(t, s, Housing)
	req := &housing.RefreshListing{MerchantId: "m1001", ListingId: "Lm1002-01"}
	_, err := housing.NewHousingPortType(client).RefreshListingContext(context.Background(), req)
	var sf *soap.SOAPFault
	if !errors.As(err, &sf) {
		t.Fatalf("error %T %v, want *soap.SOAPFault", err, err)
	}
	if sf.Code != "soap:Client" || sf.String != "listing Lm1002-01 belongs to another merchant" {
		t.Errorf("fault %q %q", sf.Code, sf.String)
	}

	detail := &faultDetail{}
	err = client.CallContextWithFaultDetail(context.Background(), "urn:bangbang:partner:housing:v1/RefreshListing", req, new(housing.RefreshListingResponse), detail)
	if !errors.As(err, &sf) {
		t.Fatalf("error %T %v, want *soap.SOAPFault", err, err)
	}
	want := &housing.NotOwnerFault{ResourceType: "listing", ResourceId: "Lm1002-01", MerchantId: "m1001"}
	if detail.NotOwner == nil {
		t.Fatal("no NotOwnerFault detail")
	}
	detail.NotOwner.XMLName = xml.Name{}
	if *detail.NotOwner != *want {
		t.Errorf("detail %+v, want %+v", detail.NotOwner, want)
	}
}
