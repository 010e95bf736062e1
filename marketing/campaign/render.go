package campaign

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"text/template"
)

// ContentType is the content type of a campaign message's body (a JSON Rendered) in the
// recipient's system conversation. docs/protocol.md shows it.
const ContentType = "application/vnd.bangbang.campaign+json"

// ClickHeader is the header an app sends with the edge call a campaign's button makes,
// naming the campaign: the edge records the click against it.
const ClickHeader = "X-Bangbang-Campaign"

// actionType is a marketing action a button can perform: one edge route.
type actionType struct {
	method, path string // path with {target} where the listing or job id goes
	needsTarget  bool
}

var actionTypes = map[string]actionType{
	"credits":         {method: "GET", path: "/v1/credits"},
	"credit_packages": {method: "GET", path: "/v1/credit-packages"},
	"leads":           {method: "GET", path: "/v1/leads"},
	"listing.refresh": {method: "POST", path: "/v1/listings/{target}/refresh", needsTarget: true},
	"listing.promote": {method: "POST", path: "/v1/listings/{target}/promotions", needsTarget: true},
	"listing.stats":   {method: "GET", path: "/v1/listings/{target}/stats", needsTarget: true},
	"job.refresh":     {method: "POST", path: "/v1/jobs/{target}/refresh", needsTarget: true},
	"job.promote":     {method: "POST", path: "/v1/jobs/{target}/promotions", needsTarget: true},
	"job.applicants":  {method: "GET", path: "/v1/jobs/{target}/applicants", needsTarget: true},
}

// ActionTypes lists the button actions, sorted.
func ActionTypes() []string {
	names := make([]string, 0, len(actionTypes))
	for n := range actionTypes {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Rendered is a campaign message as one merchant receives it: the JSON body of the IM
// message.
type Rendered struct {
	CampaignID string          `json:"campaign_id"`
	Title      string          `json:"title"`
	Body       string          `json:"body"`
	Action     *RenderedAction `json:"action,omitempty"`
	Test       bool            `json:"test,omitempty"` // a test-send: not counted in the campaign's stats
}

// RenderedAction is the button: the app shows Label and, when tapped, calls the edge with
// Method and Path (and the ClickHeader naming the campaign).
type RenderedAction struct {
	Label  string `json:"label"`
	Type   string `json:"type"`
	Method string `json:"method"`
	Path   string `json:"path"`
}

// templateData is what a template sees: {{.Name}}, {{.City}}...
type templateData struct {
	ID, Name, City, Category string
	Tags                     []string
}

// sampleMerchant is what a template is tried against when saved.
var sampleMerchant = Merchant{ID: "m0", Name: "Sample", City: "City", Category: "category", Tags: []string{"tag"}}

// Render renders sp's message for merchant m.
func Render(id string, sp Spec, m Merchant, test bool) (Rendered, error) {
	rd, err := newRenderer(id, sp, test)
	if err != nil {
		return Rendered{}, err
	}
	return rd.render(m)
}

// renderer is a spec's templates parsed once, to render for many merchants: a batch
// parses them once, not once per recipient.
type renderer struct {
	id                         string
	test                       bool
	title, body, label, target *template.Template // label, target: nil without a button (target: or without a target)
	action                     *Action
	at                         actionType
}

func newRenderer(id string, sp Spec, test bool) (*renderer, error) {
	rd := &renderer{id: id, test: test}
	var err error
	if rd.title, err = parseTemplate("message.title", sp.Message.Title); err != nil {
		return nil, err
	}
	if rd.body, err = parseTemplate("message.body", sp.Message.Body); err != nil {
		return nil, err
	}
	if act := sp.Message.Action; act != nil {
		at, ok := actionTypes[act.Type]
		if !ok {
			return nil, fieldErr("message.action.type", "unknown action %q", act.Type)
		}
		rd.action, rd.at = act, at
		if rd.label, err = parseTemplate("message.action.label", act.Label); err != nil {
			return nil, err
		}
		if at.needsTarget {
			if rd.target, err = parseTemplate("message.action.target", act.Target); err != nil {
				return nil, err
			}
		}
	}
	return rd, nil
}

func (rd *renderer) render(m Merchant) (Rendered, error) {
	d := templateData{ID: m.ID, Name: m.Name, City: m.City, Category: m.Category, Tags: m.Tags}
	r := Rendered{CampaignID: rd.id, Test: rd.test}
	var err error
	if r.Title, err = execute(rd.title, d); err != nil {
		return Rendered{}, err
	}
	if r.Body, err = execute(rd.body, d); err != nil {
		return Rendered{}, err
	}
	if rd.action == nil {
		return r, nil
	}
	label, err := execute(rd.label, d)
	if err != nil {
		return Rendered{}, err
	}
	path := rd.at.path
	if rd.target != nil {
		target, err := execute(rd.target, d)
		if err != nil {
			return Rendered{}, err
		}
		target = strings.TrimSpace(target)
		if target == "" || len(target) > 64 {
			return Rendered{}, fieldErr("message.action.target", "renders to %q for %s: 1..64 bytes needed", target, m.ID)
		}
		path = strings.Replace(path, "{target}", url.PathEscape(target), 1)
	}
	r.Action = &RenderedAction{Label: label, Type: rd.action.Type, Method: rd.at.method, Path: path}
	return r, nil
}

// Body is the IM message body of r.
func (r Rendered) body() ([]byte, error) {
	b, err := json.Marshal(r)
	if err != nil {
		return nil, err
	}
	if len(b) > MaxRenderedBytes {
		return nil, fieldErr("message", "renders to %d bytes for %s, over %d", len(b), r.CampaignID, MaxRenderedBytes)
	}
	return b, nil
}

// parseTemplate parses one template of a message; field names it in errors.
func parseTemplate(field, text string) (*template.Template, error) {
	t, err := template.New(field).Option("missingkey=error").Parse(text)
	if err != nil {
		return nil, fieldErr(field, "template does not parse: %s", strings.TrimPrefix(err.Error(), "template: "))
	}
	return t, nil
}

func execute(t *template.Template, d templateData) (string, error) {
	var b bytes.Buffer
	if err := t.Execute(&limitedWriter{w: &b, n: MaxRenderedBytes}, d); err != nil {
		return "", fieldErr(t.Name(), "template fails for %s: %s", d.ID, strings.TrimPrefix(err.Error(), "template: "))
	}
	return b.String(), nil
}

// limitedWriter stops a template that renders without end ({{range}} over a long list).
type limitedWriter struct {
	w *bytes.Buffer
	n int
}

func (l *limitedWriter) Write(p []byte) (int, error) {
	if len(p) > l.n {
		return 0, fmt.Errorf("renders over %d bytes", MaxRenderedBytes)
	}
	l.n -= len(p)
	return l.w.Write(p)
}
