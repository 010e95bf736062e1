package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/bangbang-im/bangbang/internal/browsertest"
	"github.com/bangbang-im/bangbang/marketing/campaign"
)

// The staff pages in a real browser, against `bangbang all --demo`: a trace page sends a
// stranger to the login form, a wrong key is refused there, the staff key lands on the
// trace list showing the merchant's action, the service map shows the edge calling the
// third party, and logging out ends the session. No page reports a JavaScript error.
func TestStaffPagesInBrowser(t *testing.T) {
	t.Parallel()
	s := startAllProc(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	lr, err := login(ctx, s.edge, "m1016", "demo")
	if err != nil {
		t.Fatal(err)
	}
	if st, b, _ := (edgeCall{t: t, base: s.edge, token: lr.Token}).do("POST", "/v1/listings/Lm1016-01/refresh", "", nil); st != 200 {
		t.Fatalf("refresh: %d %v", st, b)
	}

	tab := browsertest.New(t)
	tab.Navigate(s.admin + "/admin/traces")
	if u := tab.URL(); !strings.Contains(u, "/admin/login") {
		t.Fatalf("a stranger on the trace list is at %s, want the login form", u)
	}
	tab.Fill("#key", "bbk_not-a-key")
	tab.Click(`button[type=submit]`)
	tab.WaitText("form", "That is not a staff key.")

	tab.Fill("#key", testAdminKey)
	tab.Click(`button[type=submit]`)
	tab.WaitText("h1", "Recent traces")
	tab.WaitText("main", "POST /v1/listings/:id/refresh")
	tab.Screenshot("traces")

	tab.Click(`a[href^="/admin/traces/map"]`)
	tab.WaitText("h1", "Service map")
	tab.WaitText("table.map", "sim")
	if text := tab.Text("table.map"); !strings.Contains(text, "edge") {
		t.Errorf("the service map does not show the edge calling out:\n%s", text)
	}
	tab.Screenshot("service-map")
	tab.NoJSErrors()

	// The console: a campaign to three merchants, started from its page, followed live
	// to the end (the page polls and reloads when the state changes).
	var c campaign.Campaign
	spec := campaign.Spec{Name: "browser test", Rate: 50, Audience: campaign.Audience{MerchantIDs: []string{"m1016", "m1017", "m1018"}},
		Message: campaign.Message{Title: "Hi {{.Name}}", Body: "Spring offer"}}
	if st := (staffAPI{t, s.admin}).json("POST", "/admin/v1/campaigns", spec, &c); st != 201 {
		t.Fatalf("create campaign: %d", st)
	}
	tab.Navigate(s.admin + "/admin/console/campaigns")
	tab.WaitText("h1", "Campaigns")
	tab.WaitText("#campaigns", "browser test")
	tab.Navigate(s.admin + "/admin/console/campaigns/" + c.ID)
	tab.WaitText("#state", "draft")
	tab.Click("#start")
	tab.WaitVisible("#confirm-dialog")
	tab.Click("#confirm-yes")
	tab.WaitText("#state", "finished")
	tab.WaitText("#progress-percent", "100.0%")
	tab.Screenshot("campaign")
	tab.NoJSErrors()

	tab.Click(`form[action="/admin/logout"] button`)
	tab.WaitVisible("#key")
	tab.Navigate(s.admin + "/admin/traces")
	if u := tab.URL(); !strings.Contains(u, "/admin/login") {
		t.Errorf("after logging out the trace list is at %s, want the login form", u)
	}
}
