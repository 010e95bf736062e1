package main

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bangbang-im/bangbang/internal/browsertest"
	"github.com/bangbang-im/bangbang/marketing/campaign"
)

// The console's merchants, keys and audit pages in a real browser against `bangbang all
// --demo`: an admin finds a demo merchant, imports a CSV and reads its per-row report,
// finds the imported merchant, creates a key whose secret works once shown, revokes it
// after confirming (and it stops working), and reads both changes in the audit log.
func TestConsoleMerchantsKeysAuditInBrowser(t *testing.T) {
	t.Parallel()
	s := startAllProc(t, nil)
	tab := browsertest.New(t)
	tab.Navigate(s.admin + "/admin/console/merchants")
	tab.Fill("#key", testAdminKey)
	tab.Click(`button[type=submit]`)
	tab.WaitText("h1", "Merchants")
	if n := tab.Count(`[data-testid="merchant-row"]`); n != len(demoMerchants()) {
		t.Errorf("the merchant list shows %d rows, want the %d demo merchants", n, len(demoMerchants()))
	}
	tab.Fill("#search", "merchant 1003")
	tab.Click("#search-submit")
	tab.WaitVisible("#clear-search")
	if n, text := tab.Count(`[data-testid="merchant-row"]`), tab.Text("#merchants"); n != 1 || !strings.Contains(text, "m1003") {
		t.Errorf("searching 'merchant 1003': %d rows:\n%s", n, text)
	}

	// The import: a new merchant, a demo merchant renamed, and a row without a name.
	csv := filepath.Join(t.TempDir(), "audience.csv")
	if err := os.WriteFile(csv, []byte("id,name,city,category,tags\n"+
		"m2001,Harbour Lettings,Qingdao,housing,vip;new\n"+
		"m1001,Merchant 1001 Renamed,Shanghai,housing,\n"+
		"m2002,,Qingdao,housing,\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tab.Upload("#import-file", csv)
	tab.Click("#import-submit")
	tab.WaitVisible("#import-report")
	for sel, want := range map[string]string{"#import-rows": "3", "#import-created": "1", "#import-updated": "1", "#import-rejected": "1"} {
		if got := tab.Text(sel); got != want {
			t.Errorf("import report %s = %q, want %q", sel, got, want)
		}
	}
	if n, text := tab.Count(`[data-testid="import-error-row"]`), tab.Text("#import-errors"); n != 1 ||
		!strings.Contains(text, "4") || !strings.Contains(text, "m2002") || !strings.Contains(text, "name") {
		t.Errorf("the rejected rows: %d\n%s", n, text)
	}
	tab.Screenshot("merchants-import")
	tab.Navigate(s.admin + "/admin/console/merchants?city=Qingdao")
	tab.WaitText("#merchants", "Harbour Lettings")
	if n := tab.Count(`[data-testid="merchant-row"]`); n != 1 {
		t.Errorf("Qingdao after the import: %d merchants, want the one stored", n)
	}

	// A merchant added by hand, changed, and deleted, each from its page.
	tab.Navigate(s.admin + "/admin/console/merchants")
	tab.Click("#new-merchant")
	tab.WaitVisible("#merchant-id")
	tab.Fill("#merchant-id", "bad id")
	tab.Fill("#merchant-name", "Seaside Homes")
	tab.Click("#merchant-save")
	tab.WaitVisible("#merchant-error")
	if n := tab.Count(`#merchant-id[aria-invalid="true"]`); n != 1 {
		t.Error("a refused id is not marked at its field")
	}
	tab.Fill("#merchant-id", "m2100")
	tab.Fill("#merchant-city", "Xiamen")
	tab.Fill("#merchant-tags", "vip, new")
	tab.Click("#merchant-save")
	tab.WaitText("#merchant-title", "Seaside Homes")
	if u := tab.URL(); !strings.HasSuffix(u, "/admin/console/merchants/m2100") {
		t.Errorf("after adding, the page is %s", u)
	}
	tab.Fill("#merchant-city", "Fuzhou")
	tab.Click("#merchant-save")
	tab.WaitText("#merchant-status", "Saved at")
	tab.Navigate(s.admin + "/admin/console/merchants/m2100")
	tab.WaitText("#audit", "merchant.update")
	if got := tab.Value("#merchant-city"); got != "Fuzhou" {
		t.Errorf("the city after saving: %q", got)
	}
	tab.Click("#delete-merchant")
	tab.WaitVisible("#confirm-dialog")
	tab.Click("#confirm-yes")
	tab.WaitText("h1", "Merchants")
	if code := tab.Navigate(s.admin + "/admin/console/merchants/m2100"); code != http.StatusNotFound {
		t.Errorf("the deleted merchant's page: %d, want 404", code)
	}

	// Ending a merchant's sessions closes its live IM session.
	ctx := t.Context()
	app := dialUser(t, ctx, s, "m1005", "phone")
	if _, err := app.Send(ctx, "c1005", "text/plain", []byte("hello")); err != nil {
		t.Fatalf("m1005 sends before: %v", err)
	}
	tab.Navigate(s.admin + "/admin/console/merchants/m1005")
	tab.Click("#end-sessions")
	tab.WaitVisible("#confirm-dialog")
	tab.Click("#confirm-yes")
	tab.WaitText("#merchant-action-result", "1 live IM session closed")

	// A campaign's recipients, after it ran.
	var cp campaign.Campaign
	api := staffAPI{t, s.admin}
	if st := api.json("POST", "/admin/v1/campaigns", campaign.Spec{Name: "recipients", Rate: 50,
		Audience: campaign.Audience{MerchantIDs: []string{"m1001", "m1002", "m1003"}},
		Message:  campaign.Message{Title: "Hi", Body: "b"}}, &cp); st != 201 {
		t.Fatalf("create campaign: %d", st)
	}
	if st := api.json("POST", "/admin/v1/campaigns/"+cp.ID+"/start", nil, nil); st != 200 {
		t.Fatalf("start: %d", st)
	}
	api.waitCampaign(cp.ID, "finished", func(c campaign.Campaign) bool { return c.State == campaign.StateFinished })
	tab.Navigate(s.admin + "/admin/console/campaigns/" + cp.ID)
	tab.Click("#recipients-link")
	tab.WaitVisible("#recipients")
	if n, sent := tab.Count(`[data-testid="recipient-row"]`), tab.Count(`[data-testid="recipient-row"][data-status="sent"]`); n != 3 || sent != 3 {
		t.Errorf("recipients: %d rows, %d sent; want 3 sent", n, sent)
	}
	tab.Click(`a[data-status="failed"]`)
	tab.WaitVisible("#no-recipients")

	// Duplicated from its page: a new draft with its audience and message, open to edit.
	tab.Navigate(s.admin + "/admin/console/campaigns/" + cp.ID)
	tab.Click("#duplicate")
	tab.WaitText("h1", "Edit campaign")
	if name, ids := tab.Value("#campaign-name"), tab.Value("#merchant-ids"); name != "recipients (copy)" || ids != "m1001\nm1002\nm1003" {
		t.Errorf("the duplicate: name %q, merchant ids %q", name, ids)
	}

	// The list follows a running campaign without being reloaded: 10 merchants at 1 a
	// second take about 10 s, time enough to see it running first on a loaded machine.
	var slow campaign.Campaign
	if st := api.json("POST", "/admin/v1/campaigns", campaign.Spec{Name: "slow one", Rate: 1,
		Audience: campaign.Audience{MerchantIDs: []string{"m1011", "m1012", "m1013", "m1014", "m1015", "m1016", "m1017", "m1018", "m1019", "m1020"}},
		Message:  campaign.Message{Title: "Hi", Body: "b"}}, &slow); st != 201 {
		t.Fatalf("create campaign: %d", st)
	}
	if st := api.json("POST", "/admin/v1/campaigns/"+slow.ID+"/start", nil, nil); st != 200 {
		t.Fatalf("start: %d", st)
	}
	tab.Navigate(s.admin + "/admin/console/campaigns")
	row := `tr[data-campaign-id="` + slow.ID + `"]`
	if st := tab.Text(row + " .state"); st != "running" && st != "scheduled" {
		t.Fatalf("the slow campaign is %q on the list, want it running", st)
	}
	tab.WaitText(row+" .state", "finished")
	tab.WaitText(row+" .progress-text", "10/10 (100.0%)")

	// A key, created and revoked from the page.
	tab.Click(`[data-testid="nav-keys"]`)
	tab.WaitText("h1", "Staff keys")
	tab.Fill("#key-name", "browser viewer")
	tab.Select("#key-role", "viewer")
	tab.Click("#create-key")
	tab.WaitVisible("#new-secret")
	secret := tab.Text("#new-secret-value")
	if !strings.HasPrefix(secret, "bbk_") {
		t.Fatalf("the new key's secret shown is %q", secret)
	}
	if st := whoamiStatus(t, s.admin, secret); st != http.StatusOK {
		t.Fatalf("the new key's whoami: %d, want 200", st)
	}
	tab.Screenshot("keys-created")
	tab.Navigate(s.admin + "/admin/console/keys")
	tab.WaitText("#keys", "browser viewer")
	if strings.Contains(tab.Text("main"), secret) {
		t.Error("the keys page shows a secret after its creation")
	}
	tab.Click(`[data-testid="key-row"] button.revoke`)
	tab.WaitVisible("#confirm-dialog")
	tab.Click("#confirm-no") // asked, and left alone
	if st := whoamiStatus(t, s.admin, secret); st != http.StatusOK {
		t.Fatalf("after answering no, the key's whoami: %d, want 200", st)
	}
	tab.Click(`[data-testid="key-row"] button.revoke`)
	tab.WaitVisible("#confirm-dialog")
	tab.Click("#confirm-yes")
	tab.WaitText("#keys", "revoked")
	if st := whoamiStatus(t, s.admin, secret); st != http.StatusUnauthorized {
		t.Errorf("the revoked key's whoami: %d, want 401", st)
	}

	// Both changes, and the import, are in the audit log.
	tab.Click(`[data-testid="nav-audit"]`)
	tab.WaitText("h1", "Audit log")
	for _, action := range []string{"key.revoke", "key.create", "merchant.import"} {
		if !strings.Contains(tab.Text("#audit"), action) {
			t.Errorf("the audit log lacks %s", action)
		}
	}
	tab.Fill("#filter-action", "key.")
	tab.Click("#audit-submit")
	tab.WaitVisible("#clear-filter")
	tab.WaitText("#audit", "key.revoke")
	if n := tab.Count(`[data-testid="audit-row"]`); n != 2 {
		t.Errorf("audit entries of key.: %d, want create and revoke", n)
	}
	tab.Screenshot("audit")
	tab.NoJSErrors()
}

// whoamiStatus is the status GET /admin/v1/whoami answers the key.
func whoamiStatus(t *testing.T, admin, key string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, admin+"/admin/v1/whoami", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}
