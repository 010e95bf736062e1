package openapitest

import (
	"fmt"
	"slices"
	"strings"
)

// Response resolves r if it is a $ref to a named response.
func (d *Document) Response(r Response) (Response, error) {
	if r.Ref == "" {
		return r, nil
	}
	return component("responses", r.Ref, d.Components.Responses)
}

// Parameter resolves p if it is a $ref to a named parameter.
func (d *Document) Parameter(p Parameter) (Parameter, error) {
	if p.Ref == "" {
		return p, nil
	}
	return component("parameters", p.Ref, d.Components.Parameters)
}

// Schema follows s through $refs to named schemas until it reaches one that is not a
// reference. A nil s resolves to nil.
func (d *Document) Schema(s *Schema) (*Schema, error) {
	for hops := 0; s != nil && s.Ref != ""; hops++ {
		if hops > len(d.Components.Schemas) {
			return nil, fmt.Errorf("schema %s refers to itself", s.Ref)
		}
		next, err := component("schemas", s.Ref, d.Components.Schemas)
		if err != nil {
			return nil, err
		}
		s = next
	}
	return s, nil
}

// component looks ref up among the components of one kind ("schemas"), which ref must
// name by "#/components/<kind>/<name>".
func component[T any](kind, ref string, named map[string]T) (T, error) {
	name, ok := strings.CutPrefix(ref, "#/components/"+kind+"/")
	v, found := named[name]
	if !ok || !found {
		return v, fmt.Errorf("unresolved %s %s", strings.TrimSuffix(kind, "s"), ref)
	}
	return v, nil
}

// Body resolves r and returns the schema it documents for mediaType, resolved, and
// whether r documents mediaType at all.
func (d *Document) Body(r Response, mediaType string) (*Schema, bool, error) {
	res, err := d.Response(r)
	if err != nil {
		return nil, false, err
	}
	mt, ok := res.Content[mediaType]
	if !ok {
		return nil, false, nil
	}
	s, err := d.Schema(mt.Schema)
	return s, true, err
}

// UnresolvedRefs lists, sorted, every local $ref anywhere in the document that names no
// node of it, and every $ref that is not local.
func (d *Document) UnresolvedRefs() []string {
	var all, bad []string
	refs(d.raw, &all)
	for _, ref := range all {
		if !resolves(d.raw, ref) {
			bad = append(bad, ref)
		}
	}
	slices.Sort(bad)
	return slices.Compact(bad)
}

// refs appends every $ref under node to out.
func refs(node any, out *[]string) {
	switch n := node.(type) {
	case map[string]any:
		for k, v := range n {
			if s, ok := v.(string); ok && k == "$ref" {
				*out = append(*out, s)
			}
			refs(v, out)
		}
	case []any:
		for _, v := range n {
			refs(v, out)
		}
	}
}

// pointerToken undoes a JSON pointer segment's escapes ("~1" for "/", "~0" for "~").
var pointerToken = strings.NewReplacer("~1", "/", "~0", "~")

// resolves reports whether a local reference names a node of the document.
func resolves(raw map[string]any, ref string) bool {
	p, ok := strings.CutPrefix(ref, "#/")
	if !ok {
		return false
	}
	var node any = raw
	for _, seg := range strings.Split(p, "/") {
		m, ok := node.(map[string]any)
		if !ok {
			return false
		}
		if node, ok = m[pointerToken.Replace(seg)]; !ok {
			return false
		}
	}
	return true
}
