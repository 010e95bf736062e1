package admin

import (
	"net/http"
	"slices"
	"strconv"
	"testing"

	"github.com/bangbang-im/bangbang/marketing/internal/openapitest"
)

// The document checks are marketing/edge's, through marketing/internal/openapitest: the
// routes registered and documented are the same, and every status and content type the
// tests observe is documented, with JSON bodies holding what the document requires.

const specPath = "../../docs/api/admin.yaml"

// TestOpenAPIMatchesRoutes: the document describes exactly the routes the server
// registers, every reference resolves, every JSON error has the Error schema, the open
// routes are exactly the documented public ones, and both trace lists take the same
// filters.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	doc := openapitest.Load(t, specPath)
	s := newHarness(t, sqliteStore(t)).s
	var registered []string
	for _, r := range s.h.Routes() {
		registered = append(registered, openapitest.Route(r.Method, r.Path))
	}
	public := map[string]bool{"GET /healthz": true, "GET /readyz": true, "GET /metrics": true, "GET /admin/login": true,
		"POST /admin/login": true, "POST /admin/logout": true}
	filters := map[string][]string{}
	for route, op := range doc.Operations() {
		succeeds := false
		for status, r := range op.Responses {
			code, _ := strconv.Atoi(status)
			succeeds = succeeds || code < 400
			sc, isJSON, err := doc.Body(r, "application/json")
			if err != nil {
				t.Errorf("%s %s: %v", route, status, err)
			} else if isJSON && code >= 400 && sc != doc.Components.Schemas["Error"] {
				t.Errorf("%s %s: JSON errors must use the Error schema", route, status)
			}
		}
		if !succeeds {
			t.Errorf("%s: no success response", route)
		}
		for _, p := range op.Parameters {
			p, err := doc.Parameter(p)
			if err != nil {
				t.Errorf("%s: %v", route, err)
			}
			if p.In == "query" {
				filters[route] = append(filters[route], p.Name)
			}
		}
		if op.Open() != public[route] {
			t.Errorf("%s: public %v, want %v (security: %v)", route, op.Open(), public[route], op.Security)
		}
	}
	if err := doc.MatchRoutes(registered); err != nil {
		t.Fatal(err)
	}
	want := []string{"service", "operation", "min_duration", "error", "user", "attr", "start", "end", "limit"}
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

// observed keeps every answer the tests' clients got; TestMain checks it against the
// document once every test has run.
var observed = openapitest.NewRecorder(specPath)

// recording is a transport that records every answer in observed.
type recording struct{ base http.RoundTripper }

func (rt recording) RoundTrip(req *http.Request) (*http.Response, error) {
	return observed.Transport(rt.base).RoundTrip(req)
}
