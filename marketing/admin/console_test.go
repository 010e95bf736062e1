package admin

import (
	"html"
	"io/fs"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/bangbang-im/bangbang/marketing/campaign"
)

// hostileName is a campaign name that would run script were it not escaped.
const hostileName = `<script>alert("x")</script>"><img src=x onerror=alert(1)>`

// consoleSession logs in with secret and returns the session's cookie.
func consoleSession(t *testing.T, base, secret string) *http.Cookie {
	t.Helper()
	c := sessionCookie(loginWith(t, base, secret, ""))
	if c == nil {
		t.Fatal("no session")
	}
	return c
}

// page GETs a console page with the session and fails unless it is a console page: 200,
// HTML, with the console's security headers.
func page(t *testing.T, base, path string, c *http.Cookie) answer {
	t.Helper()
	a := send(t, http.MethodGet, base+path, nil, withCookie(c)...)
	if a.status != http.StatusOK || !strings.HasPrefix(a.header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET %s: %d %s\n%.500s", path, a.status, a.header.Get("Content-Type"), a.body)
	}
	checkPageHeaders(t, path, a)
	return a
}

func checkPageHeaders(t *testing.T, path string, a answer) {
	t.Helper()
	for h, want := range map[string]string{"Content-Security-Policy": consoleCSP, "X-Content-Type-Options": "nosniff",
		"Referrer-Policy": "no-referrer", "Cache-Control": "no-store", "X-Frame-Options": "DENY"} {
		if got := a.header.Get(h); got != want {
			t.Errorf("GET %s: %s %q, want %q", path, h, got, want)
		}
	}
}

// tagAttrs matches a start tag's name and attributes (values double-quoted, as the
// templates write them), so that an attribute named after it is one of the tag's.
const tagAttrs = `<[a-zA-Z][a-zA-Z0-9-]*(?:\s+[a-zA-Z_:][a-zA-Z0-9_:.-]*(?:="[^"]*")?)*`

var (
	csrfMeta    = regexp.MustCompile(`<meta name="csrf-token" content="([^"]*)">`)
	scriptTag   = regexp.MustCompile(`<script[^>]*>`)
	inlineStyle = regexp.MustCompile(tagAttrs + `\s+style=`)
	inlineEvent = regexp.MustCompile(tagAttrs + `\s+on[a-z]+=`)
	styleTag    = regexp.MustCompile(`<style[\s>]`)
	jsURL       = regexp.MustCompile(`(?i)(href|src|action)="\s*javascript:`)
)

// csrfOf is the token a page's meta tag holds.
func csrfOf(t *testing.T, a answer) string {
	t.Helper()
	m := csrfMeta.FindStringSubmatch(a.body)
	if m == nil {
		t.Fatalf("no csrf-token meta tag in %.500s", a.body)
	}
	return html.UnescapeString(m[1])
}

// checkStrictCSP fails when a page holds something the console's CSP would block: an
// inline script, style element or attribute, an event handler attribute, a javascript: URL.
func checkStrictCSP(t *testing.T, path, body string) {
	t.Helper()
	for _, tag := range scriptTag.FindAllString(body, -1) {
		if !strings.Contains(tag, ` src="/admin/static/console.js?v=`) {
			t.Errorf("GET %s: inline or foreign script %s", path, tag)
		}
	}
	if strings.Count(body, "<script") != 1 {
		t.Errorf("GET %s: %d script elements, want the one", path, strings.Count(body, "<script"))
	}
	for name, re := range map[string]*regexp.Regexp{"style attribute": inlineStyle, "event handler": inlineEvent,
		"style element": styleTag, "javascript: URL": jsURL} {
		if m := re.FindString(body); m != "" {
			t.Errorf("GET %s: %s: %s", path, name, m)
		}
	}
}

func TestConsolePagesSendStrangersToLogin(t *testing.T) {
	h := newHarness(t, sqliteStore(t))
	h.merchant("m1", "Alice", "Paris")
	cp := h.campaignIn(campaign.StateDraft, spec("c", "m1"))
	for _, target := range []string{consoleHome, consoleHome + "?after=" + cp.ID, consoleHome + "/new",
		consoleHome + "/" + cp.ID, consoleHome + "/" + cp.ID + "/edit", "/admin/static/console.js", "/admin/static/console.css",
		consolePrefix + "/merchants?search=a", consolePrefix + "/audit", consolePrefix + "/keys"} {
		for _, hdr := range [][]string{nil, {"Cookie", SessionCookie + "=ABCDEFGHIJKLMNOPQRSTUVWXYZ"}} {
			a := send(t, http.MethodGet, h.base+target, nil, hdr...)
			if want := "/admin/login?next=" + url.QueryEscape(target); a.status != http.StatusSeeOther || a.header.Get("Location") != want {
				t.Errorf("GET %s %v: %d to %q, want 303 to %q", target, hdr, a.status, a.header.Get("Location"), want)
			}
		}
	}
	// Logging in from there comes back there; without a page to return to, to the campaigns.
	target := consoleHome + "/" + cp.ID + "/edit"
	if a := loginWith(t, h.base, key, target); a.status != http.StatusSeeOther || a.header.Get("Location") != target {
		t.Errorf("login back to %s: %d to %q", target, a.status, a.header.Get("Location"))
	}
	if a := loginWith(t, h.base, key, ""); a.status != http.StatusSeeOther || a.header.Get("Location") != consoleHome {
		t.Errorf("login: %d to %q, want %s", a.status, a.header.Get("Location"), consoleHome)
	}
}

// Every page renders for a session, under the strict CSP, with the session's CSRF token,
// which is the one the API takes from that session.
func TestConsolePagesRender(t *testing.T) {
	h := newHarness(t, sqliteStore(t))
	h.merchant("m1", "Alice", "Paris")
	draft := h.campaignIn(campaign.StateDraft, spec(hostileName, "m1"))
	running := h.campaignIn(campaign.StateRunning, spec("running one", "m1"))
	c := consoleSession(t, h.base, key)

	list := page(t, h.base, consoleHome, c)
	token := csrfOf(t, list)
	for _, want := range []string{`href="/admin/console/campaigns/` + draft.ID + `"`, `href="/admin/console/campaigns/` + running.ID + `"`,
		`id="new-campaign"`, `<span id="actor-role" class="role" data-testid="actor-role">admin</span>`,
		`<input type="hidden" name="csrf" value="` + token + `">`, `action="/admin/logout"`, `href="/admin/traces"`,
		`<link rel="stylesheet" href="/admin/static/console.css?v=` + consoleAssets["console.css"].version + `">`} {
		if !strings.Contains(list.body, want) {
			t.Errorf("campaign list lacks %s", want)
		}
	}

	pages := map[string]answer{consoleHome: list}
	for _, p := range []string{consoleHome + "/new", consoleHome + "/" + draft.ID, consoleHome + "/" + draft.ID + "/edit",
		consoleHome + "/" + running.ID} {
		pages[p] = page(t, h.base, p, c)
	}
	for p, a := range pages {
		if got := csrfOf(t, a); got != token || token == "" {
			t.Errorf("GET %s: csrf-token %q, want the session's %q", p, got, token)
		}
		checkStrictCSP(t, p, a.body)
		// The hostile name is shown, escaped, wherever it appears.
		if strings.Contains(a.body, "<script>alert") || strings.Contains(a.body, "<img src=x") {
			t.Errorf("GET %s: the campaign name is not escaped", p)
		}
	}
	for _, p := range []string{consoleHome, consoleHome + "/" + draft.ID, consoleHome + "/" + draft.ID + "/edit"} {
		if !strings.Contains(pages[p].body, "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;") {
			t.Errorf("GET %s: the escaped campaign name is missing", p)
		}
	}

	detail := pages[consoleHome+"/"+draft.ID].body
	for _, want := range []string{`id="state" data-testid="state" class="state state-draft">draft</span>`,
		`href="/admin/traces?attr=campaign.id:` + draft.ID + `"`, `data-campaign-id="` + draft.ID + `"`, `data-live="false"`,
		`id="start"`, `id="cancel"`, `id="progress-percent"`, `id="progress-chart"`, `id="test-send"`, `data-testid="audit-row"`,
		`<td>campaign.create</td>`} {
		if !strings.Contains(detail, want) {
			t.Errorf("draft page lacks %s", want)
		}
	}
	for _, unwanted := range []string{`id="pause"`, `id="resume"`} {
		if strings.Contains(detail, unwanted) {
			t.Errorf("draft page offers %s", unwanted)
		}
	}
	if live := pages[consoleHome+"/"+running.ID].body; !strings.Contains(live, `data-live="true"`) ||
		!strings.Contains(live, `id="pause"`) || strings.Contains(live, `id="start"`) {
		t.Errorf("running campaign's page: live %v, pause %v, start %v", strings.Contains(live, `data-live="true"`),
			strings.Contains(live, `id="pause"`), strings.Contains(live, `id="start"`))
	}
	edit := pages[consoleHome+"/"+draft.ID+"/edit"].body
	for _, want := range []string{`id="campaign-name" data-field="name" value="&lt;script&gt;`, `data-editable="true"`,
		`<textarea id="merchant-ids" data-field="audience.merchant_ids" rows="4">m1</textarea>`, `id="audience-count"`,
		`<option value="listing.refresh" selected>`, `value="L-{{.ID}}"`, `id="rate" data-field="rate" min="1" step="1" value="50"`,
		`id="preview-merchant" required value="m1"`, `id="save"`} {
		if !strings.Contains(edit, want) {
			t.Errorf("edit page lacks %s", want)
		}
	}
	if newPage := pages[consoleHome+"/new"].body; !strings.Contains(newPage, `data-campaign-id=""`) ||
		!strings.Contains(newPage, `id="preview-unsaved"`) || strings.Contains(newPage, " disabled") {
		t.Errorf("new campaign page:\n%s", newPage)
	}

	// The page's token is what the API takes from this session, and nothing else is.
	body := `{"name":"from the console","audience":{"merchant_ids":["m1"]},"message":{"title":"t","body":"b"}}`
	post := func(hdr ...string) answer {
		return send(t, http.MethodPost, h.base+"/admin/v1/campaigns", strings.NewReader(body),
			append(append(withCookie(c), "Content-Type", "application/json"), hdr...)...)
	}
	if a := post(); a.status != http.StatusForbidden || apiError(t, a).Code != CodeCSRFFailed {
		t.Errorf("create without the token: %d %s", a.status, a.body)
	}
	if a := post(CSRFHeader, token+"x"); a.status != http.StatusForbidden || apiError(t, a).Code != CodeCSRFFailed {
		t.Errorf("create with a wrong token: %d %s", a.status, a.body)
	}
	if a := post(CSRFHeader, token); a.status != http.StatusCreated {
		t.Errorf("create with the page's token: %d %s", a.status, a.body)
	}
	if other := csrfOf(t, page(t, h.base, consoleHome, consoleSession(t, h.base, key))); other == token {
		t.Error("two sessions share a CSRF token")
	}

	// The trace pages lead back to the console.
	if a := send(t, http.MethodGet, h.base+"/admin/traces", nil, withCookie(c)...); a.status != http.StatusOK ||
		!strings.Contains(a.body, `<a href="/admin/console/campaigns">Console</a>`) {
		t.Errorf("the trace list: %d, no link to the console", a.status)
	}

	// An unknown campaign is an HTML page too.
	for _, p := range []string{consoleHome + "/cmp_nope", consoleHome + "/cmp_nope/edit"} {
		a := send(t, http.MethodGet, h.base+p, nil, withCookie(c)...)
		if a.status != http.StatusNotFound || !strings.HasPrefix(a.header.Get("Content-Type"), "text/html") ||
			!strings.Contains(a.body, "There is no campaign cmp_nope.") {
			t.Errorf("GET %s: %d %s %.300s", p, a.status, a.header.Get("Content-Type"), a.body)
		}
		checkPageHeaders(t, p, a)
	}
}

// What a page offers follows the role: the API decides in the end, but nobody is shown
// a button that can only be refused.
func TestConsoleFollowsRole(t *testing.T) {
	h := newHarness(t, sqliteStore(t))
	h.merchant("m1", "Alice", "Paris")
	draft := h.campaignIn(campaign.StateDraft, spec("draft", "m1"))
	for _, tc := range []struct {
		role           campaign.Role
		author, sender bool
	}{
		{campaign.RoleViewer, false, false},
		{campaign.RoleAuthor, true, false},
		{campaign.RoleSender, false, true},
		{campaign.RoleAdmin, true, true},
	} {
		_, secret := h.newKey(tc.role)
		c := consoleSession(t, h.base, secret)
		list := page(t, h.base, consoleHome, c).body
		detail := page(t, h.base, consoleHome+"/"+draft.ID, c).body
		edit := page(t, h.base, consoleHome+"/"+draft.ID+"/edit", c).body
		for what, got := range map[string]bool{
			"the new campaign button": strings.Contains(list, `id="new-campaign"`) != tc.author,
			"the start button":        strings.Contains(detail, `id="start"`) != tc.sender,
			"the cancel button":       strings.Contains(detail, `id="cancel"`) != tc.sender,
			"the test-send form":      strings.Contains(detail, `id="test-send"`) != tc.author,
			"the edit link":           strings.Contains(detail, `id="edit"`) != tc.author,
			"duplicate":               strings.Contains(detail, `id="duplicate"`) != tc.author,
			"an editable form":        strings.Contains(edit, `data-editable="true"`) != tc.author,
			"the read-only notice":    strings.Contains(edit, `id="not-editable"`) == tc.author,
		} {
			if got {
				t.Errorf("role %s: %s shown wrongly (author %v, sender %v)", tc.role, what, tc.author, tc.sender)
			}
		}
		if !strings.Contains(list, `data-testid="actor-role">`+string(tc.role)+`<`) {
			t.Errorf("role %s: the nav does not show the role", tc.role)
		}
	}
	// A campaign that is no longer a draft is shown, not offered for editing.
	running := h.campaignIn(campaign.StateRunning, spec("running", "m1"))
	edit := page(t, h.base, consoleHome+"/"+running.ID+"/edit", consoleSession(t, h.base, key)).body
	if !strings.Contains(edit, "Only a draft can be edited; this campaign is running.") || !strings.Contains(edit, `data-editable="false"`) {
		t.Errorf("edit page of a running campaign:\n%s", edit)
	}
}

// The script and the style sheet are the embedded files, with their types, and cacheable
// privately (the pages link them by digest).
func TestConsoleAssets(t *testing.T) {
	h := newHarness(t, sqliteStore(t))
	c := consoleSession(t, h.base, key)
	for name, wantType := range map[string]string{"console.js": "text/javascript; charset=utf-8", "console.css": "text/css; charset=utf-8"} {
		want, err := fs.ReadFile(consoleFiles, "console/static/"+name)
		if err != nil {
			t.Fatal(err)
		}
		a := send(t, http.MethodGet, h.base+"/admin/static/"+name+"?v="+consoleAssets[name].version, nil, withCookie(c)...)
		if a.status != http.StatusOK || a.header.Get("Content-Type") != wantType || a.body != string(want) ||
			a.header.Get("X-Content-Type-Options") != "nosniff" || a.header.Get("Cache-Control") != "private, max-age=3600" {
			t.Errorf("GET %s: %d %v, %d bytes, want %d", name, a.status, a.header, len(a.body), len(want))
		}
	}
	// A bearer key opens them too, like every page.
	if a := send(t, http.MethodGet, h.base+"/admin/static/console.js", nil, "Authorization", "Bearer "+key); a.status != http.StatusOK {
		t.Errorf("script with the key: %d", a.status)
	}
}

// The campaign list's tabs show one state; a campaign's recipients page lists its fixed
// audience in send order, by status; a draft has none yet.
func TestConsoleStatesAndRecipients(t *testing.T) {
	h := newHarness(t, sqliteStore(t))
	for _, id := range []string{"m1", "m2", "m3"} {
		h.merchant(id, "Shop "+id, "Paris")
	}
	draft := h.campaignIn(campaign.StateDraft, spec("the draft", "m1"))
	running := h.campaignIn(campaign.StateRunning, spec("the running one", "m3", "m1", "m2"))
	c := consoleSession(t, h.base, key)

	for q, want := range map[string][]string{"": {draft.ID, running.ID}, "?state=draft": {draft.ID},
		"?state=running": {running.ID}, "?state=paused": nil} {
		body := page(t, h.base, consoleHome+q, c).body
		if n := strings.Count(body, `data-testid="campaign-row"`); n != len(want) {
			t.Errorf("campaigns%s: %d rows, want %d", q, n, len(want))
		}
		for _, id := range want {
			if !strings.Contains(body, `data-campaign-id="`+id+`"`) {
				t.Errorf("campaigns%s lacks %s", q, id)
			}
		}
	}
	// The list tells its script which page it is, to read the same page again while a
	// campaign on it runs.
	if body := page(t, h.base, consoleHome+"?state=running", c).body; !strings.Contains(body,
		`<table id="campaigns" class="list" data-after="" data-state="running">`) ||
		!strings.Contains(body, `<tr data-testid="campaign-row" data-campaign-id="`+running.ID+`" data-state="running">`) {
		t.Error("the list does not say which page it is, or which rows are live")
	}
	if a := send(t, http.MethodGet, h.base+consoleHome+"?state=lost", nil, withCookie(c)...); a.status != http.StatusBadRequest ||
		!strings.Contains(a.body, `There is no campaign state &#34;lost&#34;.`) {
		t.Errorf("campaigns?state=lost: %d %.300s", a.status, a.body)
	}

	// A campaign no state change can start from shows no delivery controls at all.
	cancelled := h.campaignIn(campaign.StateCancelled, spec("the cancelled one", "m1"))
	if body := page(t, h.base, consoleHome+"/"+cancelled.ID, c).body; strings.Contains(body, `id="controls"`) {
		t.Error("a cancelled campaign's page shows an empty Delivery section")
	}

	// The harness runs no worker: the running campaign's audience is not fixed yet (the
	// browser test against bangbang all sees recipients sent).
	detail := page(t, h.base, consoleHome+"/"+running.ID, c).body
	rp := consoleHome + "/" + running.ID + "/recipients"
	body := page(t, h.base, rp, c).body
	checkStrictCSP(t, rp, body)
	if !strings.Contains(body, "No recipients yet: the audience is fixed as sending begins.") {
		t.Errorf("recipients of a campaign not fixed yet:\n%.2000s", body)
	}
	if !strings.Contains(body, `href="/admin/console/campaigns/`+running.ID+`/recipients?status=failed"`) {
		t.Error("the recipients page has no tab for failures")
	}
	for _, q := range []string{"?status=read", "?after=-1", "?after=x"} {
		if a := send(t, http.MethodGet, h.base+rp+q, nil, withCookie(c)...); a.status != http.StatusBadRequest {
			t.Errorf("recipients%s: %d", q, a.status)
		}
	}
	if body := page(t, h.base, consoleHome+"/"+draft.ID+"/recipients", c).body; !strings.Contains(body, "The audience is fixed when the campaign starts sending") {
		t.Error("a draft's recipients page does not say why it has none")
	}
	if a := send(t, http.MethodGet, h.base+consoleHome+"/cmp_nope/recipients", nil, withCookie(c)...); a.status != http.StatusNotFound {
		t.Errorf("recipients of no campaign: %d", a.status)
	}
	// Deleting a draft is offered to authors on its page, and only for a draft.
	if !strings.Contains(page(t, h.base, consoleHome+"/"+draft.ID, c).body, `id="delete-campaign"`) || strings.Contains(detail, `id="delete-campaign"`) {
		t.Error("delete is not offered for the draft alone")
	}
}
