package sim

import (
	"encoding/xml"
	"fmt"
	"net/http"
)

// SOAP 1.1 fault codes, written with the soap prefix of the answer envelope.
const (
	codeClient          = "soap:Client"
	codeServer          = "soap:Server"
	codeMustUnderstand  = "soap:MustUnderstand"
	codeVersionMismatch = "soap:VersionMismatch"
)

// soapFault is an answer that goes out as soap:Fault. detail, when set, is one
// of the declared fault elements below.
type soapFault struct {
	code    string
	message string
	detail  any
	// status overrides the HTTP status; 0 means 500, as SOAP 1.1 over HTTP
	// requires for a fault.
	status int
}

func (f *soapFault) Error() string { return f.code + ": " + f.message }

func clientFault(msg string) *soapFault { return &soapFault{code: codeClient, message: msg} }

func versionMismatch(msg string) *soapFault {
	return &soapFault{code: codeVersionMismatch, message: msg}
}

// The declared fault elements. Each line declares them in its own namespace,
// which world fills in from the line's service.

type notFoundDetail struct {
	XMLName      xml.Name
	ResourceType string `xml:"resourceType"`
	ResourceID   string `xml:"resourceId"`
}

type notOwnerDetail struct {
	XMLName      xml.Name
	ResourceType string `xml:"resourceType"`
	ResourceID   string `xml:"resourceId"`
	MerchantID   string `xml:"merchantId"`
}

type insufficientCreditsDetail struct {
	XMLName   xml.Name
	Needed    int64 `xml:"needed"`
	Available int64 `xml:"available"`
}

type quotaExceededDetail struct {
	XMLName           xml.Name
	Quota             string `xml:"quota"`
	Limit             int    `xml:"limit"`
	RetryAfterSeconds int64  `xml:"retryAfterSeconds"`
}

type invalidRequestDetail struct {
	XMLName xml.Name
	Field   string `xml:"field"`
	Reason  string `xml:"reason"`
}

// faults builds the declared faults of one namespace.
type faults struct{ ns string }

func (f faults) notFound(kind, id string) *soapFault {
	return &soapFault{
		code:    codeClient,
		message: fmt.Sprintf("%s %s not found", kind, id),
		detail:  &notFoundDetail{XMLName: xml.Name{Space: f.ns, Local: "NotFoundFault"}, ResourceType: kind, ResourceID: id},
	}
}

func (f faults) notOwner(kind, id, merchant string) *soapFault {
	return &soapFault{
		code:    codeClient,
		message: fmt.Sprintf("%s %s belongs to another merchant", kind, id),
		detail: &notOwnerDetail{
			XMLName: xml.Name{Space: f.ns, Local: "NotOwnerFault"}, ResourceType: kind, ResourceID: id, MerchantID: merchant,
		},
	}
}

func (f faults) insufficientCredits(needed, available int64) *soapFault {
	return &soapFault{
		code:    codeClient,
		message: fmt.Sprintf("insufficient credits: %d needed, %d available", needed, available),
		detail: &insufficientCreditsDetail{
			XMLName: xml.Name{Space: f.ns, Local: "InsufficientCreditsFault"}, Needed: needed, Available: available,
		},
	}
}

func (f faults) quotaExceeded(quota string, limit int, retryAfterSeconds int64) *soapFault {
	return &soapFault{
		code:    codeClient,
		message: fmt.Sprintf("quota %s of %d exhausted", quota, limit),
		detail: &quotaExceededDetail{
			XMLName: xml.Name{Space: f.ns, Local: "QuotaExceededFault"}, Quota: quota, Limit: limit, RetryAfterSeconds: retryAfterSeconds,
		},
	}
}

func (f faults) invalid(field, reason string) *soapFault {
	return &soapFault{
		code:    codeClient,
		message: fmt.Sprintf("invalid %s: %s", field, reason),
		detail:  &invalidRequestDetail{XMLName: xml.Name{Space: f.ns, Local: "InvalidRequestFault"}, Field: field, Reason: reason},
	}
}

// authFault answers a request without valid credentials.
func authFault() *soapFault {
	return &soapFault{code: codeClient, message: "authentication failed", status: http.StatusUnauthorized}
}
