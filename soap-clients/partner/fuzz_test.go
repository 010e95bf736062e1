package partner

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"testing"

	genhousing "github.com/bangbang-im/bangbang/gen/soap/housing"
)

// FuzzParseResponse feeds arbitrary bodies to the fault parser, and through
// the whole decoding path of a call (transport, generated decoder,
// classification) with HTTP 200 and 500. Seeds: the simulator's golden
// responses in testdata/fuzz, and the shapes below.
func FuzzParseResponse(f *testing.F) {
	const env = `<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>`
	const end = `</soap:Body></soap:Envelope>`
	for _, detail := range []string{
		`<NotFoundFault xmlns="` + nsHousing + `"><resourceType>listing</resourceType><resourceId>Lm1001-09</resourceId></NotFoundFault>`,
		`<InsufficientCreditsFault xmlns="` + nsHousing + `"><needed>300</needed><available>200</available></InsufficientCreditsFault>`,
		`<QuotaExceededFault xmlns="` + nsHousing + `"><quota>listing.refresh.daily</quota><limit>10</limit><retryAfterSeconds>52200</retryAfterSeconds></QuotaExceededFault>`,
		`<InvalidRequestFault xmlns="` + nsHousing + `"><field>days</field><reason>must be between 1 and 30</reason></InvalidRequestFault>`,
	} {
		f.Add([]byte(env + `<soap:Fault><faultcode>soap:Client</faultcode><faultstring>x</faultstring><detail>` + detail + `</detail></soap:Fault>` + end))
	}
	f.Add([]byte(env + `<soap:Fault><faultcode>soap:Server</faultcode><faultstring>service temporarily unavailable</faultstring></soap:Fault>` + end))
	f.Add([]byte(env + `<PromoteListingResponse xmlns="` + nsHousing + `"><result>` + end)) // the sim's malformed answer
	f.Add([]byte(env + `<PromoteListingResponse xmlns="` + nsHousing + `">` + "\n<!-- still working -->\n"))
	f.Add([]byte("<!DOCTYPE html>\n<html><head><title>500 Internal Server Error</title></head></html>\n"))

	c, port := fuzzClient(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		p, err := parseResponse(body, nsHousing)
		if err != nil {
			if !errors.Is(err, errMalformed) {
				t.Fatalf("error %v does not wrap errMalformed", err)
			}
		} else {
			checkParsed(t, p)
			again, err := parseResponse(body, nsHousing)
			if err != nil || (again.fault == nil) != (p.fault == nil) || (p.fault != nil && *again.fault != *p.fault) || again.answer != p.answer {
				t.Fatalf("not deterministic: %+v then %+v, %v", p, again, err)
			}
		}
		for _, status := range []int{http.StatusOK, http.StatusInternalServerError} {
			ctx := context.WithValue(context.Background(), fuzzReply{}, fuzzAnswer{status, body})
			res, err := Do(ctx, c, "PromoteListing", false, func(ctx context.Context) (*genhousing.PromoteListingResponse, error) {
				return port.PromoteListingContext(ctx, &genhousing.PromoteListing{MerchantId: "m1001", ListingId: "Lm1001-01", Days: 1, RequestId: "fuzz"})
			})
			checkDo(t, status, res, err)
		}
	})
}

func checkParsed(t *testing.T, p parsed) {
	if (p.fault == nil) == (p.answer.Local == "") {
		t.Fatalf("want exactly one of a fault and an answer: %+v", p)
	}
	f := p.fault
	if f == nil {
		return
	}
	if !f.declared() && f.Kind != FaultServer {
		t.Fatalf("fault kind %q", f.Kind)
	}
	if f.RetryAfter < 0 || f.RetryAfter > maxRetryAfter {
		t.Fatalf("RetryAfter %v", f.RetryAfter)
	}
	if len(f.Message) > maxFaultText || len(f.Reason) > maxFaultText || len(f.Code) > maxFaultField ||
		len(f.ResourceType) > maxFaultField || len(f.ResourceID) > maxFaultField || len(f.Field) > maxFaultField {
		t.Fatalf("fault text over its bounds: %+v", f)
	}
}

func checkDo(t *testing.T, status int, res *genhousing.PromoteListingResponse, err error) {
	if err == nil {
		if status != http.StatusOK || res == nil {
			t.Fatalf("HTTP %d: success with %v", status, res)
		}
		return
	}
	var f *Fault
	if errors.As(err, &f) {
		if f.Line != "housing" || f.Op != "PromoteListing" || f.Kind == FaultAuth {
			t.Fatalf("HTTP %d: fault %+v", status, f)
		}
		return
	}
	n := 0
	for _, kind := range []error{ErrUnavailable, ErrTimeout, ErrBadResponse, ErrTransport} {
		if errors.Is(err, kind) {
			n++
		}
	}
	if n != 1 || !errors.Is(err, ErrBadResponse) {
		t.Fatalf("HTTP %d: error %v, want a Fault or ErrBadResponse alone", status, err)
	}
}

type fuzzReply struct{}

type fuzzAnswer struct {
	status int
	body   []byte
}

// fuzzTransport answers every request with the status and body in its context.
type fuzzTransport struct{}

func (fuzzTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		_, _ = io.Copy(io.Discard, r.Body)
		_ = r.Body.Close()
	}
	a, _ := r.Context().Value(fuzzReply{}).(fuzzAnswer)
	return &http.Response{
		StatusCode:    a.status,
		Header:        http.Header{"Content-Type": {"text/xml; charset=utf-8"}},
		Body:          io.NopCloser(bytes.NewReader(a.body)),
		ContentLength: int64(len(a.body)),
		Request:       r,
	}, nil
}

func fuzzClient(f *testing.F) (*Client, genhousing.HousingPortType) {
	c, err := New(Config{
		Name: "housing", Namespace: nsHousing, Endpoint: "http://127.0.0.1:9/soap/housing/v1",
		ReadRetries: -1, BreakerMinRequests: 1 << 30, Transport: fuzzTransport{},
	})
	if err != nil {
		f.Fatal(err)
	}
	return c, genhousing.NewHousingPortType(c.SOAP)
}
