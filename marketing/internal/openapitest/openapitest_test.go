package openapitest

import (
	"encoding/json"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const fixture = "testdata/api.yaml"

func TestLoadResolvesReferences(t *testing.T) {
	d := Load(t, fixture)
	want := []string{"GET /healthz", "GET /v1/things/search", "GET /v1/things/{id}"}
	if got := d.Routes(); !slices.Equal(got, want) {
		t.Fatalf("routes %q, want %q", got, want)
	}
	for route, op := range d.Operations() {
		if op.Open() != (route == "GET /healthz") {
			t.Errorf("%s: open %v", route, op.Open())
		}
	}
	op := d.Paths["/v1/things/{id}"]["get"]
	if p, err := d.Parameter(op.Parameters[0]); err != nil || p.Name != "id" || p.In != "path" {
		t.Errorf("parameter %+v, %v", p, err)
	}
	s, isJSON, err := d.Body(op.Responses["404"], "application/json")
	if err != nil || !isJSON || s != d.Components.Schemas["Error"] {
		t.Errorf("404 body: %v %v %v", s, isJSON, err)
	}
	if _, err := d.Schema(&Schema{Ref: "#/components/schemas/Nothing"}); err == nil {
		t.Error("a reference to no schema resolved")
	}
}

func TestUnresolvedRefs(t *testing.T) {
	b, err := os.ReadFile(fixture)
	if err != nil {
		t.Fatal(err)
	}
	broken := strings.Replace(string(b), "#/components/responses/NotFound", "#/components/responses/Gone", 1)
	path := filepath.Join(t.TempDir(), "api.yaml")
	if err := os.WriteFile(path, []byte(broken), 0o600); err != nil {
		t.Fatal(err)
	}
	d, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := d.UnresolvedRefs(); !slices.Equal(got, []string{"#/components/responses/Gone"}) {
		t.Fatalf("unresolved %q", got)
	}
}

func TestRoutes(t *testing.T) {
	d := Load(t, fixture)
	for path, want := range map[string]string{
		"/v1/things/search": "/v1/things/search",
		"/v1/things/t1":     "/v1/things/{id}",
		"/healthz":          "/healthz",
	} {
		if got, ok := d.RouteOf(path); !ok || got != want {
			t.Errorf("RouteOf(%s) = %q, %v; want %q", path, got, ok, want)
		}
	}
	if got, ok := d.RouteOf("/v1/things/t1/parts"); ok {
		t.Errorf("RouteOf matched %q", got)
	}
	if got := Route("GET", "/v1/things/:id"); got != "GET /v1/things/{id}" {
		t.Errorf("Route = %q", got)
	}
	if err := d.MatchRoutes([]string{"GET /v1/things/{id}", "GET /healthz", "GET /v1/things/search"}); err != nil {
		t.Error(err)
	}
	err := d.MatchRoutes([]string{"GET /v1/things/{id}", "GET /healthz", "POST /v1/things"})
	if err == nil || !strings.Contains(err.Error(), `"POST /v1/things"`) || !strings.Contains(err.Error(), `"GET /v1/things/search"`) {
		t.Errorf("MatchRoutes: %v", err)
	}
}

func TestConforms(t *testing.T) {
	d := Load(t, fixture)
	thing := &Schema{Ref: "#/components/schemas/Thing"}
	for body, want := range map[string]string{
		`{"id":"t1","count":2,"ok":true,"extra":1}`: "",
		`{"id":"t1"}`:                      `$: required property "count" missing`,
		`{"id":"t1","count":2.5}`:          "$.count: not an integer",
		`{"id":"t1","count":2,"ok":"yes"}`: "$.ok: not a boolean",
		`[]`:                               "$: not an object",
	} {
		var v any
		if err := json.Unmarshal([]byte(body), &v); err != nil {
			t.Fatal(err)
		}
		err := d.Conforms(thing, v)
		if got := errString(err); got != want {
			t.Errorf("%s: %q, want %q", body, got, want)
		}
	}
	var v any
	_ = json.Unmarshal([]byte(`{"code":"gone"}`), &v)
	if err := d.Conforms(d.Components.Schemas["Error"], v); errString(err) != `$.code: "gone" not in ["not_found"]` {
		t.Errorf("enum: %v", err)
	}
}

func TestRecorderCheck(t *testing.T) {
	r := NewRecorder(fixture)
	r.Record("GET", "/healthz", 200, "text/plain; charset=utf-8", []byte("ok"))
	r.Record("GET", "/v1/things/t1", 200, "application/json", []byte(`{"id":"t1","count":1}`))
	r.Record("GET", "/v1/things/search", 200, "", []byte(`[{"id":"t1","count":1}]`))
	r.Record("GET", "/v1/things/t2", 404, "", []byte("no such thing")) // text/plain is documented too
	r.Record("GET", "/nowhere", 404, "text/plain", []byte("404 page not found"))
	if err := r.Check(); err != nil {
		t.Fatalf("clean record: %v", err)
	}

	r.Record("GET", "/v1/things/t3", 500, "application/json", []byte(`{"code":"internal"}`))
	r.Record("GET", "/healthz", 200, "application/json", []byte(`{}`))
	r.Record("DELETE", "/healthz", 405, "text/plain", []byte("405"))
	err := r.Check()
	for _, want := range []string{
		"GET /v1/things/{id} (/v1/things/t3): status 500 observed, not documented",
		"GET /healthz 200: content type application/json observed, not documented",
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("check: %v; want %q", err, want)
		}
	}

	r = NewRecorder(fixture)
	r.Record("GET", "/v1/things/search", 200, "", []byte(`[{"id":"t1"}]`))
	want := []string{`GET /v1/things/search: 200 body [{"id":"t1"}]: $[0]: required property "count" missing`}
	if flag.Lookup("test.run").Value.String() == "" {
		want = append(want, "GET /healthz: no test saw it succeed")
	}
	err = r.Check()
	for _, want := range want {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("check: %v; want %q", err, want)
		}
	}
}

func TestRecorderTransport(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"id":"t1"}`))
	}))
	defer srv.Close()
	r := NewRecorder(fixture)
	c := &http.Client{Transport: r.Transport(srv.Client().Transport)}
	resp, err := c.Get(srv.URL + "/v1/things/t1")
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || string(b) != `{"id":"t1"}` {
		t.Fatalf("body after recording %q, %v", b, err)
	}
	if err := r.Check(); err == nil || !strings.Contains(err.Error(), `required property "count" missing`) {
		t.Errorf("check: %v", err)
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
