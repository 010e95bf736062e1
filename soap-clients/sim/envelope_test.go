package sim

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const (
	envOpen  = `<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">`
	envClose = `</soap:Envelope>`
	okBody   = `<soap:Body><GetCreditBalance xmlns="urn:bangbang:partner:account:v1"><merchantId>m1001</merchantId></GetCreditBalance></soap:Body>`
)

func TestParseEnvelope(t *testing.T) {
	cases := []struct {
		name string
		in   string
		code string // expected fault code; "" means the body element is returned
		msg  string // a part of the expected faultstring
	}{
		{name: "plain", in: envOpen + okBody + envClose},
		{name: "declaration and comments", in: `<?xml version="1.0" encoding="utf-8"?>` + "\n<!-- hi -->\n" + envOpen + okBody + envClose + "\n<!-- bye -->\n"},
		{name: "byte order mark", in: "\xEF\xBB\xBF" + envOpen + okBody + envClose},
		{name: "header not for us", in: envOpen + `<soap:Header><x:Trace xmlns:x="urn:x" soap:actor="urn:some-proxy" soap:mustUnderstand="1">1</x:Trace><y:Hint xmlns:y="urn:y" soap:mustUnderstand="0"/></soap:Header>` + okBody + envClose},
		{name: "element after body", in: envOpen + okBody + `<x:Trailer xmlns:x="urn:x"/>` + envClose},
		{name: "must understand", in: envOpen + `<soap:Header><x:Tx xmlns:x="urn:x" soap:mustUnderstand="1"/></soap:Header>` + okBody + envClose, code: codeMustUnderstand, msg: "Tx"},
		{name: "soap 1.2", in: `<e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope"><e:Body/></e:Envelope>`, code: codeVersionMismatch, msg: "SOAP 1.2"},
		{name: "not an envelope", in: `<GetCreditBalance xmlns="urn:bangbang:partner:account:v1"/>`, code: codeVersionMismatch, msg: "root element"},
		{name: "empty", in: "  \n", code: codeClient, msg: "no SOAP envelope"},
		{name: "not xml", in: `{"merchantId":"m1001"}`, code: codeClient, msg: "unexpected text"},
		{name: "doctype", in: `<!DOCTYPE x [<!ENTITY a "b">]>` + envOpen + okBody + envClose, code: codeClient, msg: "document type declaration"},
		{name: "undefined entity", in: envOpen + `<soap:Body><GetCreditBalance xmlns="urn:bangbang:partner:account:v1"><merchantId>&a;</merchantId></GetCreditBalance></soap:Body>` + envClose, code: codeClient, msg: "malformed XML"},
		{name: "foreign encoding", in: `<?xml version="1.0" encoding="ISO-8859-1"?>` + envOpen + okBody + envClose, code: codeClient, msg: "malformed XML"},
		{name: "truncated", in: envOpen + `<soap:Body><GetCreditBalance>`, code: codeClient, msg: "malformed XML"},
		{name: "no body", in: envOpen + `<soap:Header/>` + envClose, code: codeClient, msg: "no Body"},
		{name: "empty body", in: envOpen + `<soap:Body> </soap:Body>` + envClose, code: codeClient, msg: "Body is empty"},
		{name: "two operations", in: envOpen + `<soap:Body><a:X xmlns:a="urn:a"/><a:Y xmlns:a="urn:a"/></soap:Body>` + envClose, code: codeClient, msg: "exactly one element"},
		{name: "text in body", in: envOpen + `<soap:Body>hello</soap:Body>` + envClose, code: codeClient, msg: "unexpected text"},
		{name: "unknown child of envelope", in: envOpen + `<soap:Bogus/>` + okBody + envClose, code: codeClient, msg: "unexpected element"},
		{name: "header after body", in: envOpen + okBody + `<soap:Header/>` + envClose, code: ""},
		{name: "two roots", in: envOpen + okBody + envClose + envOpen + envClose, code: codeClient, msg: "after the Envelope"},
		{name: "nested too deeply", in: envOpen + `<soap:Body>` + strings.Repeat("<a>", 40) + strings.Repeat("</a>", 40) + `</soap:Body>` + envClose, code: codeClient, msg: "nested too deeply"},
		{name: "too many elements", in: envOpen + `<soap:Body><a>` + strings.Repeat("<b/>", maxElements) + `</a></soap:Body>` + envClose, code: codeClient, msg: "too many elements"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			el, err := parseEnvelope([]byte(c.in))
			if c.code == "" {
				if err != nil {
					t.Fatalf("unexpected fault: %v", err)
				}
				if el == nil || el.name.Local == "" {
					t.Fatalf("no body element")
				}
				return
			}
			var f *soapFault
			if !errors.As(err, &f) {
				t.Fatalf("error %T %v, want a *soapFault", err, err)
			}
			if f.code != c.code || !strings.Contains(f.message, c.msg) {
				t.Fatalf("fault %s %q, want %s containing %q", f.code, f.message, c.code, c.msg)
			}
		})
	}
}

func TestParseEnvelopeReadsFieldsWhateverThePrefix(t *testing.T) {
	in := `<S:Envelope xmlns:S="http://schemas.xmlsoap.org/soap/envelope/" xmlns:h="urn:bangbang:partner:housing:v1"><S:Body>` +
		`<h:PromoteListing><h:merchantId> m1001 </h:merchantId><listingId>Lm1001-01</listingId><h:days>+7</h:days></h:PromoteListing></S:Body></S:Envelope>`
	el, err := parseEnvelope([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	if el.name.Space != nsHousing || el.name.Local != "PromoteListing" {
		t.Fatalf("body element %v", el.name)
	}
	r := fields{el: el, f: faults{ns: nsHousing}}
	if m := r.str("merchantId", true, 32); m != "m1001" {
		t.Errorf("merchantId %q", m)
	}
	if l := r.str("listingId", true, 32); l != "Lm1001-01" {
		t.Errorf("listingId %q", l)
	}
	if d := r.integer("days", true, 0, 1, 30); d != 7 {
		t.Errorf("days %d", d)
	}
	if r.err != nil {
		t.Fatal(r.err)
	}
}

// FuzzParseEnvelope feeds arbitrary bytes to the request parser: it must never
// panic, and must answer either a body element or a *soapFault.
func FuzzParseEnvelope(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join("testdata", "golden", "*.request.xml"))
	for _, p := range seeds {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(envOpen + okBody + envClose))
	f.Fuzz(func(t *testing.T, data []byte) {
		el, err := parseEnvelope(data)
		if err != nil {
			var sf *soapFault
			if !errors.As(err, &sf) || sf.code == "" || sf.message == "" {
				t.Fatalf("error %T %v is not a complete *soapFault", err, err)
			}
			if el != nil {
				t.Fatal("both an element and a fault")
			}
			return
		}
		if el == nil {
			t.Fatal("neither an element nor a fault")
		}
		if _, err := encodeFault(&soapFault{code: codeClient, message: "echo " + el.name.Local}); err != nil {
			t.Fatalf("cannot answer about %q: %v", el.name.Local, err)
		}
	})
}
