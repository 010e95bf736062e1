package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"go.opentelemetry.io/otel/trace"

	"github.com/bangbang-im/bangbang/tracing"
)

const traceUsage = `usage: bangbang trace TRACE_ID [--admin URL] [--admin-key KEY] [--all | --json]

Prints one trace from the staff API's trace store as a tree: each span's offset from the
trace's start, its duration, service and name, ERROR and the status message when it
failed; under it, the attributes and events docs/operations.md reads (user and device,
HTTP status, RPC method and server, SOAP action and fault, IM error code, push counts,
store batch, campaign, why an unsampled span was kept). --all prints every attribute;
--json prints the trace as the API answers it, for jq.

flags:
`

// runTrace prints one trace from the admin API as a tree with durations and the
// attributes a runbook reads, or as JSON.
func runTrace(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	adminURL, key := "http://127.0.0.1:8701", ""
	var all, asJSON bool
	f := newFlagSet("trace", stderr)
	f.str(&adminURL, "admin", "staff API base URL")
	f.str(&key, "admin-key", "staff key")
	f.boolean(&all, "all", "print every attribute of every span and event, not only the runbook's")
	f.boolean(&asJSON, "json", "print the trace as the API answers it (indented JSON, for jq)")
	f.fs.Usage = func() {
		fmt.Fprint(stderr, traceUsage)
		f.fs.PrintDefaults()
	}
	// The id may come before, between or after the flags: parse up to it, take it, then
	// parse the rest.
	if err := f.fs.Parse(args); err != nil {
		return err
	}
	var id string
	rest := f.fs.Args()
	if len(rest) > 0 {
		id, rest = rest[0], rest[1:]
	}
	if err := f.parse(rest); err != nil {
		return err
	}
	if id == "" {
		return errors.New("usage: bangbang trace TRACE_ID [--admin URL] [--admin-key KEY] [--all | --json] (see bangbang trace -h)")
	}
	cl := adminClient{base: strings.TrimRight(adminURL, "/"), key: key, http: &http.Client{Timeout: 30 * time.Second}}
	var raw json.RawMessage
	if err := cl.do(ctx, http.MethodGet, "/admin/v1/traces/"+url.PathEscape(id), nil, &raw); err != nil {
		return fmt.Errorf("trace %s: %w", id, err)
	}
	if asJSON {
		var b bytes.Buffer
		if err := json.Indent(&b, raw, "", "  "); err != nil {
			return fmt.Errorf("trace %s: %w", id, err)
		}
		b.WriteByte('\n')
		_, err := stdout.Write(b.Bytes())
		return err
	}
	var t tracing.Trace
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber() // attribute values print as the API sent them, not as float64
	if err := dec.Decode(&t); err != nil {
		return fmt.Errorf("trace %s: decode: %w", id, err)
	}
	printTrace(stdout, &t, all)
	return nil
}

// printTrace writes the span tree: offset from the trace start, duration, service and
// name, indented by depth, with errors marked; under each span its runbook attributes
// (every attribute with all) and its events.
func printTrace(w io.Writer, t *tracing.Trace, all bool) {
	fmt.Fprintf(w, "trace %s  %s  %s  %s", t.TraceID, t.Start.UTC().Format("2006-01-02T15:04:05.000Z"),
		fmtDur(t.Duration), plural(t.SpanCount, "span"))
	if t.ErrorCount > 0 {
		fmt.Fprintf(w, "  %s", plural(t.ErrorCount, "error"))
	}
	if t.DroppedSpans > 0 {
		fmt.Fprintf(w, "  %s dropped", plural(t.DroppedSpans, "span"))
	}
	if t.Partial {
		fmt.Fprint(w, "  partial")
	}
	fmt.Fprintln(w)
	var walk func(ns []*tracing.Node, depth int)
	walk = func(ns []*tracing.Node, depth int) {
		for _, n := range ns {
			mark := ""
			if n.Status == "error" {
				mark = "  ERROR " + n.StatusMessage
			}
			indent := strings.Repeat("  ", depth)
			fmt.Fprintf(w, "%10s %10s  %s%-8s %s%s\n", "+"+fmtDur(n.Offset), fmtDur(n.Duration),
				indent, n.Service, n.Name, mark)
			// Details start under the service, one step further in than a child would.
			pad := strings.Repeat(" ", 23) + indent + "  "
			printItems(w, pad, pad, attrPairs(n.Attributes, all, n))
			for _, e := range n.Events {
				if !all && e.Name == "exception" && e.Attributes["exception.message"] == any(n.StatusMessage) {
					continue // the same text is on the span line
				}
				head := "event " + e.Name + " +" + fmtDur(e.Offset)
				printItems(w, pad, pad+"  ", append([]string{head}, attrPairs(e.Attributes, all, nil)...))
			}
			walk(n.Children, depth+1)
		}
	}
	walk(t.Spans, 0)
}

// runbookAttrs are the attributes docs/operations.md reads, in the order they are
// printed; an entry ending in "." stands for every key it starts. Read-only.
var runbookAttrs = []string{
	"bangbang.user", "enduser.id", "bangbang.device",
	"soap.fault.kind", "soap.fault.code", "soap.fault.", "bangbang.im.error", "bangbang.kept_for",
	"http.route", "http.response.status_code",
	"rpc.method", "server.address", "soap.action",
	"bangbang.im.batch_trace_id",
	"bangbang.push.", "bangbang.store.", "bangbang.outcome",
	"campaign.",
	"exception.message",
}

// attrRank is k's position in runbookAttrs, or len(runbookAttrs) when a runbook does not
// read it.
func attrRank(k string) int {
	for i, a := range runbookAttrs {
		if a == k || strings.HasSuffix(a, ".") && strings.HasPrefix(k, a) {
			return i
		}
	}
	return len(runbookAttrs)
}

// attrPairs is attrs (of span n, or of an event when n is nil) as key=value, runbook
// attributes first in runbookAttrs' order, then by key. Without all it holds the
// runbook's only, less the uninformative ones of a span.
func attrPairs(attrs map[string]any, all bool, n *tracing.Node) []string {
	keys := make([]string, 0, len(attrs))
	for k, v := range attrs {
		if !all && (attrRank(k) == len(runbookAttrs) || n != nil && uninformative(n, k, v)) {
			continue
		}
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int {
		return cmp.Or(cmp.Compare(attrRank(a), attrRank(b)), strings.Compare(a, b))
	})
	pairs := make([]string, len(keys))
	for i, k := range keys {
		pairs[i] = k + "=" + fmtValue(attrs[k])
	}
	return pairs
}

// uninformative reports whether a runbook attribute of n tells nothing its line does not:
// a route or RPC method its name ends with, or the server.address of a span that is not
// a client's (the address a server was reached at, where a client's names the callee).
func uninformative(n *tracing.Node, k string, v any) bool {
	switch k {
	case "http.route", "rpc.method":
		s, ok := v.(string)
		return ok && strings.HasSuffix(n.Name, s)
	case "server.address":
		return n.Kind != trace.SpanKindClient.String()
	}
	return false
}

// fmtValue is an attribute value as one word: a string quoted when it is empty or holds
// spaces, quotes or control characters (a peer's value must not drive the terminal),
// anything else as JSON.
func fmtValue(v any) string {
	if s, ok := v.(string); ok {
		if s == "" || strings.ContainsFunc(s, func(r rune) bool { return r == '"' || unicode.IsSpace(r) || !unicode.IsPrint(r) }) {
			return strconv.Quote(s)
		}
		return s
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// traceWidth is where printItems wraps a line of details.
const traceWidth = 120

// printItems writes items space-separated after pad, wrapping before traceWidth onto
// lines starting with more.
func printItems(w io.Writer, pad, more string, items []string) {
	if len(items) == 0 {
		return
	}
	line := pad + items[0]
	for _, it := range items[1:] {
		if len(line)+1+len(it) > traceWidth {
			fmt.Fprintln(w, line)
			line = more + it
			continue
		}
		line += " " + it
	}
	fmt.Fprintln(w, line)
}

// plural is "1 span", "2 spans".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}

func fmtDur(d time.Duration) string {
	return fmt.Sprintf("%.3fms", float64(d)/float64(time.Millisecond))
}
