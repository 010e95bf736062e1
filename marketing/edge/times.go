package edge

import (
	"encoding/xml"
	"strings"
	"time"

	"github.com/hooklift/gowsdl/soap"
)

// xsdText holds an xsd:dateTime to read it back as the text it came as.
type xsdText struct {
	XMLName xml.Name         `xml:"v"`
	T       soap.XSDDateTime `xml:"t"`
}

// utc turns a SOAP xsd:dateTime into the API's RFC 3339 UTC time. A value
// without a zone is UTC, as the WSDLs specify; gowsdl would take it as this
// host's local time and does not tell whether a zone was present, so the
// value is read back from its own text.
func utc(x soap.XSDDateTime) time.Time {
	b, err := xml.Marshal(xsdText{T: x})
	if err != nil {
		return time.Time{}
	}
	var v struct {
		T string `xml:"t"`
	}
	if xml.Unmarshal(b, &v) != nil || v.T == "" {
		return time.Time{}
	}
	s := v.T
	if date, clock, ok := strings.Cut(s, "T"); ok && !strings.ContainsAny(clock, "Z+-") {
		s = date + "T" + clock + "Z"
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}
	}
	return t.UTC()
}

// day renders a SOAP xsd:date as YYYY-MM-DD, the calendar day it names.
func day(x soap.XSDDate) string {
	return x.ToGoTime().Format(time.DateOnly)
}

// xsdDay is the xsd:date of a calendar day, sent without a zone.
func xsdDay(t time.Time) soap.XSDDate {
	return soap.CreateXsdDate(time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC), false)
}
