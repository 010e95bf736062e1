package tracing

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
)

const hostile = `<script>alert("x")</script>`

// waterfallStore holds trace 1, 200 ms long:
//
//	edge   GET /v1/leads    0..200 ms
//	  logic  auth            20..70 ms
//	    store  query          30..35 ms
//	  sim    RefreshListing 150..200 ms, error, a hostile attribute and event
func waterfallStore() *Store {
	recs := []*record{
		spec{trace: 1, span: 1, service: "edge", name: "GET /v1/leads", durMS: 200}.record(),
		spec{trace: 1, span: 2, parent: 1, service: "logic", name: "auth", startMS: 20, durMS: 50}.record(),
		spec{trace: 1, span: 3, parent: 2, service: "store", name: "query", startMS: 30, durMS: 5}.record(),
	}
	bad := spec{trace: 1, span: 4, parent: 1, service: "sim", name: "RefreshListing", startMS: 150, durMS: 50, err: true,
		attrs: []attribute.KeyValue{attribute.String("soap.fault", hostile), attribute.Int("http.status_code", 500)}}.record()
	bad.statusMessage = "upstream said " + hostile
	bad.events = []event{{name: "retry " + hostile, time: t0().Add(160 * time.Millisecond),
		attrs: []attribute.KeyValue{attribute.String("attempt."+hostile, "2")}}}
	bad.fix()
	s := NewStore(0)
	s.addAll(append(recs, bad))
	return s
}

func getPage(t *testing.T, h http.Handler, target string, status int) string {
	t.Helper()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, target, nil))
	if w.Code != status {
		t.Fatalf("GET %s: status %d, want %d\n%s", target, w.Code, status, w.Body)
	}
	hdr := w.Header()
	if ct := hdr.Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Errorf("GET %s: content type %q", target, ct)
	}
	if csp := hdr.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("GET %s: content security policy %q", target, csp)
	}
	if hdr.Get("Cache-Control") != "no-store" || hdr.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("GET %s: headers %v", target, hdr)
	}
	body := w.Body.String()
	// ZgotmplZ is what html/template writes in place of a value it refused.
	for _, bad := range []string{"<script", "ZgotmplZ"} {
		if strings.Contains(body, bad) {
			t.Errorf("GET %s: page contains %q", target, bad)
		}
	}
	return body
}

var (
	barRE  = regexp.MustCompile(`class="bar" style="left:([0-9.]+)%;width:([0-9.]+)%"`)
	nameRE = regexp.MustCompile(`<span class="name" style="padding-left:([0-9.]+)em"><span class="svc">([^<]*)</span> ([^<]*?) ?<`)
)

func TestWaterfallPage(t *testing.T) {
	body := getPage(t, waterfallStore().PageHandler(), "/admin/traces/00000000000000000000000000000001", http.StatusOK)

	// One row per span, in tree order, each bar placed by offset/200ms and sized by
	// duration/200ms, each name indented by depth.
	want := []struct{ indent, service, name, left, width string }{
		{"0.00", "edge", "GET /v1/leads", "0.000", "100.000"},
		{"1.25", "logic", "auth", "10.000", "25.000"},
		{"2.50", "store", "query", "15.000", "2.500"},
		{"1.25", "sim", "RefreshListing", "75.000", "25.000"},
	}
	bars, names := barRE.FindAllStringSubmatch(body, -1), nameRE.FindAllStringSubmatch(body, -1)
	if len(bars) != len(want) || len(names) != len(want) {
		t.Fatalf("%d bars and %d names, want %d each\n%s", len(bars), len(names), len(want), body)
	}
	for i, w := range want {
		got := []string{names[i][1], names[i][2], names[i][3], bars[i][1], bars[i][2]}
		if exp := []string{w.indent, w.service, w.name, w.left, w.width}; strings.Join(got, "|") != strings.Join(exp, "|") {
			t.Errorf("row %d: %q, want %q", i, got, exp)
		}
	}

	// The error span, and only it, is marked.
	if n := strings.Count(body, `class="span error"`); n != 1 ||
		!strings.Contains(body, `<details class="span error" id="span-0000000000000004">`) {
		t.Errorf("error marking: %d spans marked, or not span 4", n)
	}
	for _, s := range []string{
		// Durations, the axis, the attribute and event details, escaped.
		`<span class="dur">50ms</span>`, `<span class="dur">5ms</span>`,
		`<span class="tick" style="left:50.000%">100ms</span>`,
		`<td>soap.fault</td><td>&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;</td>`,
		`<td>http.status_code</td><td>500</td>`,
		`<dd>upstream said &lt;script&gt;`,
		`<td>+160ms</td><td>retry &lt;script&gt;`,
		`attempt.&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;=2`,
		`href="/admin/v1/traces/00000000000000000000000000000001"`,
	} {
		if !strings.Contains(body, s) {
			t.Errorf("page lacks %s", s)
		}
	}
}

// The pages' header shows the links their handler was given, escaped, and none else.
func TestWaterfallPageLinks(t *testing.T) {
	s := waterfallStore()
	const link = `<a href="/admin/console/campaigns">Console &lt;b&gt;</a>`
	for _, target := range []string{"/admin/traces", "/admin/traces/map", "/admin/traces/00000000000000000000000000000001"} {
		if body := getPage(t, s.PageHandler(PageLink{Label: "Console <b>", URL: "/admin/console/campaigns"}), target, http.StatusOK); !strings.Contains(body, link) {
			t.Errorf("GET %s lacks %s", target, link)
		}
		if body := getPage(t, s.PageHandler(), target, http.StatusOK); strings.Contains(body, "/admin/console") {
			t.Errorf("GET %s without links shows one", target)
		}
	}
}

func TestWaterfallPageErrors(t *testing.T) {
	h := waterfallStore().PageHandler()
	for target, status := range map[string]int{
		"/admin/traces/not-hex":                          http.StatusBadRequest,
		"/admin/traces/00000000000000000000000000000000": http.StatusBadRequest,
		"/admin/traces/0102030405060708090a0b0c0d0e0f10": http.StatusNotFound,
	} {
		if body := getPage(t, h, target, status); !strings.Contains(body, `class="problem"`) {
			t.Errorf("GET %s: no explanation in %s", target, body)
		}
	}
}

func TestWaterfallListPage(t *testing.T) {
	s := waterfallStore()
	s.addAll([]*record{
		spec{trace: 2, span: 1, service: "gateway", name: "im.send", startMS: 500, durMS: 10}.record(),
		spec{trace: 3, span: 1, service: hostile, name: "x", startMS: 600, durMS: 1}.record(),
	})
	h := s.PageHandler()
	link := func(id byte) string {
		return `href="/admin/traces/` + trace.TraceID{15: id}.String() + `"`
	}
	for _, tc := range []struct {
		target string
		in     []byte
	}{
		{"/admin/traces", []byte{3, 2, 1}},
		{"/admin/traces?service=gateway", []byte{2}},
		{"/admin/traces?operation=query", []byte{1}},
		{"/admin/traces?error=true", []byte{1}},
		{"/admin/traces?min_duration=100ms", []byte{1}},
		{"/admin/traces?user=nobody", nil},
		{"/admin/traces?limit=1", []byte{3}},
	} {
		body := getPage(t, h, tc.target, http.StatusOK)
		pos := -1
		for id := byte(1); id <= 3; id++ {
			want := strings.Contains(string(tc.in), string(rune(id)))
			if got := strings.Contains(body, link(id)); got != want {
				t.Errorf("GET %s: link to trace %d present %v, want %v", tc.target, id, got, want)
			}
		}
		for _, id := range tc.in { // most recent first
			at := strings.Index(body, link(id))
			if at < pos {
				t.Errorf("GET %s: trace %d out of order", tc.target, id)
			}
			pos = at
		}
		if tc.in == nil && !strings.Contains(body, "No trace matches.") {
			t.Errorf("GET %s: no empty-list message", tc.target)
		}
	}

	// The error trace's row is marked; the filters come back in the form, escaped.
	body := getPage(t, h, "/admin/traces?error=1&user="+strings.ReplaceAll(hostile, " ", "+"), http.StatusOK)
	if !strings.Contains(body, `<input type="checkbox" name="error" value="true" checked>`) ||
		!strings.Contains(body, `name="user" value="&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;"`) {
		t.Errorf("filters not echoed:\n%s", body)
	}
	body = getPage(t, h, "/admin/traces", http.StatusOK)
	if !strings.Contains(body, `<tr class="error">`) || strings.Count(body, `<tr class="error">`) != 1 {
		t.Errorf("want exactly one error row:\n%s", body)
	}

	body = getPage(t, h, "/admin/traces?min_duration=soon", http.StatusBadRequest)
	if !strings.Contains(body, `<p class="problem">min_duration &#34;soon&#34; is neither`) ||
		!strings.Contains(body, `name="min_duration" value="soon"`) {
		t.Errorf("bad filter page:\n%s", body)
	}
}

func TestWaterfallRows(t *testing.T) {
	tr, _ := waterfallStore().Get(trace.TraceID{15: 1})
	rows, hidden := waterfall(tr, 2)
	if len(rows) != 2 || hidden != 2 || rows[0].Name != "GET /v1/leads" || rows[1].Name != "auth" {
		t.Fatalf("rows %+v, hidden %d: want the first two and two hidden", rows, hidden)
	}
	rows, hidden = waterfall(tr, maxPageSpans)
	if len(rows) != 4 || hidden != 0 || !rows[3].Error || rows[3].Left != 75 || rows[3].Width != 25 ||
		len(rows[3].Events) != 1 || rows[3].Events[0].Offset != 160*time.Millisecond {
		t.Fatalf("rows %+v, hidden %d", rows, hidden)
	}
}

func TestWaterfallBar(t *testing.T) {
	ms := time.Millisecond
	for _, tc := range []struct {
		offset, d, total time.Duration
		left, width      float64
	}{
		{0, 200 * ms, 200 * ms, 0, 100},
		{50 * ms, 100 * ms, 200 * ms, 25, 50},
		{199 * ms, 0, 200 * ms, 99.5, 0},
		{0, 0, 0, 0, 100},                      // a trace of no duration
		{150 * ms, 100 * ms, 200 * ms, 75, 25}, // never past the end
		{300 * ms, 10 * ms, 200 * ms, 100, 0},
		{-ms, 10 * ms, 200 * ms, 0, 5},
	} {
		if l, w := bar(tc.offset, tc.d, tc.total); l != tc.left || w != tc.width {
			t.Errorf("bar(%v, %v, %v) = %v, %v; want %v, %v", tc.offset, tc.d, tc.total, l, w, tc.left, tc.width)
		}
	}
}

// FuzzWaterfallPage renders spans whose service, name, attribute and event come from the
// fuzzer: the page always renders, draws every span, and nothing from outside becomes
// markup or a refused value.
func FuzzWaterfallPage(f *testing.F) {
	f.Add("edge", "GET /v1/leads", "k", hostile)
	f.Add(`"><img src=x onerror=alert(1)>`, "</style><script>", "style", "javascript:alert(1)")
	f.Add("", "", "", "\x00\xff")
	f.Fuzz(func(t *testing.T, service, name, key, value string) {
		attrs := []attribute.KeyValue{attribute.String(key, value)}
		child := spec{trace: 1, span: 2, parent: 1, service: service, name: name, startMS: 5, durMS: 5, attrs: attrs}.record()
		child.events = []event{{name: value, time: t0(), attrs: attrs}}
		child.fix()
		s := NewStore(0)
		s.addAll([]*record{spec{trace: 1, span: 1, service: service, name: name, durMS: 10, attrs: attrs}.record(), child})
		body := getPage(t, s.PageHandler(), "/admin/traces/00000000000000000000000000000001", http.StatusOK)
		if n := len(barRE.FindAllString(body, -1)); n != 2 {
			t.Fatalf("%d bars, want 2", n)
		}
		if strings.Count(body, "<details") != 2 || strings.Count(body, "<img") != 0 || strings.Count(body, "</style>") != 1 {
			t.Fatalf("markup from outside in the page:\n%s", body)
		}
		getPage(t, s.PageHandler(), "/admin/traces?service="+url.QueryEscape(service)+"&user="+url.QueryEscape(value), http.StatusOK)
	})
}

// The list's new filters work from the page and come back in its form; the service map
// link keeps the time range.
func TestWaterfallListPageSearch(t *testing.T) {
	h := searchStore().PageHandler()
	link := func(id byte) string { return `href="/admin/traces/` + trace.TraceID{15: id}.String() + `"` }
	body := getPage(t, h, "/admin/traces?attr=service.version:1.3.0&attr=retry:true&attr=&start=2025-03-01T12:00:00Z&end="+
		url.QueryEscape(hostile), http.StatusBadRequest)
	if !strings.Contains(body, `<p class="problem">end &#34;&lt;script&gt;`) {
		t.Errorf("bad end not explained:\n%s", body)
	}
	body = getPage(t, h, "/admin/traces?attr=service.version:1.3.0&attr=retry:true&attr=&start=2025-03-01T12:00:00Z", http.StatusOK)
	if !strings.Contains(body, link(2)) || strings.Contains(body, link(1)) || strings.Contains(body, link(3)) {
		t.Errorf("want trace 2 only:\n%s", body)
	}
	for _, s := range []string{
		`<input name="attr" value="service.version:1.3.0"`,
		`<input name="attr" value="retry:true"`,
		`<input name="attr" value="" placeholder="key:value">`, // one empty field, for one more
		`<input name="start" value="2025-03-01T12:00:00Z"`,
		`<input name="end" value=""`,
		`href="/admin/traces/map?start=2025-03-01T12%3A00%3A00Z"`,
	} {
		if !strings.Contains(body, s) {
			t.Errorf("list page lacks %s", s)
		}
	}
	if n := strings.Count(body, `name="attr"`); n != 3 {
		t.Errorf("%d attribute fields, want 3 (two given, one empty)", n)
	}
}

func TestServiceMapPage(t *testing.T) {
	s := mapStore()
	s.addAll([]*record{
		spec{trace: 4, span: 1, service: hostile, name: "x", startMS: 20000, durMS: 10}.record(),
		spec{trace: 4, span: 2, parent: 1, service: "logic", name: "y", startMS: 20001, durMS: 1}.record(),
	})
	h := s.PageHandler()
	body := getPage(t, h, "/admin/traces/map", http.StatusOK)
	rowRE := regexp.MustCompile(`<tr( class="error")?>\s*<td><a href="[^"]*">([^<]*)</a></td>\s*<td><a href="[^"]*">([^<]*)</a></td>\s*` +
		`<td class="num">(\d+)</td>\s*<td class="num">(?:<a href="[^"]*">)?(\d+)(?:</a>)?</td>\s*<td class="num">([^<]*)</td>`)
	var rows []string
	for _, m := range rowRE.FindAllStringSubmatch(body, -1) {
		rows = append(rows, strings.Join(m[1:], "|"))
	}
	want := []string{ // sorted by caller: "<" before letters
		`|&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;|logic|1|0|0.0%`,
		` class="error"|edge|logic|3|2|66.7%`,
		`|gateway|logic|1|0|0.0%`,
		` class="error"|logic|store|1|1|100.0%`,
	}
	if strings.Join(rows, "\n") != strings.Join(want, "\n") {
		t.Errorf("rows:\n%s\nwant:\n%s", strings.Join(rows, "\n"), strings.Join(want, "\n"))
	}
	for _, s := range []string{
		`href="/admin/traces?service=logic"`,
		`href="/admin/traces?error=true&amp;service=store"`,
		`href="/admin/v1/traces/map"`,
	} {
		if !strings.Contains(body, s) {
			t.Errorf("map page lacks %s", s)
		}
	}

	body = getPage(t, h, "/admin/traces/map?start=2025-03-01T12:00:05Z", http.StatusOK)
	if !strings.Contains(body, ">gateway</a>") || strings.Contains(body, ">edge</a>") ||
		!strings.Contains(body, `href="/admin/traces?service=gateway&amp;start=2025-03-01T12%3A00%3A05Z"`) {
		t.Errorf("map from 5 s:\n%s", body)
	}
	body = getPage(t, h, "/admin/traces/map?start=2025-03-01T12:00:00Z&end=2025-03-01T11:00:00Z", http.StatusBadRequest)
	if !strings.Contains(body, `<p class="problem">end &#34;2025-03-01T11:00:00Z&#34; is before start`) ||
		!strings.Contains(body, `name="end" value="2025-03-01T11:00:00Z"`) {
		t.Errorf("bad range page:\n%s", body)
	}
	if body := getPage(t, NewStore(0).PageHandler(), "/admin/traces/map", http.StatusOK); !strings.Contains(body, "No calls between services") {
		t.Errorf("empty map page:\n%s", body)
	}
}
