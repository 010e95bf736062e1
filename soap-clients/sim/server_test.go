package sim

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/hooklift/gowsdl/soap"

	"github.com/bangbang-im/bangbang/gen/soap/account"
	"github.com/bangbang-im/bangbang/internal/freeport"
)

func TestAuthentication(t *testing.T) {
	s := startSim(t, func(c *Config) { c.PartnerID, c.PartnerKey = "edge", "k3y" })
	for name, opts := range map[string][]soap.Option{
		"none":      nil,
		"wrong key": {soap.WithBasicAuth("edge", "key")},
		"wrong id":  {soap.WithBasicAuth("edgy", "k3y")},
	} {
		c := soap.NewClient(s.URL(Account), append(opts, soap.WithHTTPClient(httpClient(t)))...)
		_, err := account.NewAccountPortType(c).GetCreditBalanceContext(context.Background(), &account.GetCreditBalance{MerchantId: "m1001"})
		var he *soap.HTTPError
		if !errors.As(err, &he) || he.StatusCode != http.StatusUnauthorized {
			t.Fatalf("%s: %v, want HTTP 401", name, err)
		}
		if f := parseFault(t, he.ResponseBody); f.Code != "soap:Client" || f.String != "authentication failed" {
			t.Errorf("%s: fault %+v", name, f)
		}
	}
	req, _ := http.NewRequest(http.MethodPost, s.URL(Account), strings.NewReader(envOpen+okBody+envClose))
	r := do(t, req)
	if h := r.header.Get("WWW-Authenticate"); !strings.HasPrefix(h, "Basic ") {
		t.Errorf("WWW-Authenticate %q", h)
	}
	c := soap.NewClient(s.URL(Account), soap.WithBasicAuth("edge", "k3y"), soap.WithHTTPClient(httpClient(t)))
	if _, err := account.NewAccountPortType(c).GetCreditBalanceContext(context.Background(), &account.GetCreditBalance{MerchantId: "m1001"}); err != nil {
		t.Fatalf("right credentials: %v", err)
	}
	st, _ := s.Stats(Account)
	if st.AuthFailures != 4 || st.Calls["GetCreditBalance"] != 1 {
		t.Errorf("stats %+v", st)
	}
}

func TestRequestSizeLimit(t *testing.T) {
	s := startSim(t, func(c *Config) { c.MaxRequestBytes = 4 << 10 })
	body := envOpen + `<soap:Body><GetCreditBalance xmlns="urn:bangbang:partner:account:v1"><merchantId>` +
		strings.Repeat("m", 8<<10) + `</merchantId></GetCreditBalance></soap:Body>` + envClose
	r := post(t, s, Account, "", []byte(body))
	if r.status != http.StatusRequestEntityTooLarge || parseFault(t, r.body).Code != "soap:Client" {
		t.Fatalf("HTTP %d %s", r.status, r.body)
	}
	if s.Calls(Account, "GetCreditBalance") != 0 {
		t.Error("an oversized request reached the operation")
	}
}

func TestUnknownOperation(t *testing.T) {
	s := startSim(t)
	for name, body := range map[string]string{
		"unknown name":    `<soap:Body><CloseAccount xmlns="urn:bangbang:partner:account:v1"/></soap:Body>`,
		"other namespace": `<soap:Body><GetCreditBalance xmlns="urn:bangbang:partner:housing:v1"><merchantId>m1001</merchantId></GetCreditBalance></soap:Body>`,
		"no namespace":    `<soap:Body><GetCreditBalance><merchantId>m1001</merchantId></GetCreditBalance></soap:Body>`,
	} {
		r := post(t, s, Account, "", []byte(envOpen+body+envClose))
		if f := parseFault(t, r.body); r.status != http.StatusInternalServerError || f.Code != "soap:Client" || !strings.Contains(f.String, "no operation") {
			t.Errorf("%s: HTTP %d %+v", name, r.status, f)
		}
	}
	if st, _ := s.Stats(Account); st.BadRequests != 3 || st.Requests != 3 {
		t.Errorf("stats %+v", st)
	}
}

func TestStartAndAddresses(t *testing.T) {
	s := startSim(t)
	h, r, a := s.Addrs()
	for line, addr := range map[string]string{Housing: h, Recruitment: r, Account: a} {
		if !strings.HasPrefix(addr, "127.0.0.1:") || strings.HasSuffix(addr, ":0") {
			t.Errorf("%s listens on %q", line, addr)
		}
		if want := "http://" + addr + "/soap/" + line + "/v1"; s.URL(line) != want {
			t.Errorf("URL(%s) = %q, want %q", line, s.URL(line), want)
		}
	}
	if s.URL("payments") != "" {
		t.Error("URL of an unknown line")
	}
	if err := s.Start(); !errors.Is(err, ErrStarted) {
		t.Errorf("second Start: %v", err)
	}

	// A taken port fails Start and leaves nothing listening.
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	freeAddr := freeport.Addr(t)
	s2, err := New(Config{HousingAddr: freeAddr, RecruitmentAddr: busy.Addr().String(), AccountAddr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	if err := s2.Start(); err == nil || !strings.Contains(err.Error(), "recruitment") {
		t.Fatalf("Start on a taken port: %v", err)
	}
	ln, err := net.Listen("tcp", freeAddr)
	if err != nil {
		t.Fatalf("the housing port stayed bound after the failed Start: %v", err)
	}
	ln.Close()
	if err := s2.Shutdown(context.Background()); err != nil {
		t.Errorf("Shutdown of a Sim that never started: %v", err)
	}
}

func TestConfigDefaults(t *testing.T) {
	s, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	if h, r, a := s.Addrs(); h != ":8600" || r != ":8601" || a != ":8602" {
		t.Errorf("default addresses %s %s %s", h, r, a)
	}
	if u := s.URL(Account); u != "http://127.0.0.1:8602/soap/account/v1" {
		t.Errorf("URL before Start: %s", u)
	}
	if _, err := New(Config{PartnerID: "only-id"}); !errors.Is(err, ErrConfig) {
		t.Errorf("half credentials: %v", err)
	}
	if _, err := New(Config{MaxRequestBytes: -1}); !errors.Is(err, ErrConfig) {
		t.Errorf("negative limit: %v", err)
	}
	if got := Merchants(); len(got) != 20 || got[0] != "m1001" || got[19] != "m1020" {
		t.Errorf("Merchants() = %v", got)
	}
}

// The WSDLs' service addresses are the defaults URL gives, so a client
// generated with the default endpoint reaches bangbang all's simulators.
func TestWSDLAddressesAreTheDefaults(t *testing.T) {
	s, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range Lines() {
		if !bytes.Contains(readWSDL(t, line), []byte(`location="`+s.URL(line)+`"`)) {
			t.Errorf("%s.wsdl does not give %s as the address", line, s.URL(line))
		}
	}
}
