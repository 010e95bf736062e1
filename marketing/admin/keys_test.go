package admin

import (
	"net/http"
	"strings"
	"testing"

	"github.com/bangbang-im/bangbang/marketing/campaign"
)

// A new key's secret is shown once and works at once; revoking it (through this server)
// ends it at once, though it was just used and so cached, and ends its browser sessions.
func TestKeyLifecycle(t *testing.T) {
	h := newHarness(t, sqliteStore(t))
	var created struct {
		Key    campaign.Key `json:"key"`
		Secret string       `json:"secret"`
	}
	a := h.ok(201, &created, "POST", "/admin/v1/keys", key, map[string]string{"name": "  release bot ", "role": "sender"})
	k := created.Key
	if !strings.HasPrefix(created.Secret, campaign.KeyPrefix) || k.Role != campaign.RoleSender || k.Name != "release bot" ||
		k.CreatedBy != "bootstrap" || k.RevokedAt != nil || !strings.HasPrefix(created.Secret, k.Prefix) ||
		a.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("created %+v, secret %q, headers %v", k, created.Secret, a.header)
	}

	var who campaign.Actor
	h.ok(200, &who, "GET", "/admin/v1/whoami", created.Secret, nil)
	if who != (campaign.Actor{KeyID: k.ID, Name: "release bot", Role: campaign.RoleSender}) {
		t.Fatalf("whoami with the new key: %+v", who)
	}
	var list struct{ Keys []campaign.Key }
	a = h.ok(200, &list, "GET", "/admin/v1/keys", key, nil)
	if len(list.Keys) != 1 || list.Keys[0].ID != k.ID || strings.Contains(a.body, created.Secret) {
		t.Fatalf("key list %s", a.body)
	}

	// A browser session opened with the key.
	c := sessionCookie(loginWith(t, h.base, created.Secret, ""))
	if c == nil {
		t.Fatal("no session for a stored key")
	}

	var revoked campaign.Key
	h.ok(200, &revoked, "DELETE", "/admin/v1/keys/"+k.ID, key, nil)
	if revoked.ID != k.ID || revoked.RevokedAt == nil {
		t.Fatalf("revoked %+v", revoked)
	}
	if a := h.do("GET", "/admin/v1/whoami", created.Secret, nil); a.status != 401 || apiError(t, a).Code != CodeUnauthenticated {
		t.Fatalf("revoked key: %d %s", a.status, a.body)
	}
	if a := send(t, "GET", h.base+"/admin/v1/whoami", nil, withCookie(c)...); a.status != 401 {
		t.Fatalf("session of a revoked key: %d", a.status)
	}
	if a := loginWith(t, h.base, created.Secret, ""); a.status != 401 {
		t.Fatalf("login with a revoked key: %d", a.status)
	}
	// Revoking again changes nothing; unknown keys and the bootstrap key are not stored.
	h.ok(200, nil, "DELETE", "/admin/v1/keys/"+k.ID, key, nil)
	for _, id := range []string{"key_0000000000000000", "bootstrap"} {
		if a := h.do("DELETE", "/admin/v1/keys/"+id, key, nil); a.status != 404 || apiError(t, a).Code != CodeNotFound {
			t.Errorf("revoke %s: %d %s", id, a.status, a.body)
		}
	}
	if a := h.do("GET", "/admin/v1/whoami", key, nil); a.status != 200 {
		t.Fatalf("bootstrap key after the attempt: %d", a.status)
	}
}

func TestKeyInput(t *testing.T) {
	h := newHarness(t, sqliteStore(t))
	for _, tc := range []struct {
		body   any
		status int
		field  string
	}{
		{map[string]string{"name": "x", "role": "root"}, 422, "role"},
		{map[string]string{"name": " ", "role": "viewer"}, 422, "name"},
		{map[string]any{"name": "x", "role": "viewer", "secret": "bbk_mine"}, 400, ""},
		{map[string]any{"name": 7, "role": "viewer"}, 422, "name"},
		{`{"name": "x", "role": "viewer"`, 400, ""},
		{`{"name": "x", "role": "viewer"} {}`, 400, ""},
		{"", 400, ""},
	} {
		a := h.do("POST", "/admin/v1/keys", key, tc.body, "Content-Type", "application/json")
		e := apiError(t, a)
		if a.status != tc.status || e.Field != tc.field {
			t.Errorf("create key %v: %d %+v, want %d naming %q", tc.body, a.status, e, tc.status, tc.field)
		}
	}
	if keys, _ := h.store.ListKeys(t.Context()); len(keys) != 0 {
		t.Fatalf("refused input stored keys: %+v", keys)
	}
}

// Unknown, revoked, malformed and missing keys are 401 on every kind of route.
func TestUnknownAndRevokedKeys(t *testing.T) {
	h := newHarness(t, sqliteStore(t))
	k, revokedSecret := h.newKey(campaign.RoleAdmin)
	if _, err := h.store.RevokeKey(t.Context(), campaign.BootstrapActor, k.ID); err != nil {
		t.Fatal(err)
	}
	_, live := h.newKey(campaign.RoleAdmin)
	unknown := "bbk_" + strings.Repeat("ab", 24)
	for _, cl := range matrix() {
		path := cl.path(fixture{merchant: "m1", key: "key_x", draft: "cmp_x", running: "cmp_x", paused: "cmp_x", toStart: "cmp_x",
			toCancel: "cmp_x", doomedDraft: "cmp_x", doomedMerchant: "m2", newMerchant: "m3", importedIDTag: "i"})
		for _, bad := range []string{"", unknown, revokedSecret, live + "x", live[:len(live)-1], "Bearer"} {
			a := h.do(cl.method, path, bad, cl.body(fixture{}), cl.hdr...)
			if cl.method == "GET" && strings.HasPrefix(path, "/admin/traces") {
				if a.status != http.StatusSeeOther {
					t.Errorf("%s %s with %q: %d, want 303", cl.method, path, bad, a.status)
				}
				continue
			}
			if a.status != 401 || apiError(t, a).Code != CodeUnauthenticated || a.header.Get("WWW-Authenticate") == "" {
				t.Errorf("%s %s with %q: %d %s, want 401", cl.method, path, bad, a.status, a.body)
			}
		}
	}
}

// A session acts as the key that logged in, role included.
func TestSessionActsAsItsKey(t *testing.T) {
	h := newHarness(t, sqliteStore(t))
	k, secret := h.newKey(campaign.RoleViewer)
	h.merchant("m1", "Alice", "Paris")
	draft := h.campaignIn(campaign.StateDraft, spec("s", "m1"))
	c := sessionCookie(loginWith(t, h.base, secret, ""))
	if c == nil {
		t.Fatal("no session")
	}
	var who campaign.Actor
	a := send(t, "GET", h.base+"/admin/v1/whoami", nil, withCookie(c)...)
	if a.status != 200 || jsonInto(t, a.body, &who) != (campaign.Actor{KeyID: k.ID, Name: "viewer key", Role: campaign.RoleViewer}) {
		t.Fatalf("whoami by session: %d %s", a.status, a.body)
	}
	a = send(t, "POST", h.base+"/admin/v1/campaigns/"+draft.ID+"/start", nil, withSession(t, h.base, c)...)
	if e := apiError(t, a); a.status != 403 || e.Message != "role viewer may not start campaigns" {
		t.Fatalf("start by a viewer's session: %d %+v", a.status, e)
	}
	if a := send(t, "GET", h.base+"/admin/v1/campaigns/"+draft.ID, nil, withCookie(c)...); a.status != 200 {
		t.Fatalf("read by a viewer's session: %d", a.status)
	}
	// The bootstrap key's session is an admin.
	admin := sessionCookie(loginWith(t, h.base, key, ""))
	a = send(t, "POST", h.base+"/admin/v1/campaigns/"+draft.ID+"/start", nil, withSession(t, h.base, admin)...)
	if a.status != 200 {
		t.Fatalf("start by the bootstrap session: %d %s", a.status, a.body)
	}
}
