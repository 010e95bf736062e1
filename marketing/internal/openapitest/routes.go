package openapitest

import (
	"fmt"
	"slices"
	"strings"
)

// Route names a registered route the way Routes names a documented one: the method, a
// space, and the path with each Hertz parameter (":id") written as the document does
// ("{id}").
func Route(method, path string) string {
	segs := strings.Split(path, "/")
	for i, seg := range segs {
		if p, ok := strings.CutPrefix(seg, ":"); ok {
			segs[i] = "{" + p + "}"
		}
	}
	return method + " " + strings.Join(segs, "/")
}

// MatchRoutes reports, as an error, how the routes a server registers (each as Route
// names it) differ from the routes the document describes; nil when they are the same.
func (d *Document) MatchRoutes(registered []string) error {
	documented := d.Routes()
	registered = slices.Sorted(slices.Values(registered))
	if slices.Equal(registered, documented) {
		return nil
	}
	return fmt.Errorf("routes differ:\nregistered, not documented %q\ndocumented, not registered %q",
		missing(registered, documented), missing(documented, registered))
}

// missing lists the elements of a that b lacks.
func missing(a, b []string) []string {
	var out []string
	for _, s := range a {
		if !slices.Contains(b, s) {
			out = append(out, s)
		}
	}
	return out
}

// RouteOf maps a request path to the documented path it matches. A literal path wins;
// otherwise, among the templates that match segment by segment, the one with the most
// literal segments does ("/things/search" before "/things/{id}").
func (d *Document) RouteOf(path string) (string, bool) {
	if _, ok := d.Paths[path]; ok {
		return path, true
	}
	segs := strings.Split(path, "/")
	best, bestLiterals := "", -1
	for pattern := range d.Paths {
		if n, ok := literalsMatched(strings.Split(pattern, "/"), segs); ok &&
			(n > bestLiterals || n == bestLiterals && pattern < best) {
			best, bestLiterals = pattern, n
		}
	}
	return best, bestLiterals >= 0
}

// literalsMatched reports whether the template segments ps match the path segments segs,
// and how many of ps are literal.
func literalsMatched(ps, segs []string) (int, bool) {
	if len(ps) != len(segs) {
		return 0, false
	}
	n := 0
	for i, p := range ps {
		if strings.HasPrefix(p, "{") {
			continue
		}
		if p != segs[i] {
			return 0, false
		}
		n++
	}
	return n, true
}
