package tracing

import (
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

// searchStore holds three traces:
//
//	1  0..300 ms     edge (version 1.2.0): http.route, status 500; logic (1.3.0): bangbang.im.error
//	2  400..420 ms   gateway (1.3.0): retry true, ratio 0.5
//	3  1000..1005 ms sim (no resource): a URL, colons in its value
func searchStore() *Store {
	v := func(version string) []attribute.KeyValue {
		return []attribute.KeyValue{semconv.ServiceVersionKey.String(version), semconv.ServiceNameKey.String("x")}
	}
	return storeWith(
		spec{trace: 1, span: 1, service: "edge", name: "POST /v1/listings", durMS: 300, resource: v("1.2.0"),
			attrs: []attribute.KeyValue{attribute.String("http.route", "/v1/listings"), attribute.Int("http.response.status_code", 500)}},
		spec{trace: 1, span: 2, parent: 1, service: "logic", name: "Send", startMS: 10, durMS: 100, resource: v("1.3.0"),
			attrs: []attribute.KeyValue{attribute.String("bangbang.im.error", "QUOTA")}},
		spec{trace: 2, span: 1, service: "gateway", name: "IM SEND", startMS: 400, durMS: 20, resource: v("1.3.0"),
			attrs: []attribute.KeyValue{attribute.Bool("retry", true), attribute.Float64("ratio", 0.5)}},
		spec{trace: 3, span: 1, service: "sim", name: "RefreshListing", startMS: 1000, durMS: 5,
			attrs: []attribute.KeyValue{attribute.String("url.full", "http://sim:8080/soap")}},
	)
}

// ids lists the trace ids of a result by their last byte, most recent first.
func ids(sums []TraceSummary) string {
	var out []string
	for _, ts := range sums {
		out = append(out, ts.TraceID[30:])
	}
	return strings.Join(out, ",")
}

func TestStoreListByAttribute(t *testing.T) {
	s := searchStore()
	attrs := func(fs ...string) []AttrFilter {
		var out []AttrFilter
		for _, f := range fs {
			af, err := ParseAttrFilter(f)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, af)
		}
		return out
	}
	for _, tc := range []struct {
		q    Query
		want string
	}{
		{Query{Attrs: attrs("http.route:/v1/listings")}, "01"},
		{Query{Attrs: attrs("http.route:/v1/other")}, ""},                               // the key, another value
		{Query{Attrs: attrs("http.response.status_code:500")}, "01"},                    // an integer's decimal form
		{Query{Attrs: attrs("http.response.status_code:50")}, ""},                       // equality, not a prefix
		{Query{Attrs: attrs("retry:true")}, "02"},                                       // a boolean
		{Query{Attrs: attrs("retry:false")}, ""},                                        //
		{Query{Attrs: attrs("ratio:0.5")}, "02"},                                        // a float
		{Query{Attrs: attrs("url.full:http://sim:8080/soap")}, "03"},                    // colons in the value
		{Query{Attrs: attrs("no.such.key:1")}, ""},                                      //
		{Query{Attrs: attrs("service.version:1.3.0")}, "02,01"},                         // on a resource, any span's
		{Query{Attrs: attrs("service.version:1.2.0")}, "01"},                            //
		{Query{Attrs: attrs("service.version:1.2.0", "bangbang.im.error:QUOTA")}, "01"}, // all, on different spans
		{Query{Attrs: attrs("service.version:1.2.0", "retry:true")}, ""},                // all, not on different traces
		{Query{Attrs: attrs("service.version:1.3.0"), Service: "gateway"}, "02"},
		{Query{Attrs: attrs("service.version:1.3.0"), ErrorOnly: true}, ""},
	} {
		if got := ids(s.List(tc.q)); got != tc.want {
			t.Errorf("List(%+v) = %s, want %s", tc.q, got, tc.want)
		}
	}
}

func TestStoreListByTime(t *testing.T) {
	s := searchStore()
	at := func(ms int) time.Time { return t0().Add(time.Duration(ms) * time.Millisecond) }
	for _, tc := range []struct {
		start, end time.Time
		want       string
	}{
		{time.Time{}, time.Time{}, "03,02,01"},
		{at(350), time.Time{}, "03,02"},    // after trace 1 ended
		{time.Time{}, at(350), "01"},       // before trace 2 started
		{at(300), time.Time{}, "03,02,01"}, // trace 1 ends at the start: overlaps
		{time.Time{}, at(400), "02,01"},    // trace 2 starts at the end: overlaps
		{at(301), at(399), ""},             // the gap between traces 1 and 2
		{at(410), at(415), "02"},           // inside trace 2
		{at(100), at(110), "01"},           // inside trace 1
		{at(0), at(2000), "03,02,01"},      // around them all
		{at(2000), time.Time{}, ""},        // after them all
		{time.Time{}, at(-1), ""},          // before them all
	} {
		if got := ids(s.List(Query{Start: tc.start, End: tc.end})); got != tc.want {
			t.Errorf("List(start %v, end %v) = %s, want %s", tc.start, tc.end, got, tc.want)
		}
	}
	q := Query{Start: at(0), End: at(2000), Attrs: []AttrFilter{{"service.version", "1.3.0"}}, Service: "logic"}
	if got := ids(s.List(q)); got != "01" {
		t.Errorf("range, attribute and service together: %s, want 01", got)
	}
}

func TestParseAttrFilter(t *testing.T) {
	for in, want := range map[string]AttrFilter{
		"k:v":                 {"k", "v"},
		"url.full:http://x:1": {"url.full", "http://x:1"},
		"k:":                  {"k", ""},
	} {
		if got, err := ParseAttrFilter(in); err != nil || got != want {
			t.Errorf("ParseAttrFilter(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "novalue", ":v"} {
		if got, err := ParseAttrFilter(in); err == nil {
			t.Errorf("ParseAttrFilter(%q) = %+v, want an error", in, got)
		}
	}
}

// A resource shared by spans is counted once in the store's bytes, and its bytes go with
// the last span holding it.
func TestStoreHoldsResourceOnce(t *testing.T) {
	res := []attribute.KeyValue{semconv.ServiceVersionKey.String("1.2.0"), attribute.String("host.name", "node-1")}
	set := attribute.NewSet(res...)
	resSize := int64(resourceOverhead) + attrsSize(set.ToSlice())
	a := spec{trace: 1, span: 1, service: "edge", name: "a", durMS: 1, resource: res}.record()
	b := spec{trace: 2, span: 1, service: "edge", name: "b", durMS: 1, resource: res}.record()
	s := NewStore(0)
	s.addAll([]*record{a, b})
	if st := s.Stats(); st.Bytes != a.size+b.size+resSize {
		t.Fatalf("bytes %d, want %d: two spans and their resource once", st.Bytes, a.size+b.size+resSize)
	}
	if a.resource != b.resource || a.resource.refs != 2 || len(s.resources) != 1 {
		t.Fatalf("resource not shared: %p %p, %d refs, %d held", a.resource, b.resource, a.resource.refs, len(s.resources))
	}
	s.mu.Lock()
	s.remove(s.traces[trace.TraceID{15: 1}])
	afterOne := s.bytes
	s.remove(s.traces[trace.TraceID{15: 2}])
	afterBoth, held := s.bytes, len(s.resources)
	s.mu.Unlock()
	if afterOne != b.size+resSize || afterBoth != 0 || held != 0 {
		t.Fatalf("after removing one trace %d bytes (want %d), both %d bytes and %d resources (want 0, 0)",
			afterOne, b.size+resSize, afterBoth, held)
	}
}
