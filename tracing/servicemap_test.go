package tracing

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"testing"
	"time"
)

// mapStore holds three traces:
//
//	1 at 0 s   edge → logic (→ store, error; → logic), edge → logic (error)
//	2 at 1 s   edge → logic (error, exported twice), and a logic span whose parent is missing
//	3 at 10 s  gateway → logic
func mapStore() *Store {
	return storeWith(
		spec{trace: 1, span: 1, service: "edge", name: "POST /v1/listings", durMS: 100},
		spec{trace: 1, span: 2, parent: 1, service: "logic", name: "Send", startMS: 10, durMS: 50},
		spec{trace: 1, span: 3, parent: 2, service: "store", name: "Append", startMS: 20, durMS: 10, err: true},
		spec{trace: 1, span: 4, parent: 2, service: "logic", name: "logic.Send", startMS: 15, durMS: 30}, // same service
		spec{trace: 1, span: 5, parent: 1, service: "logic", name: "Sync", startMS: 70, durMS: 10, err: true},
		spec{trace: 2, span: 1, service: "edge", name: "POST /v1/listings", startMS: 1000, durMS: 100},
		spec{trace: 2, span: 2, parent: 1, service: "logic", name: "Send", startMS: 1010, durMS: 50, err: true},
		spec{trace: 2, span: 2, parent: 1, service: "logic", name: "Send", startMS: 1010, durMS: 50, err: true}, // retried export
		spec{trace: 2, span: 3, parent: 9, service: "logic", name: "push", startMS: 1020, durMS: 5},             // parent missing
		spec{trace: 3, span: 1, service: "gateway", name: "IM SEND", startMS: 10000, durMS: 20},
		spec{trace: 3, span: 2, parent: 1, service: "logic", name: "Send", startMS: 10005, durMS: 10},
	)
}

func TestServiceMap(t *testing.T) {
	s := mapStore()
	at := func(ms int) time.Time { return t0().Add(time.Duration(ms) * time.Millisecond) }
	edgeLogic := ServiceEdge{Caller: "edge", Callee: "logic", Calls: 3, Errors: 2, ErrorRate: 2.0 / 3}
	gatewayLogic := ServiceEdge{Caller: "gateway", Callee: "logic", Calls: 1}
	logicStore := ServiceEdge{Caller: "logic", Callee: "store", Calls: 1, Errors: 1, ErrorRate: 1}
	for _, tc := range []struct {
		name       string
		start, end time.Time
		want       ServiceMap
	}{
		{"all", time.Time{}, time.Time{}, ServiceMap{Edges: []ServiceEdge{edgeLogic, gatewayLogic, logicStore}, Traces: 3}},
		{"from 5 s", at(5000), time.Time{}, ServiceMap{Edges: []ServiceEdge{gatewayLogic}, Traces: 1}},
		{"until 5 s", time.Time{}, at(5000), ServiceMap{Edges: []ServiceEdge{edgeLogic, logicStore}, Traces: 2}},
		{"trace 2 only", at(1050), at(1060), ServiceMap{Edges: []ServiceEdge{{Caller: "edge", Callee: "logic", Calls: 1, Errors: 1, ErrorRate: 1}}, Traces: 1}},
		{"nothing", at(20000), time.Time{}, ServiceMap{Edges: []ServiceEdge{}, Traces: 0}},
	} {
		if got := s.ServiceMap(tc.start, tc.end); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: ServiceMap = %+v\nwant %+v", tc.name, got, tc.want)
		}
	}
}

func TestServiceMapAPI(t *testing.T) {
	h := mapStore().Handler()
	var m ServiceMap
	getJSON(t, h, "/admin/v1/traces/map", http.StatusOK, &m)
	if len(m.Edges) != 3 || m.Edges[0] != (ServiceEdge{Caller: "edge", Callee: "logic", Calls: 3, Errors: 2, ErrorRate: 2.0 / 3}) {
		t.Errorf("map %+v", m)
	}
	start := strconv.FormatInt(t0().Add(5*time.Second).UnixMilli(), 10)
	getJSON(t, h, "/admin/v1/traces/map?start="+start, http.StatusOK, &m)
	if len(m.Edges) != 1 || m.Edges[0].Caller != "gateway" || m.Traces != 1 {
		t.Errorf("map from 5 s: %+v", m)
	}
	getJSON(t, h, "/admin/v1/traces/map?end=2025-03-01T12:00:05Z", http.StatusOK, &m)
	if len(m.Edges) != 2 || m.Traces != 2 {
		t.Errorf("map until 5 s: %+v", m)
	}

	// An empty map is an empty list, not null.
	w := httptest.NewRecorder()
	NewStore(0).Handler().ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/admin/v1/traces/map", nil))
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(w.Body.Bytes(), &raw); err != nil || string(raw["edges"]) != "[]" || string(raw["traces"]) != "0" {
		t.Errorf("empty map: %s", w.Body)
	}
}
