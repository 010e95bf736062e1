package sim

import (
	"bytes"
	"flag"
	"net/http"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/golden/*.response.xml from the sim's answers")

// goldenCase is a request as another ecosystem's SOAP stack sends it (the
// file's bytes, and its SOAPAction header as that stack writes it) and the
// answer the sim must give, byte for byte, on a fresh Sim at fixedNow.
type goldenCase struct {
	name   string // testdata/golden/<name>.request.xml and .response.xml
	line   string
	action string // the SOAPAction header as sent, quotes included
	status int
}

var goldenCases = []goldenCase{
	// .NET WCF (BasicHttpBinding): s: prefix, namespaces declared on Body,
	// default namespace on the operation, quoted SOAPAction, no declaration.
	{"housing-refresh-wcf", Housing, `"urn:bangbang:partner:housing:v1/RefreshListing"`, http.StatusOK},
	{"housing-notowner-wcf", Housing, `"urn:bangbang:partner:housing:v1/PromoteListing"`, http.StatusInternalServerError},
	{"recruitment-applicants-wcf", Recruitment, `"urn:bangbang:partner:recruitment:v1/ListApplicants"`, http.StatusOK},
	{"account-buy-wcf", Account, `"urn:bangbang:partner:account:v1/BuyCreditPackage"`, http.StatusOK},
	// WCF with WS-Security that must be understood: the sim implements no
	// header, so SOAP 1.1 requires a MustUnderstand fault.
	{"account-mustunderstand-wcf", Account, `"urn:bangbang:partner:account:v1/GetCreditBalance"`, http.StatusInternalServerError},
	// Java JAX-WS (Metro): S: prefix, single-quoted XML declaration, ns2:
	// prefixed children, WS-Addressing headers that need not be understood.
	{"housing-promote-jaxws", Housing, `"urn:bangbang:partner:housing:v1/PromoteListing"`, http.StatusOK},
	{"recruitment-promote-jaxws", Recruitment, `"urn:bangbang:partner:recruitment:v1/PromoteJobPost"`, http.StatusOK},
	{"account-packages-jaxws", Account, `"urn:bangbang:partner:account:v1/ListCreditPackages"`, http.StatusOK},
	// SoapUI: soapenv: and urn: prefixes, empty Header, indentation, a
	// comment, a date with a time zone.
	{"housing-stats-soapui", Housing, `"urn:bangbang:partner:housing:v1/GetListingStats"`, http.StatusOK},
	{"account-balance-soapui", Account, "", http.StatusOK},
	// PHP SoapClient: SOAP-ENV: and ns1: prefixes declared on the Envelope.
	{"housing-leads-php", Housing, `"urn:bangbang:partner:housing:v1/ListLeads"`, http.StatusOK},
	// Python zeep: soap-env: and ns0: prefixes, bare SOAPAction.
	{"recruitment-refresh-zeep", Recruitment, `urn:bangbang:partner:recruitment:v1/RefreshJobPost`, http.StatusOK},
	// Mistakes a server must answer with a fault, not a crash or a guess.
	{"account-soap12", Account, "", http.StatusInternalServerError},
	{"housing-wrong-action", Housing, `"urn:bangbang:partner:housing:v1/PromoteListing"`, http.StatusInternalServerError},
	{"housing-truncated", Housing, `"urn:bangbang:partner:housing:v1/RefreshListing"`, http.StatusInternalServerError},
}

func TestGoldenEnvelopes(t *testing.T) {
	for _, c := range goldenCases {
		t.Run(c.name, func(t *testing.T) {
			s := startSim(t)
			reqPath := filepath.Join("testdata", "golden", c.name+".request.xml")
			respPath := filepath.Join("testdata", "golden", c.name+".response.xml")
			body, err := os.ReadFile(reqPath)
			if err != nil {
				t.Fatal(err)
			}
			r := post(t, s, c.line, c.action, body)
			if r.status != c.status {
				t.Errorf("HTTP %d, want %d", r.status, c.status)
			}
			if ct := r.header.Get("Content-Type"); ct != contentTypeXML {
				t.Errorf("Content-Type %q, want %q", ct, contentTypeXML)
			}
			if *update {
				if err := os.WriteFile(respPath, r.body, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(respPath)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(r.body, want) {
				t.Errorf("answer differs from %s:\n%s", respPath, r.body)
			}
		})
	}
}
