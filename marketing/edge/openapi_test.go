package edge

import (
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/bangbang-im/bangbang/marketing/internal/openapitest"
)

const specPath = "../../docs/api/merchant.yaml"

// TestOpenAPIMatchesRoutes: the document describes exactly the routes the
// server registers, every reference resolves, and every error answer has the
// Error schema, whose code enum is exactly the codes the package declares.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	doc := openapitest.Load(t, specPath)
	h := newHarness(t, options{noMarketing: true})

	var registered []string
	for _, r := range h.edge.h.Routes() {
		registered = append(registered, openapitest.Route(r.Method, r.Path))
	}
	errSchema := doc.Components.Schemas["Error"]
	for route, op := range doc.Operations() {
		if _, ok := op.Responses["200"]; !ok {
			t.Errorf("%s: no 200 response", route)
		}
		for status, r := range op.Responses {
			s, _, err := doc.Body(r, "application/json")
			if err != nil {
				t.Errorf("%s %s: %v", route, status, err)
			} else if status != "200" && s != errSchema {
				t.Errorf("%s %s: error answers must use the Error schema", route, status)
			}
		}
		for _, p := range op.Parameters {
			if _, err := doc.Parameter(p); err != nil {
				t.Errorf("%s: %v", route, err)
			}
		}
		_, path, _ := strings.Cut(route, " ")
		if public := path == "/healthz" || path == "/readyz" || path == "/v1/login"; op.Open() != public {
			t.Errorf("%s: only /healthz, /readyz and /v1/login may be public (security: %v)", route, op.Security)
		}
	}
	if err := doc.MatchRoutes(registered); err != nil {
		t.Fatal(err)
	}

	codes := []string{CodeBadRequest, CodeUnauthenticated, CodeTokenExpired, CodeForbidden, CodeNotFound,
		CodeMethodNotAllowed, CodePayloadTooLarge, CodeIdempotencyKeyRequired, CodeIdempotencyInFlight,
		CodeIdempotencyKeyReused, CodeRateLimited, CodeNotOwner, CodeInsufficientCredits, CodeQuotaExceeded,
		CodeInvalidRequest, CodeUpstreamError, CodeUpstreamTimeout, CodeUpstreamUnavailable, CodeUnavailable, CodeInternal}
	enum := errSchema.Properties["code"].Enum
	sort.Strings(codes)
	sort.Strings(enum)
	if !slices.Equal(codes, enum) {
		t.Fatalf("Error.code enum %q, codes declared %q", enum, codes)
	}
}

// observed keeps every answer the end-to-end tests got; TestMain checks it
// against the document once every test has run.
var observed = recorder{openapitest.NewRecorder(specPath)}

// recorder records what the tests' requests got, media type included.
type recorder struct{ *openapitest.Recorder }

func (r recorder) record(method, path string, status int, contentType string, body []byte) {
	r.Record(method, path, status, contentType, body)
}
