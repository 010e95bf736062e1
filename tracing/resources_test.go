package tracing

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
)

// A stored trace names the process each span came from: its resource once per trace in
// resources, each span pointing at its own, and the waterfall shows it under the span.
func TestTraceShowsResources(t *testing.T) {
	tr := setup(t, Config{})
	ctx, root := tr.Provider("edge").Tracer("test").Start(context.Background(), "POST /v1/listings/:id/refresh")
	_, child := tr.Provider("logic").Tracer("test").Start(ctx, "logic.call")
	_, sibling := tr.Provider("edge").Tracer("test").Start(ctx, "soap call")
	sibling.End()
	child.End()
	root.End()
	got, ok := tr.Store().Get(root.SpanContext().TraceID())
	if !ok {
		t.Fatal("trace not stored")
	}
	if len(got.Resources) != 2 {
		t.Fatalf("resources %v, want the edge's and logic's", got.Resources)
	}
	byName := map[string]*Node{}
	var walk func([]*Node)
	walk = func(ns []*Node) {
		for _, n := range ns {
			byName[n.Name] = n
			walk(n.Children)
		}
	}
	walk(got.Spans)
	edge, logic, soap := byName["POST /v1/listings/:id/refresh"], byName["logic.call"], byName["soap call"]
	if edge.Resource == "" || edge.Resource != soap.Resource || edge.Resource == logic.Resource {
		t.Errorf("resource keys: edge %q, soap %q, logic %q; want the edge's spans to share one, logic its own", edge.Resource, soap.Resource, logic.Resource)
	}
	for n, want := range map[*Node]string{edge: "edge", logic: "logic"} {
		res := got.Resources[n.Resource]
		if res["service.name"] != want || res["service.version"] == nil || res["process.pid"] == nil {
			t.Errorf("%s's resource: %v", n.Name, res)
		}
	}
	b, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"resources":{"r1":`) || !strings.Contains(string(b), `"resource":"r1"`) {
		t.Errorf("the JSON does not carry the resources: %.400s", b)
	}

	w := httptest.NewRecorder()
	tr.Store().PageHandler().ServeHTTP(w, httptest.NewRequest("GET", "/admin/traces/"+root.SpanContext().TraceID().String(), nil))
	if body := w.Body.String(); !strings.Contains(body, "resource attributes)</summary>") || !strings.Contains(body, "<td>service.version</td>") {
		t.Errorf("the waterfall does not show the processes:\n%.3000s", body)
	}
}
