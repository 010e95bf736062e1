package sim

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bangbang-im/bangbang/gen/soap/account"
	"github.com/bangbang-im/bangbang/gen/soap/housing"
	"github.com/bangbang-im/bangbang/gen/soap/recruitment"
	"github.com/hooklift/gowsdl/soap"
)

// TestMessagesMatchSchema has the JDK's XML Schema validator, a reader of the
// contracts independent of this code, check that what travels matches the
// WSDLs: the golden requests of other ecosystems, every golden answer, and,
// live from a Sim, every operation's answer and request through the generated
// client plus every declared fault.
func TestMessagesMatchSchema(t *testing.T) {
	java, err := exec.LookPath("java")
	if err != nil {
		t.Skip("java is not installed: the schema check needs the JDK's validator")
	}
	dir := t.TempDir()
	files := map[string][]string{}
	add := func(line, name string, body []byte) {
		path := filepath.Join(dir, fmt.Sprintf("%s-%03d-%s.xml", line, len(files[line]), name))
		if err := os.WriteFile(path, body, 0o644); err != nil {
			t.Fatal(err)
		}
		files[line] = append(files[line], path)
	}

	for _, c := range goldenCases {
		if c.name != "account-soap12" && c.name != "housing-truncated" {
			files[c.line] = append(files[c.line], filepath.Join("testdata", "golden", c.name+".request.xml"))
		}
		files[c.line] = append(files[c.line], filepath.Join("testdata", "golden", c.name+".response.xml"))
	}

	s := startSim(t)
	rec := &recorder{base: httpClient(t).Transport}
	client := func(line string) *soap.Client {
		return soap.NewClient(s.URL(line), soap.WithBasicAuth(DefaultPartnerID, DefaultPartnerKey),
			soap.WithHTTPClient(&http.Client{Transport: rec, Timeout: 10 * time.Second}))
	}
	hp := housing.NewHousingPortType(client(Housing))
	rp := recruitment.NewRecruitmentPortType(client(Recruitment))
	ap := account.NewAccountPortType(client(Account))
	ctx := context.Background()
	if err := everyOperation(ctx, hp, rp, ap); err != nil {
		t.Fatal(err)
	}
	for _, m := range rec.take() {
		add(m.line, "request", m.request)
		add(m.line, "answer", m.response)
	}
	for _, c := range declaredFaultCases(hp, rp, ap) {
		if c.setup != nil {
			if err := c.setup(ctx); err != nil {
				t.Fatalf("%s: setup: %v", c.name, err)
			}
			rec.take()
		}
		if err := c.call(ctx); err == nil {
			t.Fatalf("%s: no fault", c.name)
		}
		for _, m := range rec.take() {
			add(m.line, "fault", m.response)
		}
	}

	args := []string{filepath.Join("testdata", "schemacheck", "SchemaCheck.java")}
	for i, line := range Lines() {
		if i > 0 {
			args = append(args, "--")
		}
		args = append(args, filepath.Join("..", "..", "idl", "wsdl", line+".wsdl"))
		args = append(args, files[line]...)
	}
	out, err := exec.Command(java, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("schema check failed: %v\n%s", err, out)
	}
	total := 0
	for _, line := range Lines() {
		total += len(files[line])
	}
	if got := strings.Count(string(out), "ok "); got != total {
		t.Fatalf("%d messages checked, want %d:\n%s", got, total, out)
	}
}

// everyOperation calls each of the ten operations once, successfully.
func everyOperation(ctx context.Context, hp housing.HousingPortType, rp recruitment.RecruitmentPortType, ap account.AccountPortType) error {
	day := func(d int) soap.XSDDate {
		return soap.CreateXsdDate(time.Date(2026, 3, d, 0, 0, 0, 0, time.UTC), false)
	}
	steps := []func() error{
		func() error {
			_, err := hp.RefreshListingContext(ctx, &housing.RefreshListing{MerchantId: "m1001", ListingId: "Lm1001-01"})
			return err
		},
		func() error {
			_, err := hp.PromoteListingContext(ctx, &housing.PromoteListing{MerchantId: "m1001", ListingId: "Lm1001-01", Days: 2, RequestId: "s-1"})
			return err
		},
		func() error {
			_, err := hp.GetListingStatsContext(ctx, &housing.GetListingStats{MerchantId: "m1001", ListingId: "Lm1001-01", FromDate: day(1), ToDate: day(31)})
			return err
		},
		func() error {
			_, err := hp.ListLeadsContext(ctx, &housing.ListLeads{MerchantId: "m1001", PageSize: 5})
			return err
		},
		func() error {
			_, err := rp.RefreshJobPostContext(ctx, &recruitment.RefreshJobPost{MerchantId: "m1001", JobPostId: "Jm1001-01"})
			return err
		},
		func() error {
			_, err := rp.PromoteJobPostContext(ctx, &recruitment.PromoteJobPost{MerchantId: "m1001", JobPostId: "Jm1001-01", Days: 1, RequestId: "s-2"})
			return err
		},
		func() error {
			_, err := rp.ListApplicantsContext(ctx, &recruitment.ListApplicants{MerchantId: "m1001", JobPostId: "Jm1001-01"})
			return err
		},
		func() error {
			_, err := ap.GetCreditBalanceContext(ctx, &account.GetCreditBalance{MerchantId: "m1001"})
			return err
		},
		func() error {
			_, err := ap.ListCreditPackagesContext(ctx, &account.ListCreditPackages{MerchantId: "m1001"})
			return err
		},
		func() error {
			_, err := ap.BuyCreditPackageContext(ctx, &account.BuyCreditPackage{MerchantId: "m1001", PackageCode: "CP100", RequestId: "s-3"})
			return err
		},
	}
	for i, step := range steps {
		if err := step(); err != nil {
			return fmt.Errorf("operation %d: %w", i, err)
		}
	}
	return nil
}

// recorder is a RoundTripper that keeps a copy of each request and answer body.
type recorder struct {
	base http.RoundTripper
	mu   sync.Mutex
	msgs []exchange
}

type exchange struct {
	line              string
	request, response []byte
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	reqBody, err := io.ReadAll(req.Body)
	if err != nil {
		return nil, err
	}
	req.Body = io.NopCloser(bytes.NewReader(reqBody))
	resp, err := r.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	respBody, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(respBody))
	line := strings.Split(strings.TrimPrefix(req.URL.Path, "/soap/"), "/")[0]
	r.mu.Lock()
	r.msgs = append(r.msgs, exchange{line: line, request: reqBody, response: respBody})
	r.mu.Unlock()
	return resp, nil
}

func (r *recorder) take() []exchange {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.msgs
	r.msgs = nil
	return out
}
