package admin

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"gopkg.in/yaml.v3"
)

// The document checks follow marketing/edge/openapi_test.go: the routes registered and
// documented are the same, and every status and content type the tests observe is
// documented, with JSON bodies holding what the document requires.

const specPath = "../../docs/api/admin.yaml"

type apiDoc struct {
	OpenAPI    string                          `yaml:"openapi"`
	Security   []map[string][]string           `yaml:"security"`
	Paths      map[string]map[string]operation `yaml:"paths"`
	Components struct {
		Schemas         map[string]*schema        `yaml:"schemas"`
		Responses       map[string]response       `yaml:"responses"`
		Parameters      map[string]parameter      `yaml:"parameters"`
		SecuritySchemes map[string]securityScheme `yaml:"securitySchemes"`
	} `yaml:"components"`
}

type operation struct {
	Security   []map[string][]string `yaml:"security"`
	Parameters []parameter           `yaml:"parameters"`
	Responses  map[string]response   `yaml:"responses"`
}

type parameter struct {
	Ref  string `yaml:"$ref"`
	Name string `yaml:"name"`
	In   string `yaml:"in"`
}

type response struct {
	Ref     string               `yaml:"$ref"`
	Content map[string]mediaType `yaml:"content"`
}

type mediaType struct {
	Schema *schema `yaml:"schema"`
}

type securityScheme struct {
	Type   string `yaml:"type"`
	Scheme string `yaml:"scheme"`
	In     string `yaml:"in"`
	Name   string `yaml:"name"`
}

type schema struct {
	Ref        string             `yaml:"$ref"`
	Type       string             `yaml:"type"`
	Required   []string           `yaml:"required"`
	Properties map[string]*schema `yaml:"properties"`
	Items      *schema            `yaml:"items"`
	AllOf      []*schema          `yaml:"allOf"`
	Enum       []string           `yaml:"enum"`
}

func readSpec() (*apiDoc, []byte, error) {
	b, err := os.ReadFile(specPath)
	if err != nil {
		return nil, nil, err
	}
	var doc apiDoc
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, nil, fmt.Errorf("parse %s: %w", specPath, err)
	}
	return &doc, b, nil
}

func (d *apiDoc) response(r response) (response, error) {
	if r.Ref == "" {
		return r, nil
	}
	name, ok := strings.CutPrefix(r.Ref, "#/components/responses/")
	res, found := d.Components.Responses[name]
	if !ok || !found {
		return r, fmt.Errorf("unresolved response %s", r.Ref)
	}
	return res, nil
}

func (d *apiDoc) parameter(p parameter) (parameter, error) {
	if p.Ref == "" {
		return p, nil
	}
	name, ok := strings.CutPrefix(p.Ref, "#/components/parameters/")
	res, found := d.Components.Parameters[name]
	if !ok || !found {
		return p, fmt.Errorf("unresolved parameter %s", p.Ref)
	}
	return res, nil
}

func (d *apiDoc) schema(s *schema) (*schema, error) {
	for s != nil && s.Ref != "" {
		name, ok := strings.CutPrefix(s.Ref, "#/components/schemas/")
		next, found := d.Components.Schemas[name]
		if !ok || !found {
			return nil, fmt.Errorf("unresolved schema %s", s.Ref)
		}
		s = next
	}
	return s, nil
}

// refs lists every $ref in the document.
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
		if node, ok = m[seg]; !ok {
			return false
		}
	}
	return true
}

// TestOpenAPIMatchesRoutes: the document describes exactly the routes the server
// registers, every reference resolves, every JSON error has the Error schema, the open
// routes are exactly the documented public ones, and both trace lists take the same
// filters.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	doc, b, err := readSpec()
	if err != nil {
		t.Fatal(err)
	}
	if doc.OpenAPI != "3.0.3" {
		t.Fatalf("openapi %q", doc.OpenAPI)
	}
	var raw map[string]any
	if err := yaml.Unmarshal(b, &raw); err != nil {
		t.Fatal(err)
	}
	var all []string
	refs(raw, &all)
	for _, ref := range all {
		if !resolves(raw, ref) {
			t.Errorf("unresolved $ref %s", ref)
		}
	}

	s, _ := start(t)
	var registered, documented []string
	for _, r := range s.h.Routes() {
		var segs []string
		for _, seg := range strings.Split(r.Path, "/") {
			if p, ok := strings.CutPrefix(seg, ":"); ok {
				seg = "{" + p + "}"
			}
			segs = append(segs, seg)
		}
		registered = append(registered, r.Method+" "+strings.Join(segs, "/"))
	}
	public := map[string]bool{"GET /healthz": true, "GET /metrics": true, "GET /admin/login": true,
		"POST /admin/login": true, "POST /admin/logout": true}
	filters := map[string][]string{}
	for path, item := range doc.Paths {
		for method, op := range item {
			route := strings.ToUpper(method) + " " + path
			documented = append(documented, route)
			succeeds := false
			for status, r := range op.Responses {
				res, err := doc.response(r)
				if err != nil {
					t.Errorf("%s %s: %v", route, status, err)
					continue
				}
				code, _ := strconv.Atoi(status)
				succeeds = succeeds || code < 400
				if js, ok := res.Content["application/json"]; ok && code >= 400 {
					if sc, err := doc.schema(js.Schema); err != nil || sc != doc.Components.Schemas["Error"] {
						t.Errorf("%s %s: JSON errors must use the Error schema (%v)", route, status, err)
					}
				}
			}
			if !succeeds {
				t.Errorf("%s: no success response", route)
			}
			for _, p := range op.Parameters {
				p, err := doc.parameter(p)
				if err != nil {
					t.Errorf("%s: %v", route, err)
				}
				if p.In == "query" {
					filters[route] = append(filters[route], p.Name)
				}
			}
			if open := op.Security != nil && len(op.Security) == 0; open != public[route] {
				t.Errorf("%s: public %v, want %v (security: %v)", route, open, public[route], op.Security)
			}
		}
	}
	sort.Strings(registered)
	sort.Strings(documented)
	if !slices.Equal(registered, documented) {
		t.Fatalf("routes differ:\nregistered %q\ndocumented %q", registered, documented)
	}
	want := []string{"service", "operation", "min_duration", "error", "user", "limit"}
	for _, route := range []string{"GET /admin/v1/traces", "GET /admin/traces"} {
		if !slices.Equal(filters[route], want) {
			t.Errorf("%s: query parameters %q, want %q", route, filters[route], want)
		}
	}

	cookie := doc.Components.SecuritySchemes["sessionCookie"]
	bearer := doc.Components.SecuritySchemes["bearerAuth"]
	if cookie.Type != "apiKey" || cookie.In != "cookie" || cookie.Name != SessionCookie || bearer.Scheme != "bearer" {
		t.Errorf("security schemes: cookie %+v, bearer %+v", cookie, bearer)
	}
}

// recorder keeps what the tests saw: every status and content type per request path,
// and one body per status. TestMain checks it against the document once every test has run.
type recorder struct {
	mu       sync.Mutex
	statuses map[string]map[int]bool   // "METHOD /admin/traces/0af7…" -> statuses
	types    map[string]map[string]int // same key -> media type -> a status it came with
	bodies   map[string]map[int][]byte // same key -> status -> a body
}

var observed = &recorder{statuses: map[string]map[int]bool{}, types: map[string]map[string]int{},
	bodies: map[string]map[int][]byte{}}

func (r *recorder) record(method, path string, status int, contentType string, body []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	key := method + " " + path
	if r.statuses[key] == nil {
		r.statuses[key] = map[int]bool{}
		r.types[key] = map[string]int{}
		r.bodies[key] = map[int][]byte{}
	}
	r.statuses[key][status] = true
	if mt, _, err := mime.ParseMediaType(contentType); err == nil && len(body) > 0 {
		r.types[key][mt] = status
	}
	if r.bodies[key][status] == nil {
		r.bodies[key][status] = body
	}
}

// recording is a transport that records every answer in observed.
type recording struct{ base http.RoundTripper }

func (rt recording) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := rt.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(b))
	observed.record(req.Method, req.URL.Path, resp.StatusCode, resp.Header.Get("Content-Type"), b)
	return resp, nil
}

// routeOf maps a request path to the documented path it matches.
func (d *apiDoc) routeOf(path string) (string, bool) {
	if _, ok := d.Paths[path]; ok {
		return path, true
	}
	segs := strings.Split(path, "/")
	for pattern := range d.Paths {
		ps := strings.Split(pattern, "/")
		if len(ps) != len(segs) {
			continue
		}
		match := true
		for i := range ps {
			if !strings.HasPrefix(ps[i], "{") && ps[i] != segs[i] {
				match = false
				break
			}
		}
		if match {
			return pattern, true
		}
	}
	return "", false
}

func (r *recorder) check() error {
	doc, _, err := readSpec()
	if err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	var errs []error
	succeeded := map[string]bool{}
	for key, statuses := range r.statuses {
		method, raw, _ := strings.Cut(key, " ")
		path, ok := doc.routeOf(raw)
		op, found := doc.Paths[path][strings.ToLower(method)]
		if !ok || !found {
			continue // an unknown route or method: 404 and 405 are not operations
		}
		for status := range statuses {
			if _, ok := op.Responses[strconv.Itoa(status)]; !ok {
				errs = append(errs, fmt.Errorf("%s %s (%s): status %d observed, not documented", method, path, raw, status))
			}
			if status < 400 {
				succeeded[method+" "+path] = true
			}
		}
		for mt, status := range r.types[key] {
			res, err := doc.response(op.Responses[strconv.Itoa(status)])
			if _, ok := res.Content[mt]; err == nil && !ok {
				errs = append(errs, fmt.Errorf("%s %s %d: content type %s observed, not documented", method, path, status, mt))
			}
		}
		for status, body := range r.bodies[key] {
			res, err := doc.response(op.Responses[strconv.Itoa(status)])
			if js, ok := res.Content["application/json"]; err == nil && ok {
				var v any
				if err = json.Unmarshal(body, &v); err == nil {
					err = doc.conforms(js.Schema, v, "$")
				}
			}
			if err != nil {
				errs = append(errs, fmt.Errorf("%s %s: %d body %s: %w", method, path, status, body, err))
			}
		}
	}
	if f := flag.Lookup("test.run"); f != nil && f.Value.String() == "" {
		// The whole suite ran: every documented operation must have been seen succeeding.
		for path, item := range doc.Paths {
			for method := range item {
				if route := strings.ToUpper(method) + " " + path; !succeeded[route] {
					errs = append(errs, fmt.Errorf("%s: no test saw it succeed", route))
				}
			}
		}
	}
	return errors.Join(errs...)
}

// conforms checks that v has every property s requires, recursively through objects,
// arrays and allOf, the JSON type s declares and, for strings, its enum.
func (d *apiDoc) conforms(s *schema, v any, at string) error {
	s, err := d.schema(s)
	if err != nil || s == nil {
		return err
	}
	for _, sub := range s.AllOf {
		if err := d.conforms(sub, v, at); err != nil {
			return err
		}
	}
	switch s.Type {
	case "object":
		obj, ok := v.(map[string]any)
		if !ok {
			return fmt.Errorf("%s: not an object", at)
		}
		for _, p := range s.Required {
			if _, ok := obj[p]; !ok {
				return fmt.Errorf("%s: required property %q missing", at, p)
			}
		}
		for name, ps := range s.Properties {
			if pv, ok := obj[name]; ok {
				if err := d.conforms(ps, pv, at+"."+name); err != nil {
					return err
				}
			}
		}
	case "array":
		arr, ok := v.([]any)
		if !ok {
			return fmt.Errorf("%s: not an array", at)
		}
		for i, e := range arr {
			if err := d.conforms(s.Items, e, at+"["+strconv.Itoa(i)+"]"); err != nil {
				return err
			}
		}
	case "string":
		str, ok := v.(string)
		if !ok {
			return fmt.Errorf("%s: not a string", at)
		}
		if len(s.Enum) > 0 && !slices.Contains(s.Enum, str) {
			return fmt.Errorf("%s: %q not in %q", at, str, s.Enum)
		}
	case "integer":
		if f, ok := v.(float64); !ok || f != float64(int64(f)) {
			return fmt.Errorf("%s: not an integer", at)
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			return fmt.Errorf("%s: not a boolean", at)
		}
	}
	return nil
}
