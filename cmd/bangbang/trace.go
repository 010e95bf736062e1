package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/bangbang-im/bangbang/tracing"
)

// runTrace prints one trace from the admin API as a tree with durations:
// bangbang trace [--admin URL] [--admin-key KEY] TRACE_ID
func runTrace(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var id string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		id, args = args[0], args[1:]
	}
	adminURL, key := "http://127.0.0.1:8701", ""
	f := newFlagSet("trace", stderr)
	f.str(&adminURL, "admin", "admin API base URL")
	f.str(&key, "admin-key", "staff key")
	if err := f.parse(args); err != nil {
		return err
	}
	if id == "" {
		return errors.New("usage: bangbang trace TRACE_ID [--admin URL] [--admin-key KEY]")
	}
	cl := adminClient{base: strings.TrimRight(adminURL, "/"), key: key, http: http.DefaultClient}
	var t tracing.Trace
	if err := cl.do(ctx, http.MethodGet, "/admin/v1/traces/"+url.PathEscape(id), nil, &t); err != nil {
		return fmt.Errorf("trace %s: %w", id, err)
	}
	printTrace(stdout, &t)
	return nil
}

// printTrace writes the span tree: offset from the trace start, duration, service and
// name, indented by depth, with errors marked.
func printTrace(w io.Writer, t *tracing.Trace) {
	fmt.Fprintf(w, "trace %s  %s  %d spans\n", t.TraceID, fmtDur(t.Duration), t.SpanCount)
	var walk func(ns []*tracing.Node, depth int)
	walk = func(ns []*tracing.Node, depth int) {
		for _, n := range ns {
			mark := ""
			if n.Status == "error" {
				mark = "  ERROR " + n.StatusMessage
			}
			fmt.Fprintf(w, "%10s %10s  %s%-8s %s%s\n", "+"+fmtDur(n.Offset), fmtDur(n.Duration),
				strings.Repeat("  ", depth), n.Service, n.Name, mark)
			walk(n.Children, depth+1)
		}
	}
	walk(t.Spans, 0)
}

func fmtDur(d time.Duration) string {
	return fmt.Sprintf("%.3fms", float64(d)/float64(time.Millisecond))
}
