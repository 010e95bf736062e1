package sim

import (
	"bytes"
	"encoding/xml"
	"net/http"
	"strconv"
)

const contentTypeXML = "text/xml; charset=utf-8"

// The answer envelope. encoding/xml has no prefix support, so the soap prefix
// is part of the names and declared by hand, the way the generated client
// builds its requests; the operation's element carries its own default
// namespace, which its unqualified-looking children inherit.
type envelopeOut struct {
	XMLName xml.Name `xml:"soap:Envelope"`
	NS      string   `xml:"xmlns:soap,attr"`
	Body    bodyOut
}

type bodyOut struct {
	XMLName xml.Name `xml:"soap:Body"`
	Content any
}

type faultOut struct {
	XMLName xml.Name   `xml:"soap:Fault"`
	Code    string     `xml:"faultcode"`
	String  string     `xml:"faultstring"`
	Detail  *detailOut `xml:"detail,omitempty"`
}

type detailOut struct {
	Content any
}

// encodeEnvelope renders content (an operation's response element or a
// *faultOut) as a complete SOAP 1.1 message.
func encodeEnvelope(content any) ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteString(xml.Header)
	enc := xml.NewEncoder(&buf)
	enc.Indent("", "  ")
	if err := enc.Encode(envelopeOut{NS: nsSOAP11, Body: bodyOut{Content: content}}); err != nil {
		return nil, err
	}
	buf.WriteByte('\n')
	return buf.Bytes(), nil
}

func encodeFault(f *soapFault) ([]byte, error) {
	out := &faultOut{Code: f.code, String: f.message}
	if f.detail != nil {
		out.Detail = &detailOut{Content: f.detail}
	}
	return encodeEnvelope(out)
}

func writeXML(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h.Set("Content-Type", contentTypeXML)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
