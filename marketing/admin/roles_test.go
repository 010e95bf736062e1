package admin

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/bangbang-im/bangbang/marketing/campaign"
)

// fixture is what one role's pass over the matrix works on: things of its own, so that
// an allowed call finds what it changes in the state it needs.
type fixture struct {
	tag                        string
	merchant, doomedMerchant   string
	key                        string // a key to revoke
	draft, doomedDraft         string
	toStart, running, paused   string
	toCancel                   string
	newMerchant, importedIDTag string
}

func (h *harness) fixture(tag string) fixture {
	h.t.Helper()
	fx := fixture{tag: tag, merchant: tag + "-m1", doomedMerchant: tag + "-m2", newMerchant: tag + "-new", importedIDTag: tag + "-imp"}
	h.merchant(fx.merchant, "Alice "+tag, "Paris", "vip")
	h.merchant(fx.doomedMerchant, "Bob "+tag, "Lyon")
	k, _ := h.newKey(campaign.RoleViewer)
	fx.key = k.ID
	sp := spec("for "+tag, fx.merchant)
	fx.draft = h.campaignIn(campaign.StateDraft, sp).ID
	fx.doomedDraft = h.campaignIn(campaign.StateDraft, sp).ID
	fx.toStart = h.campaignIn(campaign.StateDraft, sp).ID
	fx.running = h.campaignIn(campaign.StateRunning, sp).ID
	fx.paused = h.campaignIn(campaign.StatePaused, sp).ID
	fx.toCancel = h.campaignIn(campaign.StateDraft, sp).ID
	return fx
}

// call is one route of the matrix: the permission it needs and its answer when allowed.
type call struct {
	method string
	path   func(fixture) string
	body   func(fixture) any
	hdr    []string
	perm   campaign.Permission
	status int
}

func at(p string) func(fixture) string { return func(fixture) string { return p } }

func noBody(fixture) any { return nil }

// matrix lists every route that needs a staff key.
func matrix() []call {
	const v1 = "/admin/v1"
	c := func(p string) string { return v1 + "/campaigns/" + p }
	read, author, send, manage := campaign.PermRead, campaign.PermAuthor, campaign.PermSend, campaign.PermManage
	return []call{
		{"GET", at(v1 + "/whoami"), noBody, nil, read, 200},
		{"GET", at(v1 + "/audit?limit=5"), noBody, nil, read, 200},
		{"GET", at(v1 + "/keys"), noBody, nil, manage, 200},
		{"POST", at(v1 + "/keys"), func(fixture) any { return map[string]string{"name": "ci", "role": "viewer"} }, nil, manage, 201},
		{"DELETE", func(fx fixture) string { return v1 + "/keys/" + fx.key }, noBody, nil, manage, 200},
		{"GET", at(v1 + "/merchants?city=Paris&tag=vip"), noBody, nil, read, 200},
		{"GET", func(fx fixture) string { return v1 + "/merchants/" + fx.merchant }, noBody, nil, read, 200},
		{"POST", at(v1 + "/merchants"), func(fx fixture) any {
			return map[string]any{"id": fx.newMerchant, "name": "Carol", "city": "Nice", "category": "jobs", "tags": []string{"new"}}
		}, nil, author, 201},
		{"PUT", func(fx fixture) string { return v1 + "/merchants/" + fx.merchant }, func(fx fixture) any {
			return map[string]any{"name": "Alice B", "city": "Paris", "category": "housing", "tags": []string{"vip"}}
		}, nil, author, 200},
		{"DELETE", func(fx fixture) string { return v1 + "/merchants/" + fx.doomedMerchant }, noBody, nil, author, 204},
		{"POST", at(importRoute), func(fx fixture) any { return importCSV(fx.importedIDTag, 3) }, []string{"Content-Type", "text/csv"}, author, 200},
		{"POST", at(v1 + "/audience/count"), func(fixture) any {
			return map[string]any{"segment": map[string]any{"cities": []string{"Paris"}}}
		}, nil, author, 200},
		{"GET", at(v1 + "/campaigns?state=draft"), noBody, nil, read, 200},
		{"POST", at(v1 + "/campaigns"), func(fx fixture) any { return spec("new", fx.merchant) }, nil, author, 201},
		{"GET", func(fx fixture) string { return c(fx.draft) }, noBody, nil, read, 200},
		{"PUT", func(fx fixture) string { return c(fx.draft) }, func(fx fixture) any { return spec("edited", fx.merchant) }, nil, author, 200},
		{"DELETE", func(fx fixture) string { return c(fx.doomedDraft) }, noBody, nil, author, 204},
		{"POST", func(fx fixture) string { return c(fx.toStart + "/start") }, noBody, nil, send, 200},
		{"POST", func(fx fixture) string { return c(fx.running + "/pause") }, func(fixture) any { return map[string]string{"reason": "typo"} }, nil, send, 200},
		{"POST", func(fx fixture) string { return c(fx.paused + "/resume") }, noBody, nil, send, 200},
		{"POST", func(fx fixture) string { return c(fx.toCancel + "/cancel") }, noBody, nil, send, 200},
		{"POST", func(fx fixture) string { return c(fx.draft + "/preview") }, func(fx fixture) any { return map[string]string{"merchant_id": fx.merchant} }, nil, author, 200},
		{"POST", func(fx fixture) string { return c(fx.draft + "/test") }, func(fx fixture) any { return map[string][]string{"merchant_ids": {fx.merchant}} }, nil, author, 200},
		{"GET", func(fx fixture) string { return c(fx.running + "/progress") }, noBody, nil, read, 200},
		{"GET", func(fx fixture) string { return c(fx.running + "/recipients?status=pending") }, noBody, nil, read, 200},
		{"GET", at("/admin/v1/traces"), noBody, nil, read, 200},
		{"GET", at("/admin/v1/traces/map"), noBody, nil, read, 200},
		{"GET", at("/admin/traces"), noBody, nil, read, 200},
		{"GET", at("/admin/traces/map"), noBody, nil, read, 200},
		{"POST", at("/v1/traces"), func(fixture) any { return "" }, []string{"Content-Type", "application/x-protobuf"}, manage, 200},
	}
}

// testRoleMatrix calls every route as every role: the allowed calls succeed, the others
// are refused with 403 naming the role, and change nothing.
func testRoleMatrix(t *testing.T, store *campaign.Store) {
	h := newHarness(t, store)
	roles := []struct {
		name   string
		role   campaign.Role
		secret string
	}{{name: "bootstrap", role: campaign.RoleAdmin, secret: key}}
	for _, r := range []campaign.Role{campaign.RoleViewer, campaign.RoleAuthor, campaign.RoleSender, campaign.RoleAdmin} {
		_, secret := h.newKey(r)
		roles = append(roles, struct {
			name   string
			role   campaign.Role
			secret string
		}{string(r), r, secret})
	}
	for _, r := range roles {
		fx := h.fixture(r.name)
		for _, cl := range matrix() {
			path := cl.path(fx)
			want := cl.status
			if !r.role.Allows(cl.perm) {
				want = http.StatusForbidden
			}
			a := h.do(cl.method, path, r.secret, cl.body(fx), cl.hdr...)
			if a.status != want {
				t.Errorf("%s: %s %s: %d, want %d: %.300s", r.name, cl.method, path, a.status, want, a.body)
				continue
			}
			if want == http.StatusForbidden {
				if e := apiError(t, a); e.Code != CodeForbidden || !strings.HasPrefix(e.Message, "role "+string(r.role)+" may not ") {
					t.Errorf("%s: %s %s: 403 body %+v", r.name, cl.method, path, e)
				}
			}
		}
		// A refused change changed nothing.
		if !r.role.Allows(campaign.PermSend) {
			if c, err := store.GetCampaign(t.Context(), fx.toStart); err != nil || c.State != campaign.StateDraft {
				t.Errorf("%s: refused start left %s %v", r.name, c.State, err)
			}
		}
		if !r.role.Allows(campaign.PermAuthor) {
			if _, err := store.GetMerchant(t.Context(), fx.doomedMerchant); err != nil {
				t.Errorf("%s: refused delete: %v", r.name, err)
			}
		}
	}
}

func TestRoleMatrixSQLite(t *testing.T) { testRoleMatrix(t, sqliteStore(t)) }

func TestRoleMatrixPostgres(t *testing.T) { testRoleMatrix(t, postgresStore(t)) }

// importCSV is a CSV import of n merchants with ids prefix-1...
func importCSV(prefix string, n int) string {
	var b strings.Builder
	b.WriteString("id,name,city,category,tags\n")
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "%s-%d,Merchant %d,Paris,housing,vip\n", prefix, i, i)
	}
	return b.String()
}
