package admin

import (
	"bytes"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cloudwego/hertz/pkg/app"

	"github.com/bangbang-im/bangbang/marketing/campaign"
)

// The staff console: server-rendered pages over the campaign store under /admin/console,
// which read through the store and change things only through the JSON API (their one
// script, console.js, calls it with the session's CSRF token). The pages work under a
// strict Content-Security-Policy: no inline script, style or event handler.

// consolePrefix is the console pages' path; consoleHome its first page, where a login
// lands when the console is served.
const (
	consolePrefix = "/admin/console"
	consoleHome   = consolePrefix + "/campaigns"
)

// consoleCSP is the pages' Content-Security-Policy: their own script and style only, and
// requests to this server only.
const consoleCSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

// consoleListPage is how many campaigns the list page shows at once.
const consoleListPage = 50

// consoleAuditEntries is how many audit entries a campaign's page shows, newest first.
const consoleAuditEntries = 50

//go:embed console/*.tmpl console/static/console.js console/static/console.css
var consoleFiles embed.FS

// consoleAsset is one static file of the console.
type consoleAsset struct {
	route, contentType string
	body               []byte
	version            string // a digest of body: the pages link route?v=version, so a new build is fetched at once
}

// consoleAssets are the console's static files, by their file name.
var consoleAssets = mustConsoleAssets(map[string]string{
	"console.js":  "text/javascript; charset=utf-8",
	"console.css": "text/css; charset=utf-8",
})

// consoleAssetURLs are the assets' versioned URLs, by file name, as the pages link them.
var consoleAssetURLs = func() map[string]string {
	urls := map[string]string{}
	for name, a := range consoleAssets {
		urls[name] = a.route + "?v=" + a.version
	}
	return urls
}()

func mustConsoleAssets(types map[string]string) map[string]consoleAsset {
	out := map[string]consoleAsset{}
	for name, ct := range types {
		b, err := fs.ReadFile(consoleFiles, "console/static/"+name)
		if err != nil {
			panic(err) // embedded at build time: a missing file is a build mistake
		}
		sum := sha256.Sum256(b)
		out[name] = consoleAsset{route: "/admin/static/" + name, contentType: ct, body: b, version: hex.EncodeToString(sum[:6])}
	}
	return out
}

// consoleTemplates are the pages, each parsed with the layout; a page's template defines
// "title" and "content".
var consoleTemplates = mustConsoleTemplates("campaigns", "edit", "campaign", "recipients", "merchants", "merchant", "audit", "keys", "error")

var consoleFuncs = template.FuncMap{
	"percent": func(part, whole int64) string {
		if whole <= 0 {
			return "0%"
		}
		return strconv.FormatFloat(float64(part)*100/float64(whole), 'f', 1, 64) + "%"
	},
	"rate": func(r float64) string { return strconv.FormatFloat(r, 'f', 1, 64) },
	"when": func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format("2006-01-02 15:04:05 UTC")
	},
	"rfc3339": func(t *time.Time) string {
		if t == nil {
			return ""
		}
		return t.UTC().Format(time.RFC3339)
	},
	"join":       func(sep string, v []string) string { return strings.Join(v, sep) },
	"auditLink":  auditLink,
	"prettyJSON": prettyJSON,
	"trail": func(entries []campaign.AuditEntry, traces bool) auditTrail {
		return auditTrail{Entries: entries, Traces: traces}
	},
}

// auditTrail is what the layout's "audit-trail" template shows: a thing's newest audit
// entries, their traces linked when the trace pages are served.
type auditTrail struct {
	Entries []campaign.AuditEntry
	Traces  bool
}

// prettyJSON indents a stored JSON document for reading, with the characters JSON
// escaped for HTML (<, >, &) shown as themselves: the template escapes them. Text that is
// not JSON is shown as it is.
func prettyJSON(b json.RawMessage) string {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return string(b)
	}
	var out bytes.Buffer
	e := json.NewEncoder(&out)
	e.SetEscapeHTML(false)
	e.SetIndent("", "  ")
	if err := e.Encode(v); err != nil {
		return string(b)
	}
	return strings.TrimSuffix(out.String(), "\n")
}

func mustConsoleTemplates(pages ...string) map[string]*template.Template {
	out := map[string]*template.Template{}
	for _, p := range pages {
		out[p] = template.Must(template.New("layout.tmpl").Funcs(consoleFuncs).
			ParseFS(consoleFiles, "console/layout.tmpl", "console/"+p+".tmpl"))
	}
	return out
}

// consoleView is what every page's template sees.
type consoleView struct {
	Page      string // the page's template, also the body's data-page for console.js
	Actor     campaign.Actor
	CSRF      string
	CanAuthor bool
	CanSend   bool
	CanManage bool              // an admin: the keys page
	Traces    bool              // the trace pages are served
	Assets    map[string]string // file name -> its URL, versioned
	Data      any
}

// consoleRoutes registers the console's pages and static files. Every page needs a key or
// a session (requirePage); what a page offers depends on the role, and the API enforces it.
func (s *Server) consoleRoutes() {
	for _, a := range consoleAssets {
		s.h.GET(a.route, s.requirePage, serveAsset(a))
	}
	s.h.GET(consoleHome, s.requirePage, s.campaignsPage)
	s.h.GET(consoleHome+"/new", s.requirePage, s.newCampaignPage)
	s.h.GET(consoleHome+"/:id", s.requirePage, s.campaignPage)
	s.h.GET(consoleHome+"/:id/edit", s.requirePage, s.editCampaignPage)
	s.h.GET(consoleHome+"/:id/recipients", s.requirePage, s.recipientsPage)
	s.h.GET(consolePrefix+"/merchants", s.requirePage, s.merchantsPage)
	s.h.GET(consolePrefix+"/merchants/new", s.requirePage, s.newMerchantPage)
	s.h.GET(consolePrefix+"/merchants/:id", s.requirePage, s.merchantPage)
	s.h.GET(consolePrefix+"/audit", s.requirePage, s.auditPage)
	s.h.GET(consolePrefix+"/keys", s.requirePage, s.keysPage)
}

func serveAsset(a consoleAsset) app.HandlerFunc {
	return func(_ context.Context, c *app.RequestContext) {
		c.Header("X-Content-Type-Options", "nosniff")
		// Private: the files are behind the login. A page links them with their digest, so
		// an hour's caching never serves an old script to a new page.
		c.Header("Cache-Control", "private, max-age=3600")
		c.Data(http.StatusOK, a.contentType, a.body)
	}
}

// render answers a console page.
func (s *Server) render(ctx context.Context, c *app.RequestContext, status int, page string, data any) {
	a := actor(ctx, c)
	v := consoleView{Page: page, Actor: a, CSRF: CSRFToken(c), CanAuthor: a.Role.Allows(campaign.PermAuthor),
		CanSend: a.Role.Allows(campaign.PermSend), CanManage: a.Role.Allows(campaign.PermManage), Traces: s.deps.Traces != nil,
		Assets: consoleAssetURLs, Data: data}
	var buf bytes.Buffer
	if err := consoleTemplates[page].ExecuteTemplate(&buf, "layout.tmpl", v); err != nil {
		s.log.ErrorContext(ctx, "console page not rendered", "page", page, "err", err)
		status, buf = http.StatusInternalServerError, bytes.Buffer{}
		buf.WriteString("<!DOCTYPE html><title>Error</title><p>The page could not be rendered.</p>")
	}
	c.Header("Content-Security-Policy", consoleCSP)
	c.Header("X-Content-Type-Options", "nosniff")
	c.Header("Referrer-Policy", "no-referrer")
	c.Header("X-Frame-Options", "DENY")
	c.Header("Cache-Control", "no-store")
	c.Data(status, "text/html; charset=utf-8", buf.Bytes())
}

// pageFail answers a page whose data could not be read, as fail does for the JSON API:
// not found, unavailable for now (with Retry-After), else internal, logged with its detail.
func (s *Server) pageFail(ctx context.Context, c *app.RequestContext, what string, err error) {
	status, msg := http.StatusInternalServerError, "Something went wrong; the server's log has the detail."
	switch {
	case errors.Is(err, campaign.ErrNotFound):
		status, msg = http.StatusNotFound, "There is no "+what+"."
	case temporary(err):
		s.log.WarnContext(ctx, "console page failed for now", "route", c.FullPath(), "err", err)
		c.Header("Retry-After", "1")
		status, msg = http.StatusServiceUnavailable, "A dependency is unavailable. Try again in a moment."
	default:
		s.log.ErrorContext(ctx, "console page failed", "route", c.FullPath(), "err", err)
	}
	s.render(ctx, c, status, "error", msg)
}

// campaignsView is the campaign list.
type campaignsView struct {
	Campaigns []campaign.Campaign
	State     campaign.State   // the state shown, "" every one
	States    []campaign.State // the filters offered
	Next      string           // the URL of the next page, "" when this is the last
	After     string           // the after this page was read from: console.js reads the same page again
}

// campaignsPage serves GET /admin/console/campaigns: newest first, in one state or all, a
// page at a time.
func (s *Server) campaignsPage(ctx context.Context, c *app.RequestContext) {
	v := campaignsView{State: campaign.State(c.Query("state")), States: campaign.States, After: c.Query("after")}
	if v.State != "" && !slices.Contains(campaign.States, v.State) {
		s.render(ctx, c, http.StatusBadRequest, "error", "There is no campaign state "+strconv.Quote(string(v.State))+".")
		return
	}
	list, err := s.deps.Campaigns.ListCampaigns(ctx, v.State, c.Query("after"), consoleListPage)
	if err != nil {
		s.pageFail(ctx, c, "campaign list", err)
		return
	}
	v.Campaigns = list
	if len(list) == consoleListPage {
		v.Next = pageLink("/campaigns", map[string]string{"after": list[len(list)-1].ID, "state": string(v.State)})
	}
	s.render(ctx, c, http.StatusOK, "campaigns", v)
}

// recipientsView is a page of a campaign's recipients.
type recipientsView struct {
	Campaign   campaign.Campaign
	Status     string                     // the status shown, "" every one
	Statuses   []campaign.RecipientStatus // the filters offered
	Recipients []campaign.Recipient
	Next       string // the URL of the next page, "" on the last
}

// recipientsPage serves GET /admin/console/campaigns/{id}/recipients: the audience the
// campaign fixed when it started, in send order, with what became of each, filtered by
// status, a page at a time.
func (s *Server) recipientsPage(ctx context.Context, c *app.RequestContext) {
	id := c.Param("id")
	cp, err := s.deps.Campaigns.GetCampaign(ctx, id)
	if err != nil {
		s.pageFail(ctx, c, "campaign "+id, err)
		return
	}
	v := recipientsView{Campaign: cp, Status: c.Query("status"), Statuses: recipientStatusOrder}
	var status *campaign.RecipientStatus
	if v.Status != "" {
		st, ok := recipientStatuses[v.Status]
		if !ok {
			s.render(ctx, c, http.StatusBadRequest, "error", "A recipient's status is pending, sent, failed or skipped.")
			return
		}
		status = &st
	}
	var after int64
	if a := c.Query("after"); a != "" {
		if after, err = strconv.ParseInt(a, 10, 64); err != nil || after < 0 {
			s.render(ctx, c, http.StatusBadRequest, "error", "after: a recipient position, as the link to more recipients gives it.")
			return
		}
	}
	list, err := s.deps.Campaigns.Recipients(ctx, id, status, after, consoleListPage)
	if err != nil {
		s.pageFail(ctx, c, "recipients of campaign "+id, err)
		return
	}
	v.Recipients = list
	if len(list) == consoleListPage {
		v.Next = pageLink("/campaigns/"+url.PathEscape(id)+"/recipients",
			map[string]string{"after": strconv.FormatInt(list[len(list)-1].Pos, 10), "status": v.Status})
	}
	s.render(ctx, c, http.StatusOK, "recipients", v)
}

// campaignView is one campaign's page.
type campaignView struct {
	campaign.Campaign
	Audit []campaign.AuditEntry
	// Which state changes the campaign's state allows (the buttons shown to a sender).
	Startable, Pausable, Resumable, Cancellable bool
	Live                                        bool // its progress moves: console.js polls it
}

// campaignPage serves GET /admin/console/campaigns/{id}.
func (s *Server) campaignPage(ctx context.Context, c *app.RequestContext) {
	id := c.Param("id")
	cp, err := s.deps.Campaigns.GetCampaign(ctx, id)
	if err != nil {
		s.pageFail(ctx, c, "campaign "+id, err)
		return
	}
	audit, err := s.deps.Campaigns.Audit(ctx, campaign.AuditQuery{Target: "campaign:" + id, Limit: consoleAuditEntries})
	if err != nil {
		s.pageFail(ctx, c, "audit of campaign "+id, err)
		return
	}
	st := cp.State
	s.render(ctx, c, http.StatusOK, "campaign", campaignView{Campaign: cp, Audit: audit,
		Startable:   slices.Contains(campaign.StartFrom, st),
		Pausable:    slices.Contains(campaign.PauseFrom, st),
		Resumable:   slices.Contains(campaign.ResumeFrom, st),
		Cancellable: slices.Contains(campaign.CancelFrom, st),
		Live:        st == campaign.StateRunning || st == campaign.StateScheduled})
}

// editView is the campaign form: a new draft (ID "") or an existing campaign.
type editView struct {
	campaign.Campaign
	New         bool
	Editable    bool // a new campaign or a draft, and the role may author
	Segment     campaign.Segment
	Action      campaign.Action
	ActionTypes []string
}

// newCampaignPage serves GET /admin/console/campaigns/new.
func (s *Server) newCampaignPage(ctx context.Context, c *app.RequestContext) {
	cp := campaign.Campaign{Spec: campaign.Spec{Rate: campaign.DefaultRate}, State: campaign.StateDraft}
	s.render(ctx, c, http.StatusOK, "edit", s.editView(ctx, c, cp, true))
}

// editCampaignPage serves GET /admin/console/campaigns/{id}/edit.
func (s *Server) editCampaignPage(ctx context.Context, c *app.RequestContext) {
	id := c.Param("id")
	cp, err := s.deps.Campaigns.GetCampaign(ctx, id)
	if err != nil {
		s.pageFail(ctx, c, "campaign "+id, err)
		return
	}
	s.render(ctx, c, http.StatusOK, "edit", s.editView(ctx, c, cp, false))
}

func (s *Server) editView(ctx context.Context, c *app.RequestContext, cp campaign.Campaign, isNew bool) editView {
	v := editView{Campaign: cp, New: isNew, ActionTypes: campaign.ActionTypes(),
		Editable: actor(ctx, c).Role.Allows(campaign.PermAuthor) && cp.State == campaign.StateDraft}
	if cp.Audience.Segment != nil {
		v.Segment = *cp.Audience.Segment
	}
	if cp.Message.Action != nil {
		v.Action = *cp.Message.Action
	}
	return v
}
