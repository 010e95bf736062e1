package main

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/bangbang-im/bangbang/core-im/client"
	"github.com/bangbang-im/bangbang/internal/browsertest"
	"github.com/bangbang-im/bangbang/marketing/campaign"
)

// A campaign made in the console, in a real browser, against `bangbang all --demo`: an
// admin logs in with a key, writes a campaign to a segment (the form counts its audience
// live), previews it for one merchant, starts it from its page and follows it to 100%.
// Every merchant of the segment connected with the SDK gets the message once, rendered
// for it; a merchant of the same city outside the segment gets nothing. A viewer key, in
// the same console, has no button to create or start a campaign, and the API refuses it
// the start too.
func TestConsoleCampaignToSegmentInBrowser(t *testing.T) {
	t.Parallel()
	s := startAllProc(t, nil)
	api := staffAPI{t, s.admin}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	// The segment and, from the demo's own list, who is in it; the outsider lives in one
	// of its cities but is not in its category.
	seg := campaign.Segment{Cities: []string{"Shanghai", "Beijing"}, Categories: []string{"housing"}}
	var members []campaign.Merchant
	var outsider campaign.Merchant
	for _, m := range demoMerchants() {
		switch {
		case slices.Contains(seg.Cities, m.City) && slices.Contains(seg.Categories, m.Category):
			members = append(members, m)
		case outsider.ID == "" && slices.Contains(seg.Cities, m.City):
			outsider = m
		}
	}
	if len(members) < 2 || outsider.ID == "" {
		t.Fatalf("the demo merchants no longer make this segment useful: %d in it, outsider %q", len(members), outsider.ID)
	}

	// Their apps are online before anything is sent.
	online := append(slices.Clone(members), outsider)
	apps := map[string]*client.Client{}
	for _, m := range online {
		apps[m.ID] = dialUser(t, ctx, s, m.ID, "phone")
	}

	tab := browsertest.New(t)
	tab.Navigate(s.admin + "/admin/login")
	tab.Fill("#key", testAdminKey)
	tab.Click(`button[type=submit]`)
	tab.WaitText("#actor-role", "admin")
	tab.WaitText("h1", "Campaigns")
	if u := tab.URL(); !regexp.MustCompile(`/admin/console/campaigns$`).MatchString(u) {
		t.Fatalf("after logging in the browser is at %s, want the campaign list", u)
	}

	// The form: a segment, no merchant ids, a title naming each merchant.
	tab.Click("#new-campaign")
	tab.WaitText("h1", "New campaign")
	tab.Fill("#campaign-name", "spring in two cities")
	tab.Fill("#segment-cities", "Shanghai, Beijing")
	tab.Fill("#segment-categories", "housing")
	tab.Fill("#message-title", "Hello {{.Name}}")
	tab.Fill("#message-body", "Spring offer in {{.City}}")
	tab.Fill("#rate", "50")
	wantCount := fmt.Sprintf("%d merchants", len(members))
	tab.WaitText("#audience-count", wantCount)
	if got := tab.Text("#audience-count"); got != wantCount {
		t.Fatalf("the form says it reaches %q, want %q", got, wantCount)
	}
	tab.Screenshot("form")
	tab.Click("#save")
	tab.WaitText("h1", "Edit campaign")
	match := regexp.MustCompile(`/admin/console/campaigns/([^/?#]+)/edit$`).FindStringSubmatch(tab.URL())
	if match == nil {
		t.Fatalf("after creating the draft the browser is at %s, want its edit page", tab.URL())
	}
	id := match[1]
	if c := api.campaign(id); c.State != campaign.StateDraft || len(c.Audience.MerchantIDs) != 0 || c.Audience.Segment == nil ||
		!slices.Equal(c.Audience.Segment.Cities, seg.Cities) || !slices.Equal(c.Audience.Segment.Categories, seg.Categories) ||
		c.Rate != 50 || c.Message.Title != "Hello {{.Name}}" {
		t.Fatalf("the form saved %+v", c)
	}

	// The preview renders the saved draft for one merchant of the segment.
	probe := members[len(members)-1]
	tab.Fill("#preview-merchant", probe.ID)
	tab.Click("#preview")
	tab.WaitVisible("#preview-result")
	if title, body := tab.Text("#preview-title"), tab.Text("#preview-body"); title != "Hello "+probe.Name || body != "Spring offer in "+probe.City {
		t.Fatalf("the preview for %s shows %q / %q", probe.ID, title, body)
	}
	tab.Screenshot("preview")

	// Started from its page, after the confirmation, and followed to the end.
	tab.Click("#campaign-link")
	tab.WaitText("#state", "draft")
	tab.Click("#start")
	tab.WaitVisible("#confirm-dialog")
	tab.Click("#confirm-yes")
	tab.WaitText("#state", "finished")
	tab.WaitText("#progress-percent", "100.0%")
	want := strconv.Itoa(len(members))
	if targeted, sent := tab.Text("#stat-targeted"), tab.Text("#stat-sent"); targeted != want || sent != want {
		t.Fatalf("the finished campaign shows targeted %s, sent %s; want %s each", targeted, sent, want)
	}
	// The chart has its sample of the first batch, taken before the campaign finished.
	chartCtx, cancelChart := context.WithTimeout(tab.Context(), 10*time.Second)
	defer cancelChart()
	if err := chromedp.Do(chartCtx, chromedp.WaitReady(chromedp.CSS(`#progress-chart polyline[data-series="sent"]`))); err != nil {
		t.Fatalf("the progress chart has no line of sent messages: %v", err)
	}
	tab.Screenshot("finished")

	// What the apps show. A message from a customer, sent after the campaign finished,
	// comes after every campaign message in each merchant's inbox (the SDK hands messages
	// over in inbox order, with no gaps), so what an app got before it is all it will get.
	customer := dialUser(t, ctx, s, "c1001", "phone")
	for _, m := range online {
		got := campaignMessagesBefore(t, ctx, customer, apps[m.ID], id)
		if m.ID == outsider.ID {
			if len(got) != 0 {
				t.Errorf("%s, outside the segment, got the campaign: %+v", m.ID, got)
			}
			continue
		}
		if len(got) != 1 || got[0].Title != "Hello "+m.Name || got[0].Body != "Spring offer in "+m.City {
			t.Errorf("%s got %+v, want the campaign once, titled %q", m.ID, got, "Hello "+m.Name)
		}
	}
	// Each app acknowledged its message: the page shows them delivered.
	api.waitCampaign(id, "every message delivered", func(c campaign.Campaign) bool { return c.Stats.Delivered == int64(len(members)) })
	tab.Navigate(s.admin + "/admin/console/campaigns/" + id)
	tab.WaitText("#state", "finished")
	if got := tab.Text("#stat-delivered"); got != want {
		t.Errorf("the finished campaign shows %s delivered, want %s", got, want)
	}
	tab.Screenshot("delivered") // README's docs/images/console-campaign.png

	// A viewer. The admin sees the start button of a draft, so its absence for the viewer
	// is the role's doing.
	var draft campaign.Campaign
	spec := campaign.Spec{Name: "a draft the viewer looks at", Rate: 50, Audience: campaign.Audience{MerchantIDs: []string{members[0].ID}},
		Message: campaign.Message{Title: "Hi {{.Name}}", Body: "Not sent"}}
	if st := api.json("POST", "/admin/v1/campaigns", spec, &draft); st != 201 {
		t.Fatalf("create the draft: %d", st)
	}
	var viewer struct {
		Key    campaign.Key `json:"key"`
		Secret string       `json:"secret"`
	}
	if st := api.json("POST", "/admin/v1/keys", map[string]string{"name": "browser viewer", "role": "viewer"}, &viewer); st != 201 || viewer.Secret == "" {
		t.Fatalf("create a viewer key: %d %+v", st, viewer.Key)
	}
	draftPage := s.admin + "/admin/console/campaigns/" + draft.ID
	tab.Navigate(draftPage)
	tab.WaitText("#state", "draft")
	if n, controls := tab.Count("#start"), tab.Count("#controls"); n != 1 || controls != 1 {
		t.Fatalf("the admin sees %d start buttons and %d delivery controls on a draft, want 1 each", n, controls)
	}

	tab.Click("#logout")
	tab.WaitVisible("#key")
	tab.Fill("#key", viewer.Secret)
	tab.Click(`button[type=submit]`)
	tab.WaitText("#actor-role", "viewer")
	tab.WaitText("h1", "Campaigns")
	tab.WaitText("#campaigns", "a draft the viewer looks at")
	if n := tab.Count("#new-campaign"); n != 0 {
		t.Errorf("the viewer's campaign list has %d New campaign buttons", n)
	}
	tab.Navigate(draftPage)
	tab.WaitText("#state", "draft")
	tab.WaitText("#actor-role", "viewer")
	if n, controls := tab.Count("#start"), tab.Count("#controls"); n != 0 || controls != 0 {
		t.Errorf("the viewer sees %d start buttons and %d delivery controls on a draft, want none", n, controls)
	}
	tab.Screenshot("viewer")
	if st, body := bearerPost(t, s.admin+"/admin/v1/campaigns/"+draft.ID+"/start", viewer.Secret); st != 403 {
		t.Errorf("the viewer starting the draft through the API: %d %s, want 403", st, body)
	}
	if c := api.campaign(draft.ID); c.State != campaign.StateDraft {
		t.Errorf("after the viewer's attempt the draft is %s", c.State)
	}
	tab.NoJSErrors()
}

// campaignMessagesBefore sends app's user a chat message from sender and returns the
// messages of campaign id that app got before that one.
func campaignMessagesBefore(t *testing.T, ctx context.Context, sender, app *client.Client, id string) []campaign.Rendered {
	t.Helper()
	marker := "after the campaign, to " + app.UserID()
	if _, err := sender.Send(ctx, app.UserID(), "text/plain", []byte(marker)); err != nil {
		t.Fatalf("send to %s: %v", app.UserID(), err)
	}
	var got []campaign.Rendered
	for {
		m := receive(t, app, 1)[0]
		if m.From == sender.UserID() && string(m.Body) == marker {
			return got
		}
		var r campaign.Rendered
		if m.ContentType == campaign.ContentType && json.Unmarshal(m.Body, &r) == nil && r.CampaignID == id {
			got = append(got, r)
		}
	}
}
