package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"

	"gopkg.in/yaml.v3"

	"github.com/bangbang-im/bangbang/marketing/campaign"
)

// The alert rules and the Grafana dashboard of deploy/ are held to what they watch:
// promtool accepts them, every alert names its severity and a section of
// docs/operations.md that exists, and every metric they read is one a running bangbang
// exports.

const (
	alertsFile     = "../../deploy/prometheus/alerts.yml"
	alertTestsFile = "../../deploy/prometheus/alerts_test.yml"
	promConfigFile = "../../deploy/prometheus/prometheus.yml"
	dashboardFile  = "../../deploy/grafana/bangbang.json"
	operationsFile = "../../docs/operations.md"
	runbookBase    = "https://github.com/bangbang-im/bangbang/blob/main/docs/operations.md#"
)

// metricsNotFromAll are the metrics the alerts or the dashboard may read although a
// `bangbang all` driven by TestAlertsMetricsExist does not export them: the source file
// declaring a bangbang one, or "" for another exporter's.
var metricsNotFromAll = map[string]string{
	// The blackbox exporter's probe of /readyz (deploy/prometheus/prometheus.yml).
	"probe_success": "",
	// Counted only once a push failed (Redis or a gateway unreachable from logic), which
	// cannot happen to the in-process route table and gateway of `bangbang all`.
	"bangbang_logic_push_retries_total": "../../core-im/logic/observe.go",
}

type alertRule struct {
	Alert       string            `yaml:"alert,omitempty"`
	Record      string            `yaml:"record,omitempty"`
	Expr        string            `yaml:"expr"`
	For         string            `yaml:"for,omitempty"`
	Labels      map[string]string `yaml:"labels,omitempty"`
	Annotations map[string]string `yaml:"annotations,omitempty"`
}

type ruleGroup struct {
	Name  string      `yaml:"name"`
	Rules []alertRule `yaml:"rules"`
}

func readAlertRules(t *testing.T) []alertRule {
	t.Helper()
	b, err := os.ReadFile(alertsFile)
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Groups []ruleGroup `yaml:"groups"`
	}
	if err := yaml.Unmarshal(b, &f); err != nil {
		t.Fatalf("%s: %v", alertsFile, err)
	}
	var rules []alertRule
	for _, g := range f.Groups {
		rules = append(rules, g.Rules...)
	}
	if len(rules) == 0 {
		t.Fatalf("%s has no rule", alertsFile)
	}
	return rules
}

type dashPanel struct {
	ID         int    `json:"id"`
	Type       string `json:"type"`
	Title      string `json:"title"`
	Datasource *struct {
		Type string `json:"type"`
		UID  string `json:"uid"`
	} `json:"datasource"`
	Targets []struct {
		RefID string `json:"refId"`
		Expr  string `json:"expr"`
	} `json:"targets"`
	Panels []dashPanel `json:"panels"` // a collapsed row's
}

type dashVar struct {
	Name  string `json:"name"`
	Type  string `json:"type"`
	Query any    `json:"query"`
}

type dashboard struct {
	SchemaVersion int `json:"schemaVersion"`
	Templating    struct {
		List []dashVar `json:"list"`
	} `json:"templating"`
	Panels []dashPanel `json:"panels"`
}

func readDashboard(t *testing.T) dashboard {
	t.Helper()
	b, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("%s: %v", dashboardFile, err)
	}
	return d
}

// query is one PromQL expression of the alerts or the dashboard, and where it is.
type query struct{ where, expr string }

func (d dashboard) queries() []query {
	var out []query
	var walk func([]dashPanel)
	walk = func(ps []dashPanel) {
		for _, p := range ps {
			for _, tg := range p.Targets {
				out = append(out, query{fmt.Sprintf("panel %q %s", p.Title, tg.RefID), tg.Expr})
			}
			walk(p.Panels)
		}
	}
	walk(d.Panels)
	return out
}

func alertQueries(rules []alertRule) []query {
	var out []query
	for _, r := range rules {
		out = append(out, query{"alert " + r.Alert + r.Record, r.Expr})
	}
	return out
}

// grafanaVars are the dashboard's variables as they appear in its queries.
var grafanaVars = regexp.MustCompile(`\$__\w+|\$\{\w+\}|\$\w+`)

// TestAlertsPromtool: promtool accepts the rules, the configuration and the dashboard's
// queries, and the rules' unit tests pass.
func TestAlertsPromtool(t *testing.T) {
	t.Parallel()
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Skip("promtool not found: install Debian's prometheus package (apt-get install prometheus) to check the alert rules")
	}
	run := func(args ...string) {
		t.Helper()
		if out, err := exec.Command(promtool, args...).CombinedOutput(); err != nil {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	run("check", "rules", alertsFile)
	run("test", "rules", alertTestsFile)
	run("check", "config", promConfigFile)

	// The dashboard's queries as recording rules, Grafana's variables replaced by what
	// they stand for ($__rate_interval a range, $instance a regular expression): promtool
	// parses every one.
	var rules []alertRule
	for i, q := range readDashboard(t).queries() {
		expr := grafanaVars.ReplaceAllStringFunc(q.expr, func(v string) string {
			if strings.HasPrefix(v, "$__") {
				return "5m"
			}
			return ".*"
		})
		rules = append(rules, alertRule{Record: fmt.Sprintf("dashboard_query_%d", i), Expr: expr})
	}
	b, err := yaml.Marshal(map[string][]ruleGroup{"groups": {{Name: "dashboard", Rules: rules}}})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "dashboard-queries.yml")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	run("check", "rules", path)
}

// TestAlertsRunbooks: every alert says how bad it is, what happens, and where its runbook
// is: a section docs/operations.md has.
func TestAlertsRunbooks(t *testing.T) {
	t.Parallel()
	anchors := markdownAnchors(t, operationsFile)
	seen := map[string]bool{}
	for _, r := range readAlertRules(t) {
		if r.Alert == "" {
			continue
		}
		if seen[r.Alert] {
			t.Errorf("alert %s defined twice", r.Alert)
		}
		seen[r.Alert] = true
		if s := r.Labels["severity"]; s != "page" && s != "ticket" {
			t.Errorf("alert %s: severity %q, want page or ticket", r.Alert, s)
		}
		if strings.TrimSpace(r.Annotations["summary"]) == "" {
			t.Errorf("alert %s has no summary", r.Alert)
		}
		url := r.Annotations["runbook_url"]
		anchor, ok := strings.CutPrefix(url, runbookBase)
		if !ok {
			t.Errorf("alert %s: runbook_url %q is not a section of %s", r.Alert, url, runbookBase)
		} else if !anchors[anchor] {
			t.Errorf("alert %s: runbook_url %q: docs/operations.md has no heading #%s", r.Alert, url, anchor)
		}
	}
}

// markdownAnchors lists the anchors GitHub gives the headings of a Markdown file.
func markdownAnchors(t *testing.T, path string) map[string]bool {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	heading := regexp.MustCompile(`^#{1,6}\s+(.+?)\s*$`)
	anchors, count := map[string]bool{}, map[string]int{}
	fenced := false
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "```") {
			fenced = !fenced
			continue
		}
		m := heading.FindStringSubmatch(line)
		if fenced || m == nil {
			continue
		}
		slug := githubSlug(m[1])
		if n := count[slug]; n > 0 {
			anchors[fmt.Sprintf("%s-%d", slug, n)] = true
		} else {
			anchors[slug] = true
		}
		count[slug]++
	}
	return anchors
}

// githubSlug is GitHub's anchor for a heading: lower case, spaces to hyphens, every other
// character but letters, digits, hyphens and underscores dropped.
func githubSlug(h string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(h) {
		switch {
		case unicode.IsLetter(r), unicode.IsDigit(r), r == '-', r == '_':
			b.WriteRune(r)
		case r == ' ':
			b.WriteByte('-')
		}
	}
	return b.String()
}

// TestAlertsDashboard: the dashboard reads a Prometheus chosen by its ${datasource}
// variable, panel by panel, and every panel has a query.
func TestAlertsDashboard(t *testing.T) {
	t.Parallel()
	d := readDashboard(t)
	if d.SchemaVersion < 36 {
		t.Errorf("schemaVersion %d: a dashboard for Grafana 9 or later has 36 or more", d.SchemaVersion)
	}
	if !slices.ContainsFunc(d.Templating.List, func(v dashVar) bool {
		return v.Name == "datasource" && v.Type == "datasource" && v.Query == "prometheus"
	}) {
		t.Error("no templating variable datasource of type datasource, query prometheus")
	}
	ids := map[int]bool{}
	var walk func([]dashPanel)
	walk = func(ps []dashPanel) {
		for _, p := range ps {
			if ids[p.ID] {
				t.Errorf("panel %q: id %d used twice", p.Title, p.ID)
			}
			ids[p.ID] = true
			walk(p.Panels)
			if p.Type == "row" {
				continue
			}
			if p.Datasource == nil || p.Datasource.UID != "${datasource}" || p.Datasource.Type != "prometheus" {
				t.Errorf("panel %q: datasource %+v, want the prometheus ${datasource}", p.Title, p.Datasource)
			}
			if len(p.Targets) == 0 {
				t.Errorf("panel %q has no query", p.Title)
			}
			for _, tg := range p.Targets {
				if strings.TrimSpace(tg.Expr) == "" {
					t.Errorf("panel %q: query %s is empty", p.Title, tg.RefID)
				}
			}
		}
	}
	walk(d.Panels)
}

// promQLKeywords are the words of PromQL that are neither metric names nor functions
// called with parentheses right after them.
var promQLKeywords = map[string]bool{
	"and": true, "or": true, "unless": true, "bool": true, "offset": true, "inf": true, "nan": true,
	"sum": true, "min": true, "max": true, "avg": true, "group": true, "stddev": true, "stdvar": true,
	"count": true, "count_values": true, "bottomk": true, "topk": true, "quantile": true,
	"limitk": true, "limit_ratio": true, "atan2": true,
}

// promQLLabelLists are the keywords a list of label names follows.
var promQLLabelLists = map[string]bool{
	"by": true, "without": true, "on": true, "ignoring": true, "group_left": true, "group_right": true,
}

// promQLMetrics returns the metric names a PromQL expression reads: its identifiers
// outside strings, label matchers, ranges and label lists that are neither keywords nor
// functions.
func promQLMetrics(expr string) []string {
	isIdent := func(c byte) bool {
		return c == '_' || c == ':' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
	}
	// skip returns the index just past the close matching the open at i, passing over
	// strings.
	skip := func(i int, close byte) int {
		for i++; i < len(expr) && expr[i] != close; i++ {
			if q := expr[i]; q == '"' || q == '\'' || q == '`' {
				for i++; i < len(expr) && expr[i] != q; i++ {
					if expr[i] == '\\' {
						i++
					}
				}
			}
		}
		return i + 1
	}
	var names []string
	for i := 0; i < len(expr); {
		c := expr[i]
		switch {
		case c == '"' || c == '\'' || c == '`':
			i = skip(i, c)
		case c == '{':
			i = skip(i, '}')
		case c == '[':
			i = skip(i, ']')
		case c == '#':
			for i < len(expr) && expr[i] != '\n' {
				i++
			}
		case c >= '0' && c <= '9' || c == '.': // a number or a duration
			for i < len(expr) && (isIdent(expr[i]) || expr[i] == '.') {
				i++
			}
		case isIdent(c):
			j := i
			for j < len(expr) && isIdent(expr[j]) {
				j++
			}
			word := expr[i:j]
			k := j
			for k < len(expr) && unicode.IsSpace(rune(expr[k])) {
				k++
			}
			switch {
			case promQLLabelLists[word]:
				if k < len(expr) && expr[k] == '(' {
					j = skip(k, ')')
				}
			case promQLKeywords[word], k < len(expr) && expr[k] == '(':
			default:
				names = append(names, word)
			}
			i = j
		default:
			i++
		}
	}
	return names
}

func TestAlertsPromQLMetrics(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		expr string
		want []string
	}{
		{`histogram_quantile(0.99, sum by (le, op) (rate(a_seconds_bucket{op="SEND",x=~"a}b"}[5m]))) > 0.25`, []string{"a_seconds_bucket"}},
		{`sum(rate(a_total{s=~"5.."}[$__rate_interval])) / sum(rate(b_total[5m])) > 0.02`, []string{"a_total", "b_total"}},
		{"max(a{state=\"running\"}) > (count(b) or vector(0))", []string{"a", "b"}},
		{"sum by (instance) (a offset 10m) < 0.5 * sum without(x) (b) and on (i) group_left (j) c > 1e3", []string{"a", "b", "c"}},
		{"sum(a) by (le) # a comment naming no_metric\n + probe_success{job=\"x\"} == 0", []string{"a", "probe_success"}},
	} {
		if got := promQLMetrics(tc.expr); !slices.Equal(got, tc.want) {
			t.Errorf("promQLMetrics(%q) = %q, want %q", tc.expr, got, tc.want)
		}
	}
}

// TestAlertsMetricsExist drives a `bangbang all --demo` through a login, a marketing
// action, an IM message and a campaign, and checks that every metric the alerts and the
// dashboard read is on its /metrics: a renamed or misspelt metric fails here, not on the
// night its alert should have fired.
func TestAlertsMetricsExist(t *testing.T) {
	t.Parallel()
	used := map[string][]string{} // metric name: where it is read
	for _, q := range append(alertQueries(readAlertRules(t)), readDashboard(t).queries()...) {
		for _, name := range promQLMetrics(q.expr) {
			if !slices.Contains(used[name], q.where) {
				used[name] = append(used[name], q.where)
			}
		}
	}
	for name, decl := range metricsNotFromAll {
		if decl != "" {
			if b, err := os.ReadFile(decl); err != nil || !strings.Contains(string(b), `"`+name+`"`) {
				t.Errorf("%s does not declare %s (%v)", decl, name, err)
			}
		}
		delete(used, name)
	}
	if len(used) < 20 {
		t.Fatalf("only %d metrics read by the alerts and the dashboard: %v", len(used), used)
	}

	s := startAllProc(t, nil)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	lr, err := login(ctx, s.edge, "m1001", "demo")
	if err != nil {
		t.Fatal(err)
	}
	if st, body, _ := (edgeCall{t: t, base: s.edge, token: lr.Token}).do("POST", "/v1/listings/Lm1001-01/refresh", "", nil); st != http.StatusOK {
		t.Fatalf("refresh: %d %v", st, body)
	}
	if _, err := dialUser(t, ctx, s, "m1001", "phone").Send(ctx, "c1001", "text/plain", []byte("hello")); err != nil {
		t.Fatal(err)
	}
	// A campaign at 1 message a second: its send rate is exported while it runs (5 s).
	api := staffAPI{t, s.admin}
	var c campaign.Campaign
	spec := campaign.Spec{Name: "alerts", Rate: 1, Message: campaign.Message{Title: "Hi", Body: "offer"},
		Audience: campaign.Audience{MerchantIDs: []string{"m1001", "m1002", "m1003", "m1004", "m1005"}}}
	if st := api.json("POST", "/admin/v1/campaigns", spec, &c); st != http.StatusCreated {
		t.Fatalf("create campaign: %d", st)
	}
	if st := api.json("POST", "/admin/v1/campaigns/"+c.ID+"/start", struct{}{}, nil); st != http.StatusOK {
		t.Fatalf("start campaign: %d", st)
	}

	metricsAddr := strings.TrimPrefix(s.admin, "http://") // `all` serves every component's metrics there
	// Seen on any scrape: the campaign's send rate goes when the campaign ends.
	exported := map[string]bool{}
	deadline := time.Now().Add(15 * time.Second)
	for {
		maps.Copy(exported, seriesNames(t, metricsAddr))
		var missing []string
		for name, where := range used {
			if !exported[name] {
				missing = append(missing, fmt.Sprintf("%s (read by %s)", name, strings.Join(where, ", ")))
			}
		}
		if len(missing) == 0 {
			return
		}
		if time.Now().After(deadline) {
			slices.Sort(missing)
			t.Fatalf("not exported by bangbang all:\n  %s", strings.Join(missing, "\n  "))
		}
		time.Sleep(50 * time.Millisecond) // polling the campaign's first batch, not synchronising
	}
}

// seriesNames lists the names of the samples a /metrics page has: a histogram's
// _bucket, _sum and _count, never its bare name.
func seriesNames(t *testing.T, addr string) map[string]bool {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	names := map[string]bool{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		if i := strings.IndexAny(line, "{ "); i > 0 {
			names[line[:i]] = true
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return names
}
