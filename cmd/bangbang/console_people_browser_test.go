package main

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bangbang-im/bangbang/internal/browsertest"
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
