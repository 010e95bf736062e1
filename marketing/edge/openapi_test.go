package edge

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"gopkg.in/yaml.v3"
)

const specPath = "../../docs/api/merchant.yaml"

type apiDoc struct {
	OpenAPI    string                          `yaml:"openapi"`
	Paths      map[string]map[string]operation `yaml:"paths"`
	Components struct {
		Schemas         map[string]*schema   `yaml:"schemas"`
		Responses       map[string]response  `yaml:"responses"`
		Parameters      map[string]parameter `yaml:"parameters"`
		Headers         map[string]any       `yaml:"headers"`
		SecuritySchemes map[string]any       `yaml:"securitySchemes"`
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
	Headers map[string]any       `yaml:"headers"`
	Content map[string]mediaType `yaml:"content"`
}

type mediaType struct {
	Schema *schema `yaml:"schema"`
}

type schema struct {
	Ref        string             `yaml:"$ref"`
	Type       string             `yaml:"type"`
	Required   []string           `yaml:"required"`
	Properties map[string]*schema `yaml:"properties"`
	Items      *schema            `yaml:"items"`
	Enum       []string           `yaml:"enum"`
}

func loadSpec(t testing.TB) *apiDoc {
	doc, err := readSpec()
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func readSpec() (*apiDoc, error) {
	b, err := os.ReadFile(specPath)
	if err != nil {
		return nil, err
	}
	var doc apiDoc
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("parse %s: %w", specPath, err)
	}
	return &doc, nil
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

// TestOpenAPIMatchesRoutes: the document describes exactly the routes the
// server registers, every reference resolves, and every error answer has the
// Error schema, whose code enum is exactly the codes the package declares.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	doc := loadSpec(t)
	if doc.OpenAPI != "3.0.3" {
		t.Fatalf("openapi %q", doc.OpenAPI)
	}
	h := newHarness(t, options{noMarketing: true})

	var registered, documented []string
	for _, r := range h.edge.h.Routes() {
		var segs []string
		for _, s := range strings.Split(r.Path, "/") {
			if p, ok := strings.CutPrefix(s, ":"); ok {
				s = "{" + p + "}"
			}
			segs = append(segs, s)
		}
		registered = append(registered, r.Method+" "+strings.Join(segs, "/"))
	}
	for path, item := range doc.Paths {
		for method, op := range item {
			documented = append(documented, strings.ToUpper(method)+" "+path)
			if _, ok := op.Responses["200"]; !ok {
				t.Errorf("%s %s: no 200 response", method, path)
			}
			for status, r := range op.Responses {
				res, err := doc.response(r)
				if err != nil {
					t.Errorf("%s %s %s: %v", method, path, status, err)
					continue
				}
				if status == "200" {
					continue
				}
				s, err := doc.schema(res.Content["application/json"].Schema)
				if err != nil || s != doc.Components.Schemas["Error"] {
					t.Errorf("%s %s %s: error answers must use the Error schema (%v)", method, path, status, err)
				}
			}
			for _, p := range op.Parameters {
				if name, ok := strings.CutPrefix(p.Ref, "#/components/parameters/"); ok {
					if _, found := doc.Components.Parameters[name]; !found {
						t.Errorf("%s %s: unresolved parameter %s", method, path, p.Ref)
					}
				}
			}
			public := op.Security != nil && len(op.Security) == 0
			if public != (path == "/healthz" || path == "/v1/login") {
				t.Errorf("%s %s: only /healthz and /v1/login may be public (security: %v)", method, path, op.Security)
			}
		}
	}
	sort.Strings(registered)
	sort.Strings(documented)
	if !slices.Equal(registered, documented) {
		t.Fatalf("routes differ:\nregistered %q\ndocumented %q", registered, documented)
	}

	codes := []string{CodeBadRequest, CodeUnauthenticated, CodeTokenExpired, CodeForbidden, CodeNotFound,
		CodeMethodNotAllowed, CodePayloadTooLarge, CodeIdempotencyKeyRequired, CodeIdempotencyInFlight,
		CodeIdempotencyKeyReused, CodeRateLimited, CodeNotOwner, CodeInsufficientCredits, CodeQuotaExceeded,
		CodeInvalidRequest, CodeUpstreamError, CodeUpstreamTimeout, CodeUpstreamUnavailable, CodeUnavailable, CodeInternal}
	enum := doc.Components.Schemas["Error"].Properties["code"].Enum
	sort.Strings(codes)
	sort.Strings(enum)
	if !slices.Equal(codes, enum) {
		t.Fatalf("Error.code enum %q, codes declared %q", enum, codes)
	}
}

// recorder keeps what the end-to-end tests saw: every status per request
// path, and one 200 body. TestMain checks it against the document once every
// test has run.
type recorder struct {
	mu       sync.Mutex
	statuses map[string]map[int]bool // "METHOD /v1/listings/Lm1001-01/refresh" -> statuses
	bodies   map[string][]byte       // same key -> a 200 body
}

var observed = &recorder{statuses: map[string]map[int]bool{}, bodies: map[string][]byte{}}

func (r *recorder) record(method, path string, status int, body []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	key := method + " " + path
	if r.statuses[key] == nil {
		r.statuses[key] = map[int]bool{}
	}
	r.statuses[key][status] = true
	if status == 200 && r.bodies[key] == nil {
		r.bodies[key] = body
	}
}

// routeOf maps a request path to the documented path it matches.
func (d *apiDoc) routeOf(path string) (string, bool) {
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
	doc, err := readSpec()
	if err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	var errs []error
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
		}
		if body := r.bodies[key]; body != nil {
			res, err := doc.response(op.Responses["200"])
			if err == nil {
				var v any
				if err = json.Unmarshal(body, &v); err == nil {
					err = doc.conforms(res.Content["application/json"].Schema, v, "$")
				}
			}
			if err != nil {
				errs = append(errs, fmt.Errorf("%s %s: 200 body %s: %w", method, path, body, err))
			}
		}
	}
	if f := flag.Lookup("test.run"); f != nil && f.Value.String() == "" {
		// The whole suite ran: every documented operation must have been
		// exercised end to end at least once with success.
		ok200 := map[string]bool{}
		for key, statuses := range r.statuses {
			method, raw, _ := strings.Cut(key, " ")
			if path, ok := doc.routeOf(raw); ok && statuses[200] {
				ok200[strings.ToLower(method)+" "+path] = true
			}
		}
		for path, item := range doc.Paths {
			for method := range item {
				if !ok200[method+" "+path] {
					errs = append(errs, fmt.Errorf("%s %s: no test saw it succeed", strings.ToUpper(method), path))
				}
			}
		}
	}
	return errors.Join(errs...)
}

// conforms checks that v has every property s requires, recursively
// through objects and arrays, and the JSON type s declares.
func (d *apiDoc) conforms(s *schema, v any, at string) error {
	s, err := d.schema(s)
	if err != nil || s == nil {
		return err
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
		if _, ok := v.(string); !ok {
			return fmt.Errorf("%s: not a string", at)
		}
	case "integer":
		if f, ok := v.(float64); !ok || f != float64(int64(f)) {
			return fmt.Errorf("%s: not an integer", at)
		}
	}
	return nil
}
