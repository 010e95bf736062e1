package admin

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/bangbang-im/bangbang/marketing/campaign"
)

// withSession is withCookie plus the session's CSRF token, as the console's pages send
// it: read from whoami, which gives it to a cookie-authenticated caller.
func withSession(t *testing.T, base string, c *http.Cookie) []string {
	t.Helper()
	a := send(t, "GET", base+"/admin/v1/whoami", nil, withCookie(c)...)
	var who struct {
		CSRFToken string `json:"csrf_token"`
	}
	if err := json.Unmarshal([]byte(a.body), &who); err != nil || a.status != 200 || who.CSRFToken == "" {
		t.Fatalf("whoami by session: %d %s", a.status, a.body)
	}
	return append(withCookie(c), CSRFHeader, who.CSRFToken)
}

// A change made with the session cookie needs the session's CSRF token; a read does not,
// and neither does a bearer key (the browser never sends one by itself).
func TestSessionChangesNeedCSRFToken(t *testing.T) {
	h := newHarness(t, sqliteStore(t))
	h.merchant("m1", "Alice", "Paris")
	c := sessionCookie(loginWith(t, h.base, key, ""))
	if c == nil {
		t.Fatal("no session")
	}
	body := `{"name":"csrf","rate":10,"audience":{"merchant_ids":["m1"]},"message":{"title":"t","body":"b"}}`
	create := func(headers ...string) answer {
		return send(t, "POST", h.base+"/admin/v1/campaigns", strings.NewReader(body), append(headers, "Content-Type", "application/json")...)
	}
	for name, headers := range map[string][]string{
		"no token":          withCookie(c),
		"a wrong token":     append(withCookie(c), CSRFHeader, "not-the-token"),
		"another session's": withSession(t, h.base, sessionCookie(loginWith(t, h.base, key, ""))),
	} {
		if name == "another session's" {
			headers = append(withCookie(c), headers[len(headers)-2:]...)
		}
		if a := create(headers...); a.status != http.StatusForbidden || apiError(t, a).Code != CodeCSRFFailed {
			t.Errorf("create with the cookie and %s: %d %s", name, a.status, a.body)
		}
	}
	if a := create(withSession(t, h.base, c)...); a.status != http.StatusCreated {
		t.Errorf("create with the cookie and its token: %d %s", a.status, a.body)
	}
	if a := create("Authorization", "Bearer "+key); a.status != http.StatusCreated {
		t.Errorf("create with the key: %d %s", a.status, a.body)
	}
	if a := send(t, "GET", h.base+"/admin/v1/campaigns", nil, withCookie(c)...); a.status != http.StatusOK {
		t.Errorf("a read with the cookie alone: %d", a.status)
	}
	// A key's answer carries no token: there is no session to forge for.
	var who map[string]any
	a := send(t, "GET", h.base+"/admin/v1/whoami", nil, "Authorization", "Bearer "+key)
	if jsonInto(t, a.body, &who); who["csrf_token"] != nil || who["role"] != string(campaign.RoleAdmin) {
		t.Errorf("whoami by key: %s", a.body)
	}
}
