package tracing

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// t0 is the start of every hand-built trace.
func t0() time.Time { return time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC) }

// spec is a hand-built span: ids are small numbers, times offsets from t0 in ms.
type spec struct {
	trace, span, parent byte
	service, name       string
	startMS, durMS      int
	err                 bool
	attrs               []attribute.KeyValue
	resource            []attribute.KeyValue // none when nil
}

func (s spec) record() *record {
	r := &record{
		traceID: trace.TraceID{15: s.trace},
		spanID:  trace.SpanID{7: s.span},
		service: s.service,
		name:    s.name,
		start:   t0().Add(time.Duration(s.startMS) * time.Millisecond),
		attrs:   s.attrs,
	}
	if s.parent != 0 {
		r.parentID = trace.SpanID{7: s.parent}
	}
	r.end = r.start.Add(time.Duration(s.durMS) * time.Millisecond)
	if s.err {
		r.status = codes.Error
	}
	if s.resource != nil {
		r.resource = resourceOf(attribute.NewSet(s.resource...))
	}
	r.fix()
	return r
}

func storeWith(specs ...spec) *Store {
	s := NewStore(0)
	for _, sp := range specs {
		s.addAll([]*record{sp.record()})
	}
	return s
}

func TestStoreTree(t *testing.T) {
	s := storeWith(
		spec{trace: 1, span: 4, parent: 2, service: "store", name: "append", startMS: 30, durMS: 5},
		spec{trace: 1, span: 1, service: "gateway", name: "im.send", startMS: 0, durMS: 100},
		spec{trace: 1, span: 2, parent: 1, service: "logic", name: "Send", startMS: 20, durMS: 50},
		spec{trace: 1, span: 3, parent: 1, service: "logic", name: "Auth", startMS: 10, durMS: 5},
		spec{trace: 1, span: 5, parent: 9, service: "gateway", name: "push", startMS: 60, durMS: 10}, // parent never arrived
		spec{trace: 1, span: 3, parent: 1, service: "logic", name: "Auth", startMS: 10, durMS: 5},    // exported twice
	)
	got, ok := s.Get(trace.TraceID{15: 1})
	if !ok {
		t.Fatal("trace missing")
	}
	if got.RootName != "im.send" || got.RootService != "gateway" || got.Duration != 100*time.Millisecond || got.Partial {
		t.Errorf("summary %+v", got.TraceSummary)
	}
	var lines []string
	var walk func(ns []*Node)
	walk = func(ns []*Node) {
		for _, n := range ns {
			lines = append(lines, fmt.Sprintf("%s%s/%s +%v %v", strings.Repeat("  ", n.Depth), n.Service, n.Name, n.Offset, n.Duration))
			walk(n.Children)
		}
	}
	walk(got.Spans)
	want := []string{
		"gateway/im.send +0s 100ms",
		"  logic/Auth +10ms 5ms",
		"  logic/Send +20ms 50ms",
		"    store/append +30ms 5ms",
		"gateway/push +60ms 10ms",
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("tree:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
}

func TestStoreTreeWithoutRoot(t *testing.T) {
	s := storeWith(
		spec{trace: 2, span: 2, parent: 1, service: "logic", name: "Send", startMS: 5, durMS: 10},
		spec{trace: 2, span: 3, parent: 2, service: "store", name: "append", startMS: 6, durMS: 1},
	)
	got, _ := s.Get(trace.TraceID{15: 2})
	if !got.Partial || got.RootName != "Send" || len(got.Spans) != 1 || len(got.Spans[0].Children) != 1 {
		t.Errorf("trace %+v: want a partial trace rooted at the orphan Send", got)
	}
}

// Whatever parents a peer claims, every span appears exactly once and nesting stays
// within maxDepth.
func TestStoreTreeHostileParents(t *testing.T) {
	var specs []spec
	// A cycle 1 -> 2 -> 3 -> 1, and a span that is its own parent.
	specs = append(specs,
		spec{trace: 3, span: 1, parent: 3, name: "a"},
		spec{trace: 3, span: 2, parent: 1, name: "b"},
		spec{trace: 3, span: 3, parent: 2, name: "c"},
		spec{trace: 3, span: 4, parent: 4, name: "self"},
	)
	// A chain deeper than maxDepth.
	for i := 10; i < 10+maxDepth*2; i++ {
		specs = append(specs, spec{trace: 3, span: byte(i), parent: byte(i - 1), name: "deep", startMS: i})
	}
	s := storeWith(specs...)
	got, _ := s.Get(trace.TraceID{15: 3})
	seen := make(map[string]int)
	var walk func(ns []*Node, depth int)
	walk = func(ns []*Node, depth int) {
		for _, n := range ns {
			seen[n.SpanID]++
			if n.Depth != depth || depth > maxDepth {
				t.Errorf("span %s at depth %d, field says %d (max %d)", n.SpanID, depth, n.Depth, maxDepth)
			}
			walk(n.Children, depth+1)
		}
	}
	walk(got.Spans, 0)
	if len(seen) != len(specs) {
		t.Errorf("tree holds %d spans, want %d", len(seen), len(specs))
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("span %s appears %d times", id, n)
		}
	}
}

func TestStoreList(t *testing.T) {
	user := func(u string) []attribute.KeyValue { return []attribute.KeyValue{AttrUser.String(u)} }
	s := storeWith(
		spec{trace: 1, span: 1, service: "edge", name: "POST /v1/listings/refresh", startMS: 0, durMS: 300, attrs: user("m1001")},
		spec{trace: 1, span: 2, parent: 1, service: "sim", name: "RefreshListing", startMS: 10, durMS: 250},
		spec{trace: 2, span: 1, service: "gateway", name: "im.send", startMS: 100, durMS: 20,
			attrs: []attribute.KeyValue{attrEndUser.String("c1002")}},
		spec{trace: 2, span: 2, parent: 1, service: "logic", name: "Send", startMS: 105, durMS: 10, err: true},
		spec{trace: 3, span: 1, service: "admin", name: "POST /admin/v1/campaigns", startMS: 200, durMS: 5, attrs: user("staff")},
	)
	ids := func(sums []TraceSummary) string {
		var out []string
		for _, ts := range sums {
			out = append(out, ts.TraceID[30:])
		}
		return strings.Join(out, ",")
	}
	for _, tc := range []struct {
		q    Query
		want string
	}{
		{Query{}, "03,02,01"},
		{Query{Limit: 2}, "03,02"},
		{Query{Service: "sim"}, "01"},
		{Query{Operation: "Send"}, "02"},
		{Query{Service: "gateway", Operation: "Send"}, ""},
		{Query{Service: "logic", Operation: "Send"}, "02"},
		{Query{MinDuration: 20 * time.Millisecond}, "02,01"},
		{Query{MinDuration: 21 * time.Millisecond}, "01"},
		{Query{ErrorOnly: true}, "02"},
		{Query{User: "m1001"}, "01"},
		{Query{User: "c1002"}, "02"},
		{Query{User: "c1002", Service: "edge"}, ""},
		{Query{User: "nobody"}, ""},
	} {
		if got := ids(s.List(tc.q)); got != tc.want {
			t.Errorf("List(%+v) = %s, want %s", tc.q, got, tc.want)
		}
	}
	sum := s.List(Query{ErrorOnly: true})[0]
	if sum.RootName != "im.send" || sum.SpanCount != 2 || sum.ErrorCount != 1 || !sum.Error ||
		strings.Join(sum.Services, ",") != "gateway,logic" || !sum.Start.Equal(t0().Add(100*time.Millisecond)) {
		t.Errorf("summary %+v", sum)
	}
}

// bigTrace is a trace of one span whose size is about n bytes.
func bigTrace(id uint16, n int) *record {
	r := spec{span: 1, service: "logic", name: "Send"}.record()
	r.traceID = trace.TraceID{14: byte(id >> 8), 15: byte(id)}
	r.attrs = []attribute.KeyValue{attribute.String("payload", strings.Repeat("x", n-int(r.size)-attrOverhead-len("payload")))}
	r.fix()
	return r
}

func TestStoreEvictsOldestByMemory(t *testing.T) {
	const bound, traceSize, traces = 64 << 10, 2 << 10, 100 // 200 KiB into 64 KiB
	s := NewStore(bound)
	for i := range traces {
		r := bigTrace(uint16(i), traceSize)
		if r.size != traceSize {
			t.Fatalf("record size %d, want %d", r.size, traceSize)
		}
		s.addAll([]*record{r})
		if st := s.Stats(); st.Bytes > bound {
			t.Fatalf("after %d traces the store holds %d bytes, over %d", i+1, st.Bytes, bound)
		}
	}
	st := s.Stats()
	kept := bound / traceSize
	if st.Traces != kept || st.EvictedTraces != int64(traces-kept) || st.Bytes != int64(kept*traceSize) {
		t.Errorf("stats %+v: want %d traces kept, %d evicted", st, kept, traces-kept)
	}
	for i := range traces {
		_, ok := s.Get(bigTrace(uint16(i), traceSize).traceID)
		if want := i >= traces-kept; ok != want {
			t.Errorf("trace %d present %v, want %v", i, ok, want)
		}
	}

	// A trace that gets a new span is recent again and outlives older ones.
	first := traces - kept
	touch := bigTrace(uint16(first), traceSize)
	touch.spanID = trace.SpanID{7: 2}
	touch.attrs = nil
	touch.fix()
	s.addAll([]*record{touch, bigTrace(traces, traceSize)})
	if _, ok := s.Get(touch.traceID); !ok {
		t.Error("a trace updated just now was evicted")
	}
	if _, ok := s.Get(bigTrace(uint16(first+1), traceSize).traceID); ok {
		t.Error("the least recently updated trace survived")
	}
}

func TestStoreBoundsOneTrace(t *testing.T) {
	const bound = 64 << 10
	s := NewStore(bound)
	for i := range 100 {
		r := bigTrace(7, 1<<10)
		r.spanID = trace.SpanID{6: byte(i >> 8), 7: byte(i + 1)}
		s.addAll([]*record{r})
	}
	st := s.Stats()
	if st.Bytes > bound/4 || st.Spans != bound/4/(1<<10) || st.DroppedSpans != int64(100-st.Spans) {
		t.Errorf("stats %+v: one trace must stay within a quarter of the bound", st)
	}
	got, _ := s.Get(bigTrace(7, 1<<10).traceID)
	if !got.Partial || got.DroppedSpans != int(st.DroppedSpans) {
		t.Errorf("summary %+v: want partial with dropped spans", got.TraceSummary)
	}
}

// Spans from many goroutines, read concurrently: run with -race to check the locking.
func TestStoreConcurrent(t *testing.T) {
	tr := setup(t, Config{StoreBytes: 1 << 20})
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			tracer := tr.Provider(fmt.Sprintf("c%d", g)).Tracer("test")
			for range 200 {
				ctx, root := tracer.Start(context.Background(), "root")
				_, child := tracer.Start(ctx, "child")
				child.End()
				root.End()
			}
		})
	}
	wg.Go(func() {
		for range 50 {
			for _, ts := range tr.Store().List(Query{Limit: 5}) {
				id, _ := trace.TraceIDFromHex(ts.TraceID)
				tr.Store().Get(id)
			}
			tr.Store().ServiceMap(time.Time{}, time.Time{})
		}
	})
	wg.Wait()
	if st := tr.Store().Stats(); st.Spans+int(st.EvictedTraces)*2 != 4*200*2 || st.Bytes > 1<<20 {
		t.Errorf("stats %+v: want every span stored or evicted with its trace", st)
	}
}
