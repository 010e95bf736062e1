package openapitest

import (
	"fmt"
	"iter"
	"os"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// Version is the OpenAPI version both documents declare and the checks are written for.
const Version = "3.0.3"

// Document is the part of an OpenAPI 3 document the checks read. Read and Load build one;
// UnresolvedRefs needs the whole document they keep.
type Document struct {
	OpenAPI string `yaml:"openapi"`
	// Security is the default requirement of every operation that declares none.
	Security   []map[string][]string           `yaml:"security"`
	Paths      map[string]map[string]Operation `yaml:"paths"` // path -> lower-case method -> operation
	Components Components                      `yaml:"components"`

	raw map[string]any // the whole document, for following any $ref
}

// Components holds the named, reusable parts a $ref can point at.
type Components struct {
	Schemas         map[string]*Schema        `yaml:"schemas"`
	Responses       map[string]Response       `yaml:"responses"`
	Parameters      map[string]Parameter      `yaml:"parameters"`
	SecuritySchemes map[string]SecurityScheme `yaml:"securitySchemes"`
}

// Operation is one method on one path.
type Operation struct {
	Security   []map[string][]string `yaml:"security"`
	Parameters []Parameter           `yaml:"parameters"`
	Responses  map[string]Response   `yaml:"responses"` // status code -> response
}

// Open reports whether the operation overrides the document's security with an empty
// list, so it needs no credentials.
func (o Operation) Open() bool {
	return o.Security != nil && len(o.Security) == 0
}

// Parameter is an operation parameter, or a $ref to one in Components.Parameters.
type Parameter struct {
	Ref  string `yaml:"$ref"`
	Name string `yaml:"name"`
	In   string `yaml:"in"`
}

// Response is a documented answer, or a $ref to one in Components.Responses.
type Response struct {
	Ref     string               `yaml:"$ref"`
	Content map[string]MediaType `yaml:"content"` // media type -> body
}

// MediaType is the body of a response in one media type.
type MediaType struct {
	Schema *Schema `yaml:"schema"`
}

// SecurityScheme is one way of authenticating.
type SecurityScheme struct {
	Type   string `yaml:"type"`
	Scheme string `yaml:"scheme"`
	In     string `yaml:"in"`
	Name   string `yaml:"name"`
}

// Schema is the part of a JSON schema Conforms checks, or a $ref to one in
// Components.Schemas.
type Schema struct {
	Ref        string             `yaml:"$ref"`
	Type       string             `yaml:"type"`
	Required   []string           `yaml:"required"`
	Properties map[string]*Schema `yaml:"properties"`
	Items      *Schema            `yaml:"items"`
	AllOf      []*Schema          `yaml:"allOf"`
	Enum       []string           `yaml:"enum"`
}

// Read reads and parses the document at path.
func Read(path string) (*Document, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var d Document
	if err := yaml.Unmarshal(b, &d); err != nil {
		return nil, fmt.Errorf("parse %s: %w", path, err)
	}
	if err := yaml.Unmarshal(b, &d.raw); err != nil {
		return nil, fmt.Errorf("parse %s: %w", path, err)
	}
	return &d, nil
}

// Load reads the document at path for a test, failing t if it cannot be read, does not
// declare OpenAPI Version, or holds a $ref that names nothing in it.
func Load(t testing.TB, path string) *Document {
	t.Helper()
	d, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	if d.OpenAPI != Version {
		t.Fatalf("%s: openapi %q, want %q", path, d.OpenAPI, Version)
	}
	for _, ref := range d.UnresolvedRefs() {
		t.Errorf("%s: unresolved $ref %s", path, ref)
	}
	return d
}

// Operations yields every operation as its route ("GET /v1/things/{id}") in route order.
func (d *Document) Operations() iter.Seq2[string, Operation] {
	return func(yield func(string, Operation) bool) {
		for _, route := range d.Routes() {
			method, path, _ := strings.Cut(route, " ")
			if !yield(route, d.Paths[path][strings.ToLower(method)]) {
				return
			}
		}
	}
}

// Routes lists every documented operation as its route ("GET /v1/things/{id}"), sorted.
func (d *Document) Routes() []string {
	var routes []string
	for path, item := range d.Paths {
		for method := range item {
			routes = append(routes, strings.ToUpper(method)+" "+path)
		}
	}
	slices.Sort(routes)
	return routes
}
