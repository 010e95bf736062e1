package sim

import "encoding/xml"

// service is one line's SOAP contract: its namespace, its endpoint path and
// its operations by body element name.
type service struct {
	line     string // housing, recruitment, account
	name     string // the WSDL's service name, for spans
	ns       string
	path     string
	wsdlFile string
	ops      map[string]operation
	faults   faults
}

type operation struct {
	name   string
	action string // the binding's soapAction
	handle func(*element) (any, error)
}

func newService(line, name, ns string) *service {
	return &service{
		line:     line,
		name:     name,
		ns:       ns,
		path:     "/soap/" + line + "/v1",
		wsdlFile: line + ".wsdl",
		ops:      make(map[string]operation),
		faults:   faults{ns: ns},
	}
}

func (s *service) add(name string, h func(*element) (any, error)) {
	s.ops[name] = operation{name: name, action: s.ns + "/" + name, handle: h}
}

// lookup finds the operation of a request's body element. soapAction is the
// HTTP header with its quotes removed; empty means the sender did not say.
func (s *service) lookup(el *element, soapAction string) (operation, error) {
	op, ok := s.ops[el.name.Local]
	if !ok || el.name.Space != s.ns {
		return operation{}, clientFault("no operation " + qualified(el.name) + " in " + s.name)
	}
	if soapAction != "" && soapAction != op.action {
		return operation{}, clientFault("SOAPAction " + soapAction + " does not match the body element " + el.name.Local)
	}
	return op, nil
}

func qualified(n xml.Name) string {
	if n.Space == "" {
		return n.Local
	}
	return "{" + n.Space + "}" + n.Local
}

// owned checks that id (a listing or job post, by prefix and count per
// merchant) exists and belongs to merchant.
func owned(f faults, kind string, prefix byte, count int, merchant, id string) error {
	owner, ok := ownerOf(id, prefix, count)
	if !ok {
		return f.notFound(kind, id)
	}
	if owner != merchant {
		return f.notOwner(kind, id, merchant)
	}
	return nil
}
