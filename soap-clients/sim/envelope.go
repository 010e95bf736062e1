package sim

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"strings"
)

const (
	nsSOAP11  = "http://schemas.xmlsoap.org/soap/envelope/"
	nsSOAP12  = "http://www.w3.org/2003/05/soap-envelope"
	actorNext = "http://schemas.xmlsoap.org/soap/actor/next"
)

// Bounds on a request's shape, on top of the byte limit: the deepest
// legitimate request is three levels below Body, so these only stop abuse.
const (
	maxDepth    = 32
	maxElements = 4096
)

// element is one element of a request body, kept as a small tree so that
// operations read their fields by local name whatever prefixes, namespace
// declarations and whitespace the sender's SOAP stack chose.
type element struct {
	name     xml.Name
	text     string
	children []*element
}

// child returns the first child with the given local name, or nil.
func (e *element) child(local string) *element {
	for _, c := range e.children {
		if c.name.Local == local {
			return c
		}
	}
	return nil
}

// value returns the trimmed text of the named child and whether it is present.
func (e *element) value(local string) (string, bool) {
	c := e.child(local)
	if c == nil {
		return "", false
	}
	return strings.TrimSpace(c.text), true
}

// parseEnvelope reads a SOAP 1.1 request and returns the single element of its
// Body. Every error is a *soapFault ready to be sent back.
func parseEnvelope(data []byte) (*element, error) {
	// Some stacks start UTF-8 with a byte order mark; encoding/xml does not
	// expect one.
	data = bytes.TrimPrefix(data, []byte("\xEF\xBB\xBF"))
	d := xml.NewDecoder(bytes.NewReader(data))
	root, err := prologue(d)
	if err != nil {
		return nil, err
	}
	if root.Name.Local != "Envelope" || root.Name.Space != nsSOAP11 {
		if root.Name.Local == "Envelope" && root.Name.Space == nsSOAP12 {
			return nil, versionMismatch("SOAP 1.2 envelopes are not supported: this service speaks SOAP 1.1")
		}
		return nil, versionMismatch("the root element must be the SOAP 1.1 Envelope")
	}
	var op *element
	seenHeader, seenBody := false, false
	for {
		tok, err := d.Token()
		if err != nil {
			return nil, malformed(err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch {
			case t.Name.Space == nsSOAP11 && t.Name.Local == "Header" && !seenHeader && !seenBody:
				seenHeader = true
				if err := checkHeader(d); err != nil {
					return nil, err
				}
			case t.Name.Space == nsSOAP11 && t.Name.Local == "Body" && !seenBody:
				seenBody = true
				if op, err = readBody(d); err != nil {
					return nil, err
				}
			case seenBody:
				// SOAP 1.1 allows further namespace-qualified elements after
				// Body; none of them means anything here.
				if err := d.Skip(); err != nil {
					return nil, malformed(err)
				}
			default:
				return nil, clientFault("unexpected element " + t.Name.Local + " in Envelope")
			}
		case xml.CharData:
			if len(bytes.TrimSpace(t)) != 0 {
				return nil, clientFault("unexpected text in Envelope")
			}
		case xml.EndElement:
			if !seenBody {
				return nil, clientFault("the Envelope has no Body")
			}
			if err := epilogue(d); err != nil {
				return nil, err
			}
			return op, nil
		}
	}
}

// prologue skips the XML declaration, comments and whitespace before the root
// element. SOAP 1.1 forbids a document type declaration.
func prologue(d *xml.Decoder) (xml.StartElement, error) {
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			return xml.StartElement{}, clientFault("the request has no SOAP envelope")
		}
		if err != nil {
			return xml.StartElement{}, malformed(err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			return t, nil
		case xml.Directive:
			return xml.StartElement{}, clientFault("a SOAP message must not contain a document type declaration")
		case xml.CharData:
			if len(bytes.TrimSpace(t)) != 0 {
				return xml.StartElement{}, clientFault("unexpected text before the Envelope")
			}
		}
	}
}

// epilogue allows only whitespace, comments and processing instructions after
// the Envelope.
func epilogue(d *xml.Decoder) error {
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return malformed(err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			return clientFault("unexpected element after the Envelope")
		case xml.CharData:
			if len(bytes.TrimSpace(t)) != 0 {
				return clientFault("unexpected text after the Envelope")
			}
		case xml.Directive:
			return clientFault("a SOAP message must not contain a document type declaration")
		}
	}
}

// checkHeader reads the Header entries: the sim implements no header, so an
// entry addressed to it (no actor, or the "next" actor) that must be
// understood is a MustUnderstand fault, and every other entry is ignored.
func checkHeader(d *xml.Decoder) error {
	for {
		tok, err := d.Token()
		if err != nil {
			return malformed(err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			mustUnderstand, actor := false, ""
			for _, a := range t.Attr {
				if a.Name.Space != nsSOAP11 {
					continue
				}
				switch a.Name.Local {
				case "mustUnderstand":
					v := strings.TrimSpace(a.Value)
					mustUnderstand = v == "1" || v == "true"
				case "actor":
					actor = strings.TrimSpace(a.Value)
				}
			}
			if mustUnderstand && (actor == "" || actor == actorNext) {
				return &soapFault{code: codeMustUnderstand, message: "header " + t.Name.Local + " in " + t.Name.Space + " is not understood"}
			}
			if err := d.Skip(); err != nil {
				return malformed(err)
			}
		case xml.EndElement:
			return nil
		}
	}
}

// readBody returns the one element of the Body (document/literal wrapped).
func readBody(d *xml.Decoder) (*element, error) {
	var op *element
	count := 0
	for {
		tok, err := d.Token()
		if err != nil {
			return nil, malformed(err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if op != nil {
				return nil, clientFault("the Body must hold exactly one element")
			}
			if op, err = readElement(d, t, 1, &count); err != nil {
				return nil, err
			}
		case xml.CharData:
			if len(bytes.TrimSpace(t)) != 0 {
				return nil, clientFault("unexpected text in Body")
			}
		case xml.EndElement:
			if op == nil {
				return nil, clientFault("the Body is empty")
			}
			return op, nil
		}
	}
}

func readElement(d *xml.Decoder, start xml.StartElement, depth int, count *int) (*element, error) {
	*count++
	if *count > maxElements {
		return nil, clientFault("the request has too many elements")
	}
	if depth > maxDepth {
		return nil, clientFault("the request is nested too deeply")
	}
	el := &element{name: start.Name}
	var text strings.Builder
	for {
		tok, err := d.Token()
		if err != nil {
			return nil, malformed(err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			c, err := readElement(d, t, depth+1, count)
			if err != nil {
				return nil, err
			}
			el.children = append(el.children, c)
		case xml.CharData:
			text.Write(t)
		case xml.EndElement:
			el.text = text.String()
			return el, nil
		}
	}
}

func malformed(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return clientFault("malformed XML: unexpected end of request")
	}
	var se *xml.SyntaxError
	if errors.As(err, &se) {
		return clientFault("malformed XML: " + se.Msg)
	}
	return clientFault("malformed XML: " + err.Error())
}
