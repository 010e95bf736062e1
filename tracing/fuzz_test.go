package tracing

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"
)

// FuzzIngest feeds arbitrary bytes to the OTLP ingest endpoint. Whatever arrives, the
// answer is 200 or 400, the store stays within its bound, and every trace it then holds
// reads back through the admin API as JSON. Seeds: testdata/fuzz/FuzzIngest and below.
func FuzzIngest(f *testing.F) {
	f.Add(validRequest(f))
	f.Add([]byte{})
	f.Add([]byte("\x0a\x05hello"))
	const bound = 16 << 10
	f.Fuzz(func(t *testing.T, body []byte) {
		store := NewStore(bound)
		w := post(t, store.IngestHandler(), contentTypeProtobuf, "", body)
		switch w.Code {
		case http.StatusOK:
			if err := proto.Unmarshal(w.Body.Bytes(), &coltracepb.ExportTraceServiceResponse{}); err != nil {
				t.Fatalf("response does not decode: %v", err)
			}
		case http.StatusBadRequest:
			return
		default:
			t.Fatalf("status %d: %s", w.Code, w.Body)
		}
		if st := store.Stats(); st.Bytes > bound {
			t.Fatalf("store holds %d bytes, over %d", st.Bytes, bound)
		}
		admin := store.Handler()
		for _, ts := range store.List(Query{Limit: MaxLimit}) {
			rw := httptest.NewRecorder()
			admin.ServeHTTP(rw, httptest.NewRequest(http.MethodGet, "/admin/v1/traces/"+ts.TraceID, nil))
			var tr Trace
			if rw.Code != http.StatusOK || json.Unmarshal(rw.Body.Bytes(), &tr) != nil {
				t.Fatalf("trace %s: status %d %s", ts.TraceID, rw.Code, rw.Body)
			}
			if n := countNodes(tr.Spans); n > ts.SpanCount {
				t.Fatalf("tree of %d nodes from %d spans", n, ts.SpanCount)
			}
		}
	})
}

func countNodes(ns []*Node) int {
	n := len(ns)
	for _, c := range ns {
		n += countNodes(c.Children)
	}
	return n
}
