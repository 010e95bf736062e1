package partner

import (
	"errors"
	"strings"
	"testing"
	"time"
)

const nsHousing = "urn:bangbang:partner:housing:v1"

func TestParseResponse(t *testing.T) {
	const env = `http://schemas.xmlsoap.org/soap/envelope/`
	for _, tc := range []struct {
		name string
		body string
		want *Fault // nil: an answer
		elem string // the answer's element
		bad  bool
	}{
		{name: "answer", elem: "RefreshListingResponse",
			body: `<?xml version="1.0"?><soap:Envelope xmlns:soap="` + env + `"><soap:Body><RefreshListingResponse xmlns="` + nsHousing + `"><listingId>L</listingId></RefreshListingResponse></soap:Body></soap:Envelope>`},
		{name: "any prefix, header", elem: "X",
			body: `<S:Envelope xmlns:S="` + env + `"><S:Header><h:T xmlns:h="urn:h">1</h:T></S:Header><S:Body><X/></S:Body></S:Envelope>`},
		{name: "default namespace envelope", want: &Fault{Kind: FaultServer, Code: "Server", Message: "down"},
			body: `<Envelope xmlns="` + env + `"><Body><Fault><faultcode>Server</faultcode><faultstring>down</faultstring></Fault></Body></Envelope>`},
		{name: "not owner", want: &Fault{Kind: FaultNotOwner, Code: "env:Client", Message: "not yours", ResourceType: "listing", ResourceID: "Lm1005-01"},
			body: `<env:Envelope xmlns:env="` + env + `"><env:Body><env:Fault><faultcode>env:Client</faultcode><faultstring> not yours </faultstring><detail><h:NotOwnerFault xmlns:h="` + nsHousing + `"><h:resourceType>listing</h:resourceType><h:resourceId>Lm1005-01</h:resourceId><h:merchantId>m1001</h:merchantId></h:NotOwnerFault></detail></env:Fault></env:Body></env:Envelope>`},
		{name: "insufficient credits", want: &Fault{Kind: FaultInsufficientCredits, Code: "soap:Client", Needed: 300, Available: 200},
			body: `<soap:Envelope xmlns:soap="` + env + `"><soap:Body><soap:Fault><faultcode>soap:Client</faultcode><detail><InsufficientCreditsFault xmlns="` + nsHousing + `"><needed>300</needed><available> 200 </available></InsufficientCreditsFault></detail></soap:Fault></soap:Body></soap:Envelope>`},
		{name: "quota", want: &Fault{Kind: FaultQuotaExceeded, Code: "soap:Client", RetryAfter: 3600 * time.Second},
			body: `<soap:Envelope xmlns:soap="` + env + `"><soap:Body><soap:Fault><faultcode>soap:Client</faultcode><detail><QuotaExceededFault xmlns="` + nsHousing + `"><quota>q</quota><limit>10</limit><retryAfterSeconds>3600</retryAfterSeconds></QuotaExceededFault></detail></soap:Fault></soap:Body></soap:Envelope>`},
		{name: "absurd retry after", want: &Fault{Kind: FaultQuotaExceeded, RetryAfter: maxRetryAfter},
			body: `<soap:Envelope xmlns:soap="` + env + `"><soap:Body><soap:Fault><detail><QuotaExceededFault xmlns="` + nsHousing + `"><retryAfterSeconds>9223372036854775807</retryAfterSeconds></QuotaExceededFault></detail></soap:Fault></soap:Body></soap:Envelope>`},
		{name: "invalid request, qualified fault children", want: &Fault{Kind: FaultInvalidRequest, Code: "soap:Client", Message: "bad", Field: "days", Reason: "out of range"},
			body: `<soap:Envelope xmlns:soap="` + env + `"><soap:Body><soap:Fault><soap:faultcode>soap:Client</soap:faultcode><soap:faultstring>bad</soap:faultstring><soap:detail><InvalidRequestFault xmlns="` + nsHousing + `"><field>days</field><reason>out of range</reason></InvalidRequestFault></soap:detail></soap:Fault></soap:Body></soap:Envelope>`},
		{name: "detail of another namespace", want: &Fault{Kind: FaultServer, Code: "soap:Client"},
			body: `<soap:Envelope xmlns:soap="` + env + `"><soap:Body><soap:Fault><faultcode>soap:Client</faultcode><detail><NotFoundFault xmlns="urn:other"><resourceId>x</resourceId></NotFoundFault></detail></soap:Fault></soap:Body></soap:Envelope>`},
		{name: "unknown detail first", want: &Fault{Kind: FaultNotFound, ResourceType: "listing", ResourceID: "x"},
			body: `<soap:Envelope xmlns:soap="` + env + `"><soap:Body><soap:Fault><detail><trace xmlns="urn:x"><a/></trace><NotFoundFault xmlns="` + nsHousing + `"><resourceType>listing</resourceType><resourceId>x</resourceId></NotFoundFault></detail></soap:Fault></soap:Body></soap:Envelope>`},
		{name: "html", bad: true, body: "<!DOCTYPE html>\n<html><body>500</body></html>"},
		{name: "html without doctype", bad: true, body: "<html><body>500</body></html>"},
		{name: "soap 1.2", bad: true, body: `<e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope"><e:Body/></e:Envelope>`},
		{name: "truncated", bad: true, body: `<soap:Envelope xmlns:soap="` + env + `"><soap:Body><soap:Fault><faultcode>soap:Server</faultcode>`},
		{name: "mismatched end", bad: true, body: `<soap:Envelope xmlns:soap="` + env + `"><soap:Body><X><result></soap:Body></soap:Envelope>`},
		{name: "empty", bad: true, body: ``},
		{name: "empty body", bad: true, body: `<soap:Envelope xmlns:soap="` + env + `"><soap:Body/></soap:Envelope>`},
		{name: "no body", bad: true, body: `<soap:Envelope xmlns:soap="` + env + `"/>`},
		{name: "two elements in body", bad: true, body: `<soap:Envelope xmlns:soap="` + env + `"><soap:Body><A/><B/></soap:Body></soap:Envelope>`},
		{name: "trailing element", bad: true, body: `<soap:Envelope xmlns:soap="` + env + `"><soap:Body><A/></soap:Body></soap:Envelope><x/>`},
		{name: "dtd", bad: true, body: `<!DOCTYPE soap:Envelope [<!ENTITY e "x">]><soap:Envelope xmlns:soap="` + env + `"><soap:Body><A/></soap:Body></soap:Envelope>`},
		{name: "bad number", bad: true, body: `<soap:Envelope xmlns:soap="` + env + `"><soap:Body><soap:Fault><detail><InsufficientCreditsFault xmlns="` + nsHousing + `"><needed>lots</needed></InsufficientCreditsFault></detail></soap:Fault></soap:Body></soap:Envelope>`},
		{name: "latin-1", bad: true, body: `<?xml version="1.0" encoding="ISO-8859-1"?><soap:Envelope xmlns:soap="` + env + `"><soap:Body><A/></soap:Body></soap:Envelope>`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := parseResponse([]byte(tc.body), nsHousing)
			if tc.bad {
				if !errors.Is(err, errMalformed) {
					t.Fatalf("parse: %+v, %v; want errMalformed", p, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			switch {
			case tc.want == nil:
				if p.fault != nil || p.answer.Local != tc.elem {
					t.Errorf("got %+v, want answer %s", p, tc.elem)
				}
			case p.fault == nil:
				t.Errorf("no fault, want %+v", tc.want)
			case *p.fault != *tc.want:
				t.Errorf("fault %+v, want %+v", p.fault, tc.want)
			}
		})
	}
}

func TestFaultTextClipped(t *testing.T) {
	long := strings.Repeat("é", maxFaultText) // two bytes each
	body := `<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><soap:Fault><faultcode>soap:Server</faultcode><faultstring>x` + long + `</faultstring></soap:Fault></soap:Body></soap:Envelope>`
	p, err := parseResponse([]byte(body), nsHousing)
	if err != nil || p.fault == nil {
		t.Fatalf("parse: %+v, %v", p, err)
	}
	if len(p.fault.Message) > maxFaultText || !strings.HasPrefix(p.fault.Message, "xé") || !utf8Valid(p.fault.Message) {
		t.Errorf("message of %d bytes: %q…", len(p.fault.Message), p.fault.Message[:10])
	}
}

func utf8Valid(s string) bool { return strings.ToValidUTF8(s, "\uFFFD") == s }
