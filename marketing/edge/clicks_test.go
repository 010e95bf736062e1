package edge

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
)

// clickLog records the clicks the edge reports; the campaign store behind the real
// interface is tested in marketing/campaign and end to end in cmd/bangbang.
type clickLog struct {
	mu   sync.Mutex
	got  []string // campaign/merchant
	fail error
}

func (l *clickLog) RecordClick(_ context.Context, campaignID, merchantID string) (bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.fail != nil {
		return false, l.fail
	}
	l.got = append(l.got, campaignID+"/"+merchantID)
	return true, nil
}

func (l *clickLog) clicks() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.got)
}

// A marketing action that names a campaign counts as that campaign's click for the
// merchant who made it, only when the action succeeded; a failure to count never
// reaches the merchant.
func TestCampaignClicks(t *testing.T) {
	log := &clickLog{}
	h := newHarness(t, options{clicks: log})
	tok := h.token("m1001", "merchant")
	click := map[string]string{ClickHeader: "cmp_spring"}

	h.do(t, req{method: "POST", path: "/v1/listings/Lm1001-01/refresh", token: tok, header: click}).ok(t, &map[string]any{})
	h.do(t, req{method: "POST", path: "/v1/listings/Lm1001-01/refresh", token: tok}).ok(t, &map[string]any{}) // no header: no click
	h.do(t, req{method: "GET", path: "/v1/credits", token: tok, header: click}).ok(t, &map[string]any{})
	// Refused or failed actions are no clicks.
	h.do(t, req{method: "POST", path: "/v1/listings/Lm1002-01/refresh", token: tok, header: click}).fails(t, 403, CodeNotOwner)
	h.do(t, req{method: "POST", path: "/v1/listings/Lm1001-01/refresh", header: click}).fails(t, 401, CodeUnauthenticated)
	if got, want := log.clicks(), []string{"cmp_spring/m1001", "cmp_spring/m1001"}; !slices.Equal(got, want) {
		t.Fatalf("clicks %v, want %v", got, want)
	}

	log.mu.Lock()
	log.fail = errors.New("campaign store down")
	log.mu.Unlock()
	h.do(t, req{method: "GET", path: "/v1/credits", token: tok, header: click}).ok(t, &map[string]any{})
	if !strings.Contains(h.logs.String(), "campaign click not recorded") {
		t.Fatal("a click that could not be recorded was not logged")
	}
}
