package admin

import (
	"fmt"
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/bangbang-im/bangbang/marketing/campaign"
)

// The merchants page lists, searches and filters as the API does, pages with its filters
// kept, names a filter the store refuses, and escapes what merchants are called.
func TestConsoleMerchantsPage(t *testing.T) {
	h := newHarness(t, sqliteStore(t))
	h.merchant("m001", hostileName, "Paris", "vip")
	h.merchant("m002", "Golden Key Estates", "Lyon")
	for i := 3; i <= consoleListPage+2; i++ {
		h.merchant(fmt.Sprintf("m%03d", i), fmt.Sprintf("Shop %d", i), "Nice")
	}
	c := consoleSession(t, h.base, key)
	ids := func(body string) []string {
		var out []string
		for _, part := range strings.Split(body, `data-merchant-id="`)[1:] {
			out = append(out, part[:strings.IndexByte(part, '"')])
		}
		return out
	}

	first := page(t, h.base, consolePrefix+"/merchants", c)
	checkStrictCSP(t, "merchants", first.body)
	if got := ids(first.body); len(got) != consoleListPage || got[0] != "m001" {
		t.Fatalf("first page: %d merchants from %v", len(got), got[:min(3, len(got))])
	}
	if strings.Contains(first.body, "<script>alert") || !strings.Contains(first.body, "&lt;script&gt;alert(&#34;x&#34;)") {
		t.Error("a merchant's name is not escaped")
	}
	for _, want := range []string{`id="import-form"`, `aria-current="page">Merchants`} {
		if !strings.Contains(first.body, want) {
			t.Errorf("merchants page lacks %s", want)
		}
	}
	next := `href="/admin/console/merchants?after=m050"`
	if !strings.Contains(first.body, next) {
		t.Fatalf("no link to the next page (%s)", next)
	}
	if got := ids(page(t, h.base, consolePrefix+"/merchants?after=m050", c).body); strings.Join(got, ",") != "m051,m052" {
		t.Errorf("second page: %v", got)
	}

	for q, want := range map[string]string{
		"search=golden":            "m002",
		"search=M00&city=Paris":    "m001",
		"city=Paris,+Lyon":         "m001,m002",
		"tag=vip":                  "m001",
		"search=nobody+by+that":    "",
		"category=housing&tag=VIP": "m001",
	} {
		a := page(t, h.base, consolePrefix+"/merchants?"+q, c)
		if got := strings.Join(ids(a.body), ","); got != want {
			t.Errorf("merchants?%s: %q, want %q", q, got, want)
		}
		if want == "" && !strings.Contains(a.body, "No merchant matches.") {
			t.Errorf("merchants?%s: no 'No merchant matches.'", q)
		}
	}
	// The filters stay in the form and in the next page's link.
	a := page(t, h.base, consolePrefix+"/merchants?city=Nice&search=shop", c)
	if !strings.Contains(a.body, `name="city" value="Nice"`) || !strings.Contains(a.body, `name="search" value="shop"`) {
		t.Error("the filters are not kept in the form")
	}
	if want := `href="/admin/console/merchants?` + html.EscapeString(url.Values{"after": {"m052"}, "city": {"Nice"}, "search": {"shop"}}.Encode()) + `"`; strings.Contains(a.body, "next-page") && !strings.Contains(a.body, want) {
		t.Errorf("next page link lacks the filters, want %s", want)
	}

	bad := send(t, http.MethodGet, h.base+consolePrefix+"/merchants?tag=no+way", nil, withCookie(c)...)
	if bad.status != http.StatusBadRequest || !strings.Contains(bad.body, `id="search-problem">tags[0]: `) {
		t.Errorf("a bad tag: %d\n%.2000s", bad.status, bad.body)
	}

	// A viewer may search but not import.
	_, viewer := h.newKey(campaign.RoleViewer)
	if v := page(t, h.base, consolePrefix+"/merchants", consoleSession(t, h.base, viewer)).body; strings.Contains(v, `id="import-form"`) ||
		!strings.Contains(v, `data-merchant-id="m001"`) {
		t.Error("a viewer's merchants page offers the import, or shows no merchants")
	}
}

// The audit page shows the log newest first with before/after, filters by target, actor
// and action, links each target to its page, and pages with its filters kept.
func TestConsoleAuditPage(t *testing.T) {
	h := newHarness(t, sqliteStore(t))
	h.merchant("m1", hostileName, "Paris")
	cp := h.campaignIn(campaign.StateDraft, spec("spring", "m1"))
	k, _ := h.newKey(campaign.RoleViewer)
	c := consoleSession(t, h.base, key)

	all := page(t, h.base, consolePrefix+"/audit", c)
	checkStrictCSP(t, "audit", all.body)
	for _, want := range []string{
		`<a href="/admin/console/campaigns/` + cp.ID + `">campaign:` + cp.ID + `</a>`,
		`<a href="/admin/console/merchants/m1">merchant:m1</a>`,
		`<a href="/admin/console/keys#` + k.ID + `">key:` + k.ID + `</a>`,
		`<a href="/admin/console/audit?action=campaign.create">campaign.create</a>`,
		`<pre class="json">`, "&lt;script&gt;alert(\\&#34;x\\&#34;)",
	} {
		if !strings.Contains(all.body, want) {
			t.Errorf("audit page lacks %s", want)
		}
	}
	if strings.Contains(all.body, "<script>alert") {
		t.Error("a name in an entry's JSON is not escaped")
	}
	// Newest first: the key was made last.
	if i, j := strings.Index(all.body, ">key:"+k.ID+"<"), strings.Index(all.body, ">merchant:m1<"); i < 0 || j < 0 || i > j {
		t.Errorf("entries not newest first (key at %d, merchant at %d)", i, j)
	}
	for q, want := range map[string][]string{
		"target=campaign:" + cp.ID: {"campaign.create"},
		"action=merchant.":         {"merchant.create"},
		"actor=nobody":             nil,
	} {
		body := page(t, h.base, consolePrefix+"/audit?"+q, c).body
		if n := strings.Count(body, `data-testid="audit-row"`); n != len(want) {
			t.Errorf("audit?%s: %d rows, want %d", q, n, len(want))
		}
		for _, w := range want {
			if !strings.Contains(body, ">"+w+"</a>") {
				t.Errorf("audit?%s lacks %s", q, w)
			}
		}
	}
	if a := send(t, http.MethodGet, h.base+consolePrefix+"/audit?before=x", nil, withCookie(c)...); a.status != http.StatusBadRequest ||
		!strings.Contains(a.body, `id="audit-problem"`) {
		t.Errorf("audit?before=x: %d", a.status)
	}

	// Paging: older entries behind a link that keeps the filter.
	for i := range consoleListPage {
		h.merchant(fmt.Sprintf("p%03d", i), "Paged", "Nice")
	}
	first := page(t, h.base, consolePrefix+"/audit?action=merchant.create", c).body
	if n := strings.Count(first, `data-testid="audit-row"`); n != consoleListPage {
		t.Fatalf("first page of merchant.create: %d rows", n)
	}
	i := strings.Index(first, `id="next-page" href="`)
	if i < 0 {
		t.Fatal("no link to older entries")
	}
	link := first[i+len(`id="next-page" href="`):]
	link = strings.ReplaceAll(link[:strings.IndexByte(link, '"')], "&amp;", "&")
	older := page(t, h.base, link, c).body
	if n := strings.Count(older, `data-testid="audit-row"`); n != 1 || !strings.Contains(older, "merchant:m1") {
		t.Errorf("older page (%s): %d rows, want merchant m1's creation only", link, n)
	}
}

// The keys page is for admins: it lists every stored key by its prefix, never a secret,
// with revoke for the live ones; other roles are told they may not, with a 403, and are
// not offered the page in the navigation.
func TestConsoleKeysPage(t *testing.T) {
	h := newHarness(t, sqliteStore(t))
	live, liveSecret := h.newKey(campaign.RoleSender)
	gone, goneSecret := h.newKey(campaign.RoleAuthor)
	if _, err := h.store.RevokeKey(t.Context(), campaign.BootstrapActor, gone.ID); err != nil {
		t.Fatal(err)
	}
	c := consoleSession(t, h.base, key)
	a := page(t, h.base, consolePrefix+"/keys", c)
	checkStrictCSP(t, "keys", a.body)
	for _, want := range []string{`<tr id="` + live.ID + `"`, `<tr id="` + gone.ID + `"`, `<code>` + live.Prefix + `…</code>`,
		`data-key-id="` + live.ID + `" data-testid="revoke"`, `id="key-form"`, `<option value="viewer">`, `data-testid="nav-keys"`} {
		if !strings.Contains(a.body, want) {
			t.Errorf("keys page lacks %s", want)
		}
	}
	if strings.Contains(a.body, `data-key-id="`+gone.ID+`" data-testid="revoke"`) {
		t.Error("a revoked key is offered for revoking")
	}
	if strings.Contains(a.body, liveSecret) || strings.Contains(a.body, goneSecret) {
		t.Error("the keys page shows a secret")
	}
	for _, role := range []campaign.Role{campaign.RoleViewer, campaign.RoleAuthor, campaign.RoleSender} {
		_, secret := h.newKey(role)
		sc := consoleSession(t, h.base, secret)
		a := send(t, http.MethodGet, h.base+consolePrefix+"/keys", nil, withCookie(sc)...)
		if a.status != http.StatusForbidden || !strings.Contains(a.body, "Only an admin manages staff keys; your role is "+string(role)+".") {
			t.Errorf("role %s on the keys page: %d %.300s", role, a.status, a.body)
		}
		if strings.Contains(page(t, h.base, consoleHome, sc).body, `data-testid="nav-keys"`) {
			t.Errorf("role %s is offered the keys page", role)
		}
	}
}

// A merchant's page: a form that saves for roles with author and is disabled for others,
// delete for authors, ending sessions for admins, and its audit trail; the new-merchant
// form; an unknown or deleted merchant is a 404 page.
func TestConsoleMerchantPage(t *testing.T) {
	h := newHarness(t, sqliteStore(t))
	h.merchant("m1", hostileName, "Paris", "vip")
	h.merchant("gone", "Gone", "Paris")
	if err := h.store.DeleteMerchant(t.Context(), campaign.BootstrapActor, "gone"); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		role                  campaign.Role
		edit, delete, session bool
	}{
		{campaign.RoleViewer, false, false, false},
		{campaign.RoleAuthor, true, true, false},
		{campaign.RoleSender, false, false, false},
		{campaign.RoleAdmin, true, true, true},
	} {
		_, secret := h.newKey(tc.role)
		c := consoleSession(t, h.base, secret)
		body := page(t, h.base, consolePrefix+"/merchants/m1", c).body
		checkStrictCSP(t, "merchant", body)
		for what, wrong := range map[string]bool{
			"the save button":      strings.Contains(body, `id="merchant-save"`) != tc.edit,
			"the read-only notice": strings.Contains(body, `id="not-editable"`) == tc.edit,
			"delete":               strings.Contains(body, `id="delete-merchant"`) != tc.delete,
			"end its sessions":     strings.Contains(body, `id="end-sessions"`) != tc.session,
			"the list's new button": strings.Contains(page(t, h.base, consolePrefix+"/merchants", c).body,
				`id="new-merchant"`) != tc.edit,
		} {
			if wrong {
				t.Errorf("role %s: %s shown wrongly", tc.role, what)
			}
		}
		if !strings.Contains(body, `id="merchant-name" data-field="name" value="&lt;script&gt;`) ||
			!strings.Contains(body, `id="merchant-tags" data-field="tags" value="vip"`) || strings.Contains(body, "<script>alert") {
			t.Errorf("role %s: the form does not hold the merchant, escaped", tc.role)
		}
		if !strings.Contains(body, `<td>merchant.create</td>`) {
			t.Errorf("role %s: no audit trail", tc.role)
		}
	}
	c := consoleSession(t, h.base, key)
	if body := page(t, h.base, consolePrefix+"/merchants/new", c).body; !strings.Contains(body, `id="merchant-id" data-field="id"`) ||
		!strings.Contains(body, `data-new="true"`) || !strings.Contains(body, ">Add merchant</button>") {
		t.Errorf("the new merchant form:\n%.2000s", body)
	}
	if body := page(t, h.base, consolePrefix+"/merchants", c).body; !strings.Contains(body, `<a href="/admin/console/merchants/m1">m1</a>`) {
		t.Error("the list does not link a merchant's page")
	}
	for _, id := range []string{"nobody", "gone"} {
		a := send(t, http.MethodGet, h.base+consolePrefix+"/merchants/"+id, nil, withCookie(c)...)
		if a.status != http.StatusNotFound || !strings.Contains(a.body, "There is no merchant "+id+".") {
			t.Errorf("merchant %s: %d %.300s", id, a.status, a.body)
		}
	}
}
