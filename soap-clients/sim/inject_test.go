package sim

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/bangbang-im/bangbang/gen/soap/account"
	"github.com/bangbang-im/bangbang/gen/soap/housing"
	"github.com/hooklift/gowsdl/soap"
	"go.uber.org/goleak"
)

func refreshOnce(t *testing.T, s *Sim, ctx context.Context) error {
	t.Helper()
	_, err := housing.NewHousingPortType(soapClient(t, s, Housing)).
		RefreshListingContext(ctx, &housing.RefreshListing{MerchantId: "m1001", ListingId: "Lm1001-01"})
	return err
}

func TestInjectedServerFault(t *testing.T) {
	s := startSim(t)
	if err := s.SetFaults(Housing, Faults{FaultRate: 1}); err != nil {
		t.Fatal(err)
	}
	err := refreshOnce(t, s, context.Background())
	var he *soap.HTTPError
	if !errors.As(err, &he) || he.StatusCode != http.StatusInternalServerError {
		t.Fatalf("error %T %v, want HTTP 500", err, err)
	}
	f := parseFault(t, he.ResponseBody)
	if f.Code != "soap:Server" || f.String != "service temporarily unavailable" || len(f.Detail.Inner) != 0 {
		t.Fatalf("fault %+v", f)
	}

	// The same fault with HTTP 200 reaches the generated client as a SOAPFault.
	if err := s.SetFaults(Housing, Faults{FaultRate: 1, FaultStatusOK: true}); err != nil {
		t.Fatal(err)
	}
	var sf *soap.SOAPFault
	if err := refreshOnce(t, s, context.Background()); !errors.As(err, &sf) || sf.Code != "soap:Server" {
		t.Fatalf("error %T %v, want a soap:Server SOAPFault", err, err)
	}
	// Injected failures do not perform the operation unless asked to.
	if c := s.Calls(Housing, "RefreshListing"); c != 2 {
		t.Errorf("Calls = %d, want 2", c)
	}
	if err := s.SetFaults(Housing, Faults{}); err != nil {
		t.Fatal(err)
	}
	resp, err := housing.NewHousingPortType(soapClient(t, s, Housing)).
		RefreshListingContext(context.Background(), &housing.RefreshListing{MerchantId: "m1001", ListingId: "Lm1001-01"})
	if err != nil || resp.RemainingQuota != refreshQuota-1 {
		t.Fatalf("after the faults: %+v, %v (the failed calls spent quota?)", resp, err)
	}
	st, _ := s.Stats(Housing)
	if st.Injected["fault"] != 2 || st.Calls["RefreshListing"] != 3 {
		t.Errorf("stats %+v", st)
	}
}

func TestInjectedHTMLError(t *testing.T) {
	s := startSim(t)
	if err := s.SetFaults(Housing, Faults{HTMLErrorRate: 1}); err != nil {
		t.Fatal(err)
	}
	err := refreshOnce(t, s, context.Background())
	var he *soap.HTTPError
	if !errors.As(err, &he) || he.StatusCode != http.StatusInternalServerError {
		t.Fatalf("error %T %v, want HTTP 500", err, err)
	}
	if !bytes.HasPrefix(he.ResponseBody, []byte("<!DOCTYPE html>")) {
		t.Fatalf("body %q, want an HTML page", he.ResponseBody)
	}
	r := post(t, s, Housing, "", []byte(envOpen+`<soap:Body><RefreshListing xmlns="urn:bangbang:partner:housing:v1"/></soap:Body>`+envClose))
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Errorf("Content-Type %q", ct)
	}
}

func TestInjectedMalformedXML(t *testing.T) {
	s := startSim(t)
	if err := s.SetFaults(Housing, Faults{MalformedRate: 1}); err != nil {
		t.Fatal(err)
	}
	err := refreshOnce(t, s, context.Background())
	var se *xml.SyntaxError
	if !errors.As(err, &se) {
		t.Fatalf("error %T %v, want an *xml.SyntaxError", err, err)
	}
}

func TestInjectedLatency(t *testing.T) {
	s := startSim(t)
	if err := s.SetFaults(Housing, Faults{Latency: 150 * time.Millisecond, Jitter: 50 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := refreshOnce(t, s, context.Background()); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 150*time.Millisecond {
		t.Errorf("answered after %v, before the injected latency", d)
	}

	// A caller that gives up first gets its deadline, and the call it gave
	// up on is dropped, not performed later.
	if err := s.SetFaults(Housing, Faults{Latency: time.Minute}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := refreshOnce(t, s, ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("error %v, want the caller's deadline", err)
	}
	if err := s.SetFaults(Housing, Faults{}); err != nil {
		t.Fatal(err)
	}
	resp, err := housing.NewHousingPortType(soapClient(t, s, Housing)).
		RefreshListingContext(context.Background(), &housing.RefreshListing{MerchantId: "m1001", ListingId: "Lm1001-01"})
	if err != nil || resp.RemainingQuota != refreshQuota-2 {
		t.Fatalf("after the abandoned call: %+v, %v", resp, err)
	}
}

// TestEndlessBodyStopsWhenClientLeaves reads part of an endless answer, hangs
// up, and checks that the server stops streaming and leaves no goroutine.
func TestEndlessBodyStopsWhenClientLeaves(t *testing.T) {
	before := goleak.IgnoreCurrent()
	// Traced, so the stream also goes through otelhttp's response writer,
	// which must still flush.
	s, err := New(Config{HousingAddr: "127.0.0.1:0", RecruitmentAddr: "127.0.0.1:0", AccountAddr: "127.0.0.1:0", TracerProvider: &spanRecorder{}})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	if err := s.SetFaults(Housing, Faults{EndlessRate: 1}); err != nil {
		t.Fatal(err)
	}
	tr := &http.Transport{}
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, s.URL(Housing),
		strings.NewReader(envOpen+`<soap:Body><RefreshListing xmlns="urn:bangbang:partner:housing:v1"/></soap:Body>`+envClose))
	req.SetBasicAuth(DefaultPartnerID, DefaultPartnerKey)
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(io.LimitReader(resp.Body, 256<<10))
	if err != nil || len(got) != 256<<10 {
		t.Fatalf("read %d bytes of the endless answer: %v", len(got), err)
	}
	if !bytes.Contains(got[:300], []byte("<RefreshListingResponse")) {
		t.Fatalf("the endless answer does not start like an answer: %q", got[:300])
	}
	if st, _ := s.Stats(Housing); st.Streaming != 1 {
		t.Fatalf("streaming = %d, want 1", st.Streaming)
	}
	cancel()
	resp.Body.Close()
	tr.CloseIdleConnections()
	waitFor(t, "the server to stop streaming", func() bool {
		st, _ := s.Stats(Housing)
		return st.Streaming == 0
	})
	shutdown, done := context.WithTimeout(context.Background(), 5*time.Second)
	defer done()
	if err := s.Shutdown(shutdown); err != nil {
		t.Fatal(err)
	}
	goleak.VerifyNone(t, before)
}

// TestGeneratedClientGivesUpOnEndlessBody: the generated client, with a
// deadline, returns it instead of reading forever.
func TestGeneratedClientGivesUpOnEndlessBody(t *testing.T) {
	s := startSim(t)
	if err := s.SetFaults(Housing, Faults{EndlessRate: 1}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if err := refreshOnce(t, s, ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("error %v, want the deadline", err)
	}
	waitFor(t, "the server to stop streaming", func() bool {
		st, _ := s.Stats(Housing)
		return st.Streaming == 0
	})
}

// TestShutdownEndsSlowAndEndlessCalls: a Sim shuts down promptly even with a
// call parked on injected latency and another streaming forever.
func TestShutdownEndsSlowAndEndlessCalls(t *testing.T) {
	s, err := New(Config{HousingAddr: "127.0.0.1:0", RecruitmentAddr: "127.0.0.1:0", AccountAddr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	_ = s.SetFaults(Housing, Faults{EndlessRate: 1})
	_ = s.SetFaults(Account, Faults{Latency: time.Minute})
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	send := func(line, body string) (*http.Response, error) {
		req, _ := http.NewRequest(http.MethodPost, s.URL(line), strings.NewReader(envOpen+body+envClose))
		req.SetBasicAuth(DefaultPartnerID, DefaultPartnerKey)
		return client.Do(req)
	}
	endless, err := send(Housing, `<soap:Body><RefreshListing xmlns="urn:bangbang:partner:housing:v1"/></soap:Body>`)
	if err != nil {
		t.Fatal(err)
	}
	defer endless.Body.Close()
	slow := make(chan error, 1)
	go func() {
		resp, err := send(Account, okBody)
		if err == nil {
			_, err = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		slow <- err
	}()
	waitFor(t, "the slow call to arrive", func() bool { return s.Calls(Account, "GetCreditBalance") == 1 })

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	start := time.Now()
	if err := s.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("Shutdown took %v", d)
	}
	<-slow // the parked call was answered or cut off; either way it ended
	if st, _ := s.Stats(Housing); st.Streaming != 0 {
		t.Errorf("still streaming after Shutdown")
	}
}

// TestApplyBeforeFailure: with the answer lost after the charge, a retry
// with the same requestId gets the first result and no second charge.
func TestApplyBeforeFailure(t *testing.T) {
	s := startSim(t)
	if err := s.SetFaults(Account, Faults{HTMLErrorRate: 1, ApplyBeforeFailure: true}); err != nil {
		t.Fatal(err)
	}
	port := account.NewAccountPortType(soapClient(t, s, Account))
	req := &account.BuyCreditPackage{MerchantId: "m1016", PackageCode: "CP100", RequestId: "lost-answer"}
	if _, err := port.BuyCreditPackageContext(context.Background(), req); err == nil {
		t.Fatal("no failure")
	}
	if c, _ := s.Credits("m1016"); c != seedCredits+100 {
		t.Fatalf("credits %d: the purchase was not applied", c)
	}
	if err := s.SetFaults(Account, Faults{}); err != nil {
		t.Fatal(err)
	}
	o, err := port.BuyCreditPackageContext(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if o.Balance != seedCredits+100 || o.CreditsAdded != 100 {
		t.Fatalf("retry: %+v", o)
	}
	if c, _ := s.Credits("m1016"); c != seedCredits+100 {
		t.Fatalf("credits %d after the retry: charged twice", c)
	}
	if n := s.Calls(Account, "BuyCreditPackage"); n != 2 {
		t.Errorf("Calls = %d, want 2", n)
	}
}

func TestControlEndpoints(t *testing.T) {
	s := startSim(t)
	base := strings.TrimSuffix(s.URL(Recruitment), "/soap/recruitment/v1")
	postJSON := func(body string) rawResponse {
		req, _ := http.NewRequest(http.MethodPost, base+"/_sim/faults", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		return do(t, req)
	}
	for _, bad := range []string{`{`, `{"fault_rate": 2}`, `{"latency_ms": -1}`, `{"latency_ms": 9223372036854775807}`, `{"fault_rate": 0.6, "endless_rate": 0.6}`, `{"fault_rate": 1, "oops": 1}`, `{} {}`} {
		if r := postJSON(bad); r.status != http.StatusBadRequest {
			t.Errorf("POST %s: HTTP %d, want 400", bad, r.status)
		}
	}
	r := postJSON(`{"fault_rate": 1, "fault_status_ok": true, "latency_ms": 5}`)
	if r.status != http.StatusOK {
		t.Fatalf("POST faults: HTTP %d %s", r.status, r.body)
	}
	body := envOpen + `<soap:Body><ListApplicants xmlns="urn:bangbang:partner:recruitment:v1"><merchantId>m1001</merchantId><jobPostId>Jm1001-01</jobPostId></ListApplicants></soap:Body>` + envClose
	answer := post(t, s, Recruitment, "", []byte(body))
	if answer.status != http.StatusOK || parseFault(t, answer.body).Code != "soap:Server" {
		t.Fatalf("with faults set over HTTP: HTTP %d %s", answer.status, answer.body)
	}
	req, _ := http.NewRequest(http.MethodGet, base+"/_sim/stats", nil)
	var st Stats
	if err := json.Unmarshal(do(t, req).body, &st); err != nil {
		t.Fatal(err)
	}
	if st.Line != Recruitment || st.Calls["ListApplicants"] != 1 || st.Calls["PromoteJobPost"] != 0 || st.Injected["fault"] != 1 ||
		st.Faults.FaultRate != 1 || st.Faults.LatencyMS != 5 || st.Requests != 1 {
		t.Fatalf("stats %+v", st)
	}
	if r := postJSON(`{}`); r.status != http.StatusOK {
		t.Fatalf("reset: HTTP %d", r.status)
	}
	req, _ = http.NewRequest(http.MethodGet, base+"/_sim/faults", nil)
	var f faultsJSON
	if err := json.Unmarshal(do(t, req).body, &f); err != nil || f != (faultsJSON{}) {
		t.Fatalf("faults after reset: %+v, %v", f, err)
	}
	if answer := post(t, s, Recruitment, "", []byte(body)); answer.status != http.StatusOK || bytes.Contains(answer.body, []byte("Fault")) {
		t.Fatalf("after reset: HTTP %d %s", answer.status, answer.body)
	}
}

func TestSetFaultsRefusesNonsense(t *testing.T) {
	s := startSim(t)
	if err := s.SetFaults("payments", Faults{}); !errors.Is(err, ErrUnknownLine) {
		t.Errorf("unknown line: %v", err)
	}
	for _, f := range []Faults{{FaultRate: -0.1}, {EndlessRate: 1.5}, {FaultRate: 0.5, HTMLErrorRate: 0.3, MalformedRate: 0.3}, {Latency: -time.Second}, {Latency: time.Hour}} {
		if err := s.SetFaults(Housing, f); !errors.Is(err, ErrFaults) {
			t.Errorf("SetFaults(%+v) = %v, want ErrFaults", f, err)
		}
	}
}
