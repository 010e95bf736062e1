package partner

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"
)

const (
	nsSOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
	nsSOAP12 = "http://www.w3.org/2003/05/soap-envelope"
)

// Bounds on what a fault may make us keep: the body is already bounded by
// MaxResponseBytes, but a fault's text ends up in logs and error messages.
const (
	maxFaultText  = 512
	maxFaultField = 128
	// maxRetryAfter keeps an absurd retryAfterSeconds from overflowing a
	// time.Duration.
	maxRetryAfter = 7 * 24 * time.Hour
)

// errMalformed is wrapped by parseResponse for a body that is not a
// well-formed SOAP 1.1 message.
var errMalformed = errors.New("not a soap 1.1 message")

// parsed is what a response body holds: a fault, or the element of an answer.
type parsed struct {
	fault  *Fault
	answer xml.Name
}

// detailKind maps a declared fault element to its kind.
func detailKind(local string) (FaultKind, bool) {
	switch local {
	case "NotFoundFault":
		return FaultNotFound, true
	case "NotOwnerFault":
		return FaultNotOwner, true
	case "InsufficientCreditsFault":
		return FaultInsufficientCredits, true
	case "QuotaExceededFault":
		return FaultQuotaExceeded, true
	case "InvalidRequestFault":
		return FaultInvalidRequest, true
	}
	return "", false
}

// detailXML holds the fields of every declared fault; each element sets the
// ones it declares. Unqualified tags match the children in the line's
// namespace (the WSDLs say elementFormDefault="qualified").
type detailXML struct {
	ResourceType      string `xml:"resourceType"`
	ResourceID        string `xml:"resourceId"`
	Needed            int64  `xml:"needed"`
	Available         int64  `xml:"available"`
	RetryAfterSeconds int64  `xml:"retryAfterSeconds"`
	Field             string `xml:"field"`
	Reason            string `xml:"reason"`
}

// parseResponse reads a SOAP 1.1 response whatever prefixes it uses, and
// returns its fault (Line and Op left empty) or the name of its answer
// element. ns is the line's namespace: a detail element in any other is not
// a declared fault. The whole message must be well-formed: a truncated or
// malformed one is an error wrapping errMalformed.
func parseResponse(body []byte, ns string) (parsed, error) {
	d := xml.NewDecoder(bytes.NewReader(body))
	root, err := firstElement(d)
	if err != nil {
		return parsed{}, err
	}
	switch {
	case root.Name.Space == nsSOAP12 && root.Name.Local == "Envelope":
		return parsed{}, fmt.Errorf("%w: a soap 1.2 envelope", errMalformed)
	case root.Name.Space != nsSOAP11 || root.Name.Local != "Envelope":
		return parsed{}, fmt.Errorf("%w: root element %s", errMalformed, name(root.Name))
	}
	var p parsed
	header, body1 := false, false
	for {
		tok, err := d.Token()
		if err != nil {
			return parsed{}, malformed(err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch {
			case t.Name.Space == nsSOAP11 && t.Name.Local == "Header" && !header && !body1:
				header = true
				if err := d.Skip(); err != nil {
					return parsed{}, malformed(err)
				}
			case t.Name.Space == nsSOAP11 && t.Name.Local == "Body" && !body1:
				body1 = true
				if p, err = parseBody(d, ns); err != nil {
					return parsed{}, err
				}
			default:
				return parsed{}, fmt.Errorf("%w: unexpected %s in Envelope", errMalformed, name(t.Name))
			}
		case xml.EndElement: // </Envelope>: strict mode has matched it
			if !body1 {
				return parsed{}, fmt.Errorf("%w: Envelope without Body", errMalformed)
			}
			return p, atEOF(d)
		case xml.CharData:
			if len(bytes.TrimSpace(t)) != 0 {
				return parsed{}, fmt.Errorf("%w: text in Envelope", errMalformed)
			}
		case xml.Directive:
			return parsed{}, fmt.Errorf("%w: a DTD or directive", errMalformed)
		}
	}
}

// firstElement skips the prolog (declaration, comments, white space) and
// returns the root element. SOAP forbids a DTD, so a directive is refused.
func firstElement(d *xml.Decoder) (xml.StartElement, error) {
	for {
		tok, err := d.Token()
		if err != nil {
			return xml.StartElement{}, malformed(err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			return t, nil
		case xml.CharData:
			if len(bytes.TrimSpace(t)) != 0 {
				return xml.StartElement{}, fmt.Errorf("%w: text before the root element", errMalformed)
			}
		case xml.Directive:
			return xml.StartElement{}, fmt.Errorf("%w: a DTD or directive", errMalformed)
		}
	}
}

// parseBody reads the Body's one element (WS-I: exactly one) up to </Body>.
func parseBody(d *xml.Decoder, ns string) (parsed, error) {
	var p parsed
	seen := false
	for {
		tok, err := d.Token()
		if err != nil {
			return parsed{}, malformed(err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if seen {
				return parsed{}, fmt.Errorf("%w: more than one element in Body", errMalformed)
			}
			seen = true
			if t.Name.Space == nsSOAP11 && t.Name.Local == "Fault" {
				if p.fault, err = parseFault(d, ns); err != nil {
					return parsed{}, err
				}
				continue
			}
			p.answer = t.Name
			if err := d.Skip(); err != nil {
				return parsed{}, malformed(err)
			}
		case xml.EndElement:
			if !seen {
				return parsed{}, fmt.Errorf("%w: empty Body", errMalformed)
			}
			return p, nil
		case xml.CharData:
			if len(bytes.TrimSpace(t)) != 0 {
				return parsed{}, fmt.Errorf("%w: text in Body", errMalformed)
			}
		case xml.Directive:
			return parsed{}, fmt.Errorf("%w: a directive in Body", errMalformed)
		}
	}
}

// parseFault reads a soap:Fault up to its end. SOAP 1.1 has its children
// unqualified; some stacks qualify them, so only local names are compared.
func parseFault(d *xml.Decoder, ns string) (*Fault, error) {
	f := &Fault{Kind: FaultServer}
	for {
		tok, err := d.Token()
		if err != nil {
			return nil, malformed(err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			var err error
			switch t.Name.Local {
			case "faultcode":
				f.Code, err = text(d, t, maxFaultField)
			case "faultstring":
				f.Message, err = text(d, t, maxFaultText)
			case "detail":
				err = parseDetail(d, ns, f)
			default: // faultactor, and extensions we do not read
				err = d.Skip()
			}
			if err != nil {
				return nil, malformed(err)
			}
		case xml.EndElement:
			return f, nil
		case xml.Directive:
			return nil, fmt.Errorf("%w: a directive in Fault", errMalformed)
		}
	}
}

// parseDetail reads detail up to its end; its first declared fault element
// in ns sets the fault's kind and fields. Anything else leaves FaultServer.
func parseDetail(d *xml.Decoder, ns string, f *Fault) error {
	found := false
	for {
		tok, err := d.Token()
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			kind, ok := detailKind(t.Name.Local)
			if found || !ok || t.Name.Space != ns {
				if err := d.Skip(); err != nil {
					return err
				}
				continue
			}
			found = true
			var x detailXML
			if err := d.DecodeElement(&x, &t); err != nil {
				return fmt.Errorf("%s: %w", t.Name.Local, err)
			}
			f.Kind = kind
			f.ResourceType = clip(x.ResourceType, maxFaultField)
			f.ResourceID = clip(x.ResourceID, maxFaultField)
			f.Needed, f.Available = x.Needed, x.Available
			f.Field = clip(x.Field, maxFaultField)
			f.Reason = clip(x.Reason, maxFaultText)
			if kind == FaultQuotaExceeded {
				f.RetryAfter = retryAfterSeconds(x.RetryAfterSeconds)
			}
		case xml.EndElement:
			return nil
		case xml.Directive:
			return fmt.Errorf("a directive in detail")
		}
	}
}

// text reads an element's character data, trimmed and clipped.
func text(d *xml.Decoder, start xml.StartElement, limit int) (string, error) {
	var s string
	if err := d.DecodeElement(&s, &start); err != nil {
		return "", err
	}
	return clip(strings.TrimSpace(s), limit), nil
}

// atEOF accepts only comments, processing instructions and white space after
// the root element.
func atEOF(d *xml.Decoder) error {
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return malformed(err)
		}
		switch t := tok.(type) {
		case xml.CharData:
			if len(bytes.TrimSpace(t)) != 0 {
				return fmt.Errorf("%w: text after the Envelope", errMalformed)
			}
		case xml.Comment, xml.ProcInst:
		default:
			return fmt.Errorf("%w: content after the Envelope", errMalformed)
		}
	}
}

func malformed(err error) error {
	if errors.Is(err, io.EOF) {
		return fmt.Errorf("%w: truncated", errMalformed)
	}
	return fmt.Errorf("%w: %w", errMalformed, err)
}

func retryAfterSeconds(s int64) time.Duration {
	switch {
	case s <= 0:
		return 0
	case s >= int64(maxRetryAfter/time.Second):
		return maxRetryAfter
	}
	return time.Duration(s) * time.Second
}

// clip cuts s to at most limit bytes without splitting a UTF-8 sequence.
func clip(s string, limit int) string {
	if len(s) <= limit {
		return s
	}
	for limit > 0 && !utf8.RuneStart(s[limit]) {
		limit--
	}
	return s[:limit]
}

func name(n xml.Name) string {
	if n.Space == "" {
		return clip(n.Local, maxFaultField)
	}
	return clip("{"+n.Space+"}"+n.Local, maxFaultField)
}
