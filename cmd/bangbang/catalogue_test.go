package main

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/bangbang-im/bangbang/marketing/campaign"
	"github.com/bangbang-im/bangbang/tracing"
)

// observedSpan is one span of a stored trace, as the catalogue describes spans.
type observedSpan struct {
	service, kind, name string
	depth               int
}

// TestSpanCatalogue holds docs/operations.md's span catalogue ("The spans of each hop")
// and its healthy marketing action to the spans a real system makes: `bangbang all` on
// PostgreSQL and Redis, every chat trace kept, a traced SDK, a merchant's marketing
// actions, a chat with its acks and read marks, and a campaign. Every row of the table
// must be seen with its service and kind, and every span seen must be in a row.
func TestSpanCatalogue(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile("../../docs/operations.md")
	if err != nil {
		t.Fatal(err)
	}
	rows := parseCatalogue(t, string(doc))

	tcp, edgeAddr, adminAddr := freeAddr(t), freeAddr(t), freeAddr(t)
	env := []string{"BANGBANG_ADMIN_KEY=" + testAdminKey, "DATABASE_URL=" + pgSchema(t), "REDIS_ADDR=127.0.0.1:6379",
		"BANGBANG_REDIS_PREFIX=bbtest:" + strings.ToLower(t.Name()) + ":" + time.Now().Format("150405.000000") + ":"}
	start(t, "all", env, []string{tcp, edgeAddr, adminAddr}, "all", "--demo", "--data-dir", t.TempDir(), "--trace-chat-ratio", "1", "--trace-read-ratio", "1",
		"--tcp-addr", tcp, "--ws-addr", "-", "--edge-addr", edgeAddr, "--admin-addr", adminAddr,
		"--sim-housing-addr", freeAddr(t), "--sim-recruitment-addr", freeAddr(t), "--sim-account-addr", freeAddr(t))
	s := system{edge: "http://" + edgeAddr, imAddr: tcp, admin: "http://" + adminAddr}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	// The app traces its sends and exports them to the admin's store, as a cluster's
	// processes do.
	otlp := map[string]string{}
	for _, kv := range otlpEnv(adminAddr) {
		k, v, _ := strings.Cut(kv, "=")
		otlp[k] = v
	}
	app, err := tracing.Setup(ctx, tracing.Config{Process: "test-app", ChatSampleRatio: 1, StoreBytes: -1,
		Env: func(k string) string { return otlp[k] }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = app.Shutdown(context.Background()) })

	// Marketing: a read, a refresh, a paid promotion and a refused refresh.
	lr, err := login(ctx, s.edge, "m1019", "demo")
	if err != nil {
		t.Fatal(err)
	}
	e := edgeCall{t: t, base: s.edge, token: lr.Token}
	if st, b, _ := e.do("GET", "/v1/credits", "", nil); st != 200 {
		t.Fatalf("credits: %d %v", st, b)
	}
	st, b, refreshHdr := e.do("POST", "/v1/listings/Lm1019-01/refresh", "", nil)
	if st != 200 {
		t.Fatalf("refresh: %d %v", st, b)
	}
	st, b, promoHdr := e.do("POST", "/v1/listings/Lm1019-02/promotions", `{"days": 1}`, map[string]string{"Idempotency-Key": "catalogue-1"})
	if st != 200 {
		t.Fatalf("promote: %d %v", st, b)
	}
	if st, b, _ := e.do("POST", "/v1/listings/Lm1020-01/refresh", "", nil); st != 403 {
		t.Fatalf("another's listing: %d %v", st, b)
	}

	// Chat: a traced send, pushed, acked and read.
	receiver := dialUser(t, ctx, s, "c1019", "phone")
	sender := dialTraced(t, ctx, s, "m1019", "phone", app.Provider("im-client"))
	if _, err := sender.Send(ctx, "c1019", "text/plain", []byte("still available?")); err != nil {
		t.Fatal(err)
	}
	got := receiveFrom(t, receiver, "m1019", 1)
	if _, err := receiver.MarkRead(ctx, got[0].ConvID, got[0].ConvSeq); err != nil {
		t.Fatal(err)
	}
	if err := app.ForceFlush(ctx); err != nil {
		t.Fatal(err)
	}

	// A campaign to the merchant.
	api := staffAPI{t, s.admin}
	var c campaign.Campaign
	spec := campaign.Spec{Name: "catalogue", Rate: 10, Audience: campaign.Audience{MerchantIDs: []string{"m1019"}},
		Message: campaign.Message{Title: "Hi", Body: "Spring offer"}}
	if st := api.json("POST", "/admin/v1/campaigns", spec, &c); st != 201 {
		t.Fatalf("create campaign: %d", st)
	}
	if st := api.json("POST", "/admin/v1/campaigns/"+c.ID+"/start", nil, nil); st != 200 {
		t.Fatalf("start campaign: %d", st)
	}
	api.waitCampaign(c.ID, "finished", func(c campaign.Campaign) bool { return c.State == campaign.StateFinished })

	// Spans arrive on their own schedules (the sim's ends after its answer, the app's are
	// batched): wait until every row is seen, then check the other way round.
	var spans []observedSpan
	var missing []string
	deadline := time.Now().Add(15 * time.Second)
	for {
		spans = storedSpans(t, ctx, s)
		if missing = rows.unseen(spans, false); len(missing) == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond) // polling the store for a condition
	}
	for _, m := range missing {
		t.Errorf("catalogue row never seen: %s", m)
	}
	for _, sp := range spans {
		if !rows.covers(sp) {
			t.Errorf("span not in the catalogue: %s %s (%s)", sp.service, sp.name, sp.kind)
		}
	}
	// The healthy promotion of "Follow a marketing action", span for span.
	want := documentedAction(t, string(doc))
	if got := actionTree(t, ctx, s, promoHdr); !sameTree(got, want) {
		t.Errorf("a promotion's spans:\n%s\noperations.md shows:\n%s", fmtTree(got), fmtTree(want))
	}
	// A refresh is the same without the idempotency scripts.
	if got, want := actionTree(t, ctx, s, refreshHdr), []observedSpan{
		{"edge", "", "POST /v1/listings/:id/refresh", 0}, {"edge", "", "evalsha", 1},
		{"edge", "", "housing/RefreshListing", 1}, {"sim", "", "POST /soap/housing/v1", 2},
	}; !sameTree(got, want) {
		t.Errorf("a refresh's spans:\n%s\nwant:\n%s", fmtTree(got), fmtTree(want))
	}
}

// actionTree is the trace an edge answer's traceresponse names, in order, once the
// simulator's span (which ends after its answer) is in.
func actionTree(t *testing.T, ctx context.Context, s system, h http.Header) []observedSpan {
	t.Helper()
	parts := strings.Split(h.Get("traceresponse"), "-")
	if len(parts) != 4 {
		t.Fatalf("traceresponse %q", h.Get("traceresponse"))
	}
	id, err := trace.TraceIDFromHex(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	tr := waitAdminTrace(t, ctx, s, id, func(tr *tracing.Trace) bool { return findSpan(tr.Spans, "sim", "POST /soap/housing/v1") != nil })
	var out []observedSpan
	var walk func([]*tracing.Node, int)
	walk = func(ns []*tracing.Node, depth int) {
		for _, n := range ns {
			out = append(out, observedSpan{service: n.Service, name: n.Name, depth: depth})
			walk(n.Children, depth+1)
		}
	}
	walk(tr.Spans, 0)
	// A script Redis had not cached (after a restart, or another test's SCRIPT FLUSH)
	// runs as evalsha then eval, as the doc says: the tree is the same action.
	var action []observedSpan
	for i, sp := range out {
		if sp.name == "eval" && i > 0 && out[i-1].name == "evalsha" && out[i-1].depth == sp.depth {
			continue
		}
		action = append(action, sp)
	}
	return action
}

// documentedAction reads the span tree in the first code block of "Follow a marketing
// action", as `bangbang trace` prints it: a span's line starts with its offset, then
// its duration, two spaces, two more per level of depth, its service and its name. The
// header and the attribute lines under each span are skipped.
func documentedAction(t *testing.T, doc string) []observedSpan {
	t.Helper()
	_, section, _ := strings.Cut(doc, "## Follow a marketing action\n")
	_, block, _ := strings.Cut(section, "```\n")
	block, _, _ = strings.Cut(block, "```")
	spanLine := regexp.MustCompile(`^\s*\+[0-9.]+ms +[0-9.]+ms  ( *)(\S+) +(.+?)\s*$`)
	var out []observedSpan
	for _, l := range strings.Split(block, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(l), "+") {
			continue
		}
		m := spanLine.FindStringSubmatch(l)
		if m == nil {
			t.Fatalf("operations.md's marketing action tree: cannot read %q", l)
		}
		out = append(out, observedSpan{service: m[2], name: m[3], depth: len(m[1]) / 2})
	}
	if len(out) < 3 {
		t.Fatalf("operations.md's marketing action tree has %d spans", len(out))
	}
	return out
}

// sameTree compares trees by depth, service and name; a span of bangbang-all (the one
// process's Redis client) stands for whichever component the doc names.
func sameTree(got, want []observedSpan) bool {
	return slices.EqualFunc(got, want, func(g, w observedSpan) bool {
		return g.depth == w.depth && g.name == w.name && (g.service == w.service || g.service == "bangbang-all")
	})
}

func fmtTree(spans []observedSpan) string {
	var b strings.Builder
	for _, sp := range spans {
		b.WriteString(strings.Repeat("  ", sp.depth) + sp.service + "  " + sp.name + "\n")
	}
	return b.String()
}

// storedSpans lists every span of every trace in the admin's store.
func storedSpans(t *testing.T, ctx context.Context, s system) []observedSpan {
	t.Helper()
	var out []observedSpan
	for _, sum := range listAdminTraces(t, ctx, s) {
		var tr tracing.Trace
		getAdmin(t, ctx, s, "/admin/v1/traces/"+sum.TraceID, &tr)
		var walk func([]*tracing.Node, int)
		walk = func(ns []*tracing.Node, depth int) {
			for _, n := range ns {
				out = append(out, observedSpan{service: n.Service, kind: n.Kind, name: n.Name, depth: depth})
				walk(n.Children, depth+1)
			}
		}
		walk(tr.Spans, 0)
	}
	return out
}

func getAdmin(t *testing.T, ctx context.Context, s system, path string, out any) {
	t.Helper()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.admin+path, nil)
	req.Header.Set("Authorization", "Bearer "+testAdminKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d", path, resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
}

// catalogueRow is one row of the catalogue: its names, and the (service, kind) pairs it
// may appear as.
type catalogueRow struct {
	text    string
	names   []*regexp.Regexp
	exact   []string // names without a varying part: each must be seen
	pairs   [][2]string
	between bool // only where the two ends run as separate processes
}

type catalogue []catalogueRow

// optionalNames are the catalogue's exact names that a healthy run makes only some of
// the time: a new connection (pgx's connect, Redis's hello) or Redis's script cache
// found empty (eval), and a pool's wait.
var optionalNames = []string{"connect", "pool.acquire", "hello"}

// unseen lists the rows (and exact names) no span matches, leaving out the rows between
// processes unless between is set, and the others if it is.
func (c catalogue) unseen(spans []observedSpan, between bool) []string {
	var out []string
	for _, r := range c {
		if r.between != between {
			continue
		}
		if !slices.ContainsFunc(spans, r.matches) {
			out = append(out, r.text)
			continue
		}
		for _, name := range r.exact {
			if !slices.Contains(optionalNames, name) && !slices.ContainsFunc(spans, func(sp observedSpan) bool {
				return sp.name == name && r.matches(sp)
			}) {
				out = append(out, name+" (in "+r.text+")")
			}
		}
	}
	return out
}

func (c catalogue) covers(sp observedSpan) bool {
	return slices.ContainsFunc(c, func(r catalogueRow) bool { return r.matches(sp) })
}

func (r catalogueRow) matches(sp observedSpan) bool {
	return slices.Contains(r.pairs, [2]string{sp.service, sp.kind}) &&
		slices.ContainsFunc(r.names, func(re *regexp.Regexp) bool { return re.MatchString(sp.name) })
}

var (
	backticked  = regexp.MustCompile("`([^`]+)`")
	varyingPart = regexp.MustCompile(`\{[^}]*\}`)
	parentheses = regexp.MustCompile(`\([^)]*\)`)
)

// parseCatalogue reads the table under "### The spans of each hop": in the first column
// the names, `{…}` standing for a varying part ({…} ending in an ellipsis for several
// words); in the second the services, alternatives separated by commas, "a → b" pairing
// with a kind "client → server"; a row saying "between processes" is such a pair.
func parseCatalogue(t *testing.T, doc string) catalogue {
	t.Helper()
	_, section, ok := strings.Cut(doc, "### The spans of each hop\n")
	if !ok {
		t.Fatal("operations.md has no span catalogue")
	}
	section, _, _ = strings.Cut(section, "\n#")
	var c catalogue
	for _, line := range strings.Split(section, "\n") {
		if !strings.HasPrefix(line, "| `") {
			continue
		}
		cells := strings.Split(strings.Trim(line, "| "), " | ")
		if len(cells) != 4 {
			t.Fatalf("catalogue row with %d cells: %s", len(cells), line)
		}
		r := catalogueRow{text: cells[0], between: strings.Contains(cells[1], "between processes")}
		for _, m := range backticked.FindAllStringSubmatch(cells[0], -1) {
			name := m[1]
			if !varyingPart.MatchString(name) {
				r.exact = append(r.exact, name)
			}
			// QuoteMeta escapes the braces too: undo that, then replace the varying parts.
			pattern := strings.NewReplacer(`\{`, "{", `\}`, "}").Replace(regexp.QuoteMeta(name))
			pattern = varyingPart.ReplaceAllStringFunc(pattern, func(v string) string {
				if strings.HasSuffix(v, "…}") {
					return ".+"
				}
				return `\S+`
			})
			r.names = append(r.names, regexp.MustCompile("^"+pattern+"$"))
		}
		kinds := strings.Split(cells[2], " → ")
		for _, alt := range strings.Split(parentheses.ReplaceAllString(cells[1], ""), ",") {
			services := strings.Split(strings.TrimSpace(alt), " → ")
			if len(services) != len(kinds) {
				t.Fatalf("catalogue row %s: services %q against kinds %q", cells[0], alt, cells[2])
			}
			for i := range services {
				r.pairs = append(r.pairs, [2]string{strings.TrimSpace(services[i]), strings.TrimSpace(kinds[i])})
			}
		}
		if len(r.names) == 0 {
			t.Fatalf("catalogue row without a name: %s", line)
		}
		c = append(c, r)
	}
	if len(c) < 10 {
		t.Fatalf("span catalogue has %d rows", len(c))
	}
	return c
}
