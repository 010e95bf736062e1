package tracing

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"go.opentelemetry.io/otel/trace"
)

// PageHandler serves the store as HTML pages for a browser, rendered on the server with
// inline CSS and no script:
//
//	GET /admin/traces?service=&operation=&min_duration=&error=&user=&attr=&start=&end=&limit=
//	GET /admin/traces/map?start=&end=
//	GET /admin/traces/{id}
//
// The list takes the JSON list's filters (see Handler) and links each trace to its
// waterfall: one row per span, indented by depth, with a bar placed by the span's start
// offset and sized by its duration relative to the trace, error spans marked, and each
// span's attributes and events, and the resource of the process it came from, under a
// <details>. The map is the ServiceMap as a table.
// Span data arrives from other processes (OTLP ingest), so everything is escaped by
// html/template. Bad filters or ids answer 400, an unknown trace 404, both as HTML. The
// pages carry a log-out button posting to /admin/logout; the admin server mounting them
// authenticates and serves that route.
//
// nav are links the pages' header shows beside the trace list's, such as the way back to
// the console of the server mounting them.
func (s *Store) PageHandler(nav ...PageLink) http.Handler {
	p := pageSet{tmpl: template.Must(pages.Clone()).Funcs(template.FuncMap{"nav": func() []PageLink { return nav }})}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /admin/traces", func(w http.ResponseWriter, r *http.Request) { s.serveListPage(p, w, r) })
	mux.HandleFunc("GET /admin/traces/map", func(w http.ResponseWriter, r *http.Request) { s.serveMapPage(p, w, r) })
	mux.HandleFunc("GET /admin/traces/{id}", func(w http.ResponseWriter, r *http.Request) { s.serveTracePage(p, w, r) })
	return mux
}

// PageLink is a link in the trace pages' header.
type PageLink struct {
	Label, URL string
}

// pageSet is the pages' templates as one PageHandler renders them (with its links).
type pageSet struct{ tmpl *template.Template }

// maxPageSpans bounds the rows of one waterfall, so a trace at the per-trace bound still
// renders a page a browser can open; the JSON API has every span.
const maxPageSpans = 5000

//go:embed waterfall.tmpl
var pageFS embed.FS

// pages holds the templates, parsed once from the embedded file; a parse error is a
// defect of the file, which every test run would report.
var pages = template.Must(template.New("waterfall.tmpl").Funcs(template.FuncMap{
	"pct":      pct,
	"dur":      fmtDuration,
	"when":     fmtTime,
	"indent":   indent,
	"rate":     rate,
	"traceURL": func(id string) string { return "/admin/traces/" + id },
	"nav":      func() []PageLink { return nil }, // each PageHandler's own links
}).ParseFS(pageFS, "waterfall.tmpl"))

// listForm echoes the list's filters back into its form, as the user typed them.
type listForm struct {
	Service, Operation, MinDuration, User, Limit, Start, End string
	Attrs                                                    []string // the non-empty ones
	Error                                                    bool
}

type listPage struct {
	Form   listForm
	Err    string
	Traces []TraceSummary
	MapURL string // the service map over the same time range
}

type mapPage struct {
	Start, End string // as typed
	JSONURL    string
	Err        string
	Map        ServiceMap
	Edges      []mapRow
}

// mapRow is one edge of the map page, with links to the traces of each end.
type mapRow struct {
	ServiceEdge
	CallerURL, CalleeURL, ErrorsURL string
}

type tracePage struct {
	Trace  *Trace
	Rows   []waterfallRow
	Hidden int // spans beyond maxPageSpans, not drawn
	Ticks  []tick
}

type errorPage struct {
	Status  int
	Message string
}

// waterfallRow is one span of a waterfall, in tree order.
type waterfallRow struct {
	SpanID, ParentID, Service, Name, Kind string
	Depth                                 int
	// Left and Width place the bar, in percent of the trace's duration.
	Left, Width   float64
	Offset        time.Duration
	Duration      time.Duration
	Error         bool
	StatusMessage string
	Attributes    []attrRow
	Events        []eventRow
	Resource      []attrRow // the attributes of the process it came from
}

type attrRow struct{ Key, Value string }

type eventRow struct {
	Name       string
	Offset     time.Duration
	Attributes []attrRow
}

// tick is a label on the waterfall's time axis.
type tick struct {
	Left  float64 // percent
	Label time.Duration
}

func (s *Store) serveListPage(p pageSet, w http.ResponseWriter, r *http.Request) {
	v := r.URL.Query()
	errorOnly, _ := strconv.ParseBool(v.Get("error"))
	page := listPage{Form: listForm{
		Service: v.Get("service"), Operation: v.Get("operation"), MinDuration: v.Get("min_duration"),
		User: v.Get("user"), Limit: v.Get("limit"), Start: v.Get("start"), End: v.Get("end"), Error: errorOnly,
		Attrs: slices.DeleteFunc(slices.Clone(v["attr"]), func(a string) bool { return a == "" }),
	}, MapURL: pageURL("/admin/traces/map", "start", v.Get("start"), "end", v.Get("end"))}
	q, err := parseQuery(r)
	status := http.StatusOK
	if err != nil {
		status, page.Err = http.StatusBadRequest, err.Error()
	} else {
		page.Traces = s.List(q)
	}
	p.render(w, status, "list", page)
}

func (s *Store) serveMapPage(p pageSet, w http.ResponseWriter, r *http.Request) {
	v := r.URL.Query()
	page := mapPage{Start: v.Get("start"), End: v.Get("end")}
	page.JSONURL = pageURL("/admin/v1/traces/map", "start", page.Start, "end", page.End)
	start, end, err := parseRange(v)
	if err != nil {
		page.Err = err.Error()
		p.render(w, http.StatusBadRequest, "map", page)
		return
	}
	page.Map = s.ServiceMap(start, end)
	traces := func(service string, more ...string) string {
		return pageURL("/admin/traces", append([]string{"service", service, "start", page.Start, "end", page.End}, more...)...)
	}
	for _, e := range page.Map.Edges {
		page.Edges = append(page.Edges, mapRow{ServiceEdge: e, CallerURL: traces(e.Caller), CalleeURL: traces(e.Callee),
			ErrorsURL: traces(e.Callee, "error", "true")})
	}
	p.render(w, http.StatusOK, "map", page)
}

// pageURL is path with the query parameters given as name, value pairs, leaving out the
// empty values.
func pageURL(path string, pairs ...string) string {
	q := url.Values{}
	for i := 0; i+1 < len(pairs); i += 2 {
		if pairs[i+1] != "" {
			q.Set(pairs[i], pairs[i+1])
		}
	}
	if len(q) == 0 {
		return path
	}
	return path + "?" + q.Encode()
}

func (s *Store) serveTracePage(p pageSet, w http.ResponseWriter, r *http.Request) {
	id, err := trace.TraceIDFromHex(r.PathValue("id"))
	if err != nil {
		p.render(w, http.StatusBadRequest, "error", errorPage{http.StatusBadRequest,
			"A trace id is 32 lower-case hex digits, not all zero."})
		return
	}
	t, ok := s.Get(id)
	if !ok {
		p.render(w, http.StatusNotFound, "error", errorPage{http.StatusNotFound,
			"No such trace in the store: never stored, or evicted since."})
		return
	}
	rows, hidden := waterfall(t, maxPageSpans)
	p.render(w, http.StatusOK, "trace", tracePage{Trace: t, Rows: rows, Hidden: hidden, Ticks: ticks(t.Duration)})
}

// render executes the named template into a buffer first, so a failure answers 500
// rather than half a page.
func (p pageSet) render(w http.ResponseWriter, status int, name string, data any) {
	var buf bytes.Buffer
	if err := p.tmpl.ExecuteTemplate(&buf, name, data); err != nil {
		buf.Reset()
		status = http.StatusInternalServerError
		_ = p.tmpl.ExecuteTemplate(&buf, "error", errorPage{status, "The page could not be rendered."})
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	// Nothing but the inline styles runs or loads; forms post only here.
	h.Set("Content-Security-Policy",
		"default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// waterfall flattens t depth first into at most limit rows, and says how many spans
// did not fit.
func waterfall(t *Trace, limit int) (rows []waterfallRow, hidden int) {
	var walk func(ns []*Node)
	walk = func(ns []*Node) {
		for _, n := range ns {
			if len(rows) == limit {
				hidden++
			} else {
				row := rowOf(n, t.Duration)
				row.Resource = attrRows(t.Resources[n.Resource])
				rows = append(rows, row)
			}
			walk(n.Children)
		}
	}
	walk(t.Spans)
	return rows, hidden
}

func rowOf(n *Node, total time.Duration) waterfallRow {
	left, width := bar(n.Offset, n.Duration, total)
	row := waterfallRow{
		SpanID: n.SpanID, ParentID: n.ParentID, Service: n.Service, Name: n.Name, Kind: n.Kind,
		Depth: n.Depth, Left: left, Width: width, Offset: n.Offset, Duration: n.Duration,
		Error: n.Status == "error", StatusMessage: n.StatusMessage, Attributes: attrRows(n.Attributes),
	}
	for _, e := range n.Events {
		row.Events = append(row.Events, eventRow{Name: e.Name, Offset: e.Offset, Attributes: attrRows(e.Attributes)})
	}
	return row
}

// bar places a span of duration d starting offset into a trace lasting total: left and
// width in percent, within 0..100 together. A trace of no duration gets full bars.
func bar(offset, d, total time.Duration) (left, width float64) {
	if total <= 0 {
		return 0, 100
	}
	left = min(max(float64(offset)/float64(total)*100, 0), 100)
	width = min(max(float64(d)/float64(total)*100, 0), 100-left)
	return left, width
}

// ticks labels the time axis at each quarter of the trace.
func ticks(total time.Duration) []tick {
	out := make([]tick, 4)
	for i := range out {
		out[i] = tick{Left: float64(i) * 25, Label: total * time.Duration(i) / 4}
	}
	return out
}

// attrRows lists attributes by key; values other than strings show as JSON.
func attrRows(attrs map[string]any) []attrRow {
	rows := make([]attrRow, 0, len(attrs))
	for _, k := range slices.Sorted(maps.Keys(attrs)) {
		rows = append(rows, attrRow{Key: k, Value: attrText(attrs[k])})
	}
	return rows
}

func attrText(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	if b, err := json.Marshal(v); err == nil {
		return string(b)
	}
	return fmt.Sprint(v)
}

// pct formats a percentage for CSS.
func pct(f float64) string { return strconv.FormatFloat(f, 'f', 3, 64) }

// rate formats a share as a percentage for reading.
func rate(f float64) string { return strconv.FormatFloat(f*100, 'f', 1, 64) + "%" }

// indent is the left padding of a span name at depth, in em.
func indent(depth int) string { return strconv.FormatFloat(float64(depth)*1.25, 'f', 2, 64) }

// fmtDuration rounds d for reading: whole microseconds under a second, milliseconds above.
func fmtDuration(d time.Duration) string {
	switch {
	case d >= time.Second:
		d = d.Round(time.Millisecond)
	case d >= time.Millisecond:
		d = d.Round(time.Microsecond)
	}
	return d.String()
}

func fmtTime(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05.000 UTC") }
