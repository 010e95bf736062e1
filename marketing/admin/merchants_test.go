package admin

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/cloudwego/kitex/pkg/kerrors"

	"github.com/bangbang-im/bangbang/gen/common"
	"github.com/bangbang-im/bangbang/marketing/campaign"
)

// A merchant's account is made known to IM before the merchant is stored; the input is
// normalised and checked first.
func TestMerchantLifecycle(t *testing.T) {
	h := newHarness(t, sqliteStore(t))
	_, author := h.newKey(campaign.RoleAuthor)
	var m campaign.Merchant
	h.ok(201, &m, "POST", "/admin/v1/merchants", author,
		map[string]any{"id": "m1001", "name": " Alice Estates ", "city": "Paris", "category": "housing", "tags": []string{"VIP", "new", "vip"}})
	if m.ID != "m1001" || m.Name != "Alice Estates" || !slices.Equal(m.Tags, []string{"new", "vip"}) || m.CreatedAt.IsZero() {
		t.Fatalf("created %+v", m)
	}
	_, ensured := h.logic.calls()
	if len(ensured) != 1 || ensured[0].UserId != "m1001" || ensured[0].Kind != "merchant" || ensured[0].DisplayName != "Alice Estates" {
		t.Fatalf("EnsureUsers got %+v", ensured)
	}
	if a := h.do("POST", "/admin/v1/merchants", author, map[string]any{"id": "m1001", "name": "Again"}); a.status != 409 || apiError(t, a).Code != CodeConflict {
		t.Fatalf("second create: %d %s", a.status, a.body)
	}
	if _, ensured := h.logic.calls(); len(ensured) != 1 {
		t.Fatalf("a conflicting create reached IM: %+v", ensured)
	}
	var got campaign.Merchant
	h.ok(200, &got, "GET", "/admin/v1/merchants/m1001", author, nil)
	if got.Name != "Alice Estates" || got.City != "Paris" {
		t.Fatalf("read %+v", got)
	}
	h.ok(200, &got, "PUT", "/admin/v1/merchants/m1001", author, map[string]any{"name": "Alice", "city": "Nice", "category": "jobs", "tags": []string{}})
	if got.Name != "Alice" || got.City != "Nice" || got.Category != "jobs" || len(got.Tags) != 0 || !got.CreatedAt.Equal(m.CreatedAt) {
		t.Fatalf("updated %+v", got)
	}
	h.ok(204, nil, "DELETE", "/admin/v1/merchants/m1001", author, nil)
	for _, tc := range []struct{ method, path string }{{"GET", "/admin/v1/merchants/m1001"}, {"DELETE", "/admin/v1/merchants/m1001"}} {
		if a := h.do(tc.method, tc.path, author, nil); a.status != 404 || apiError(t, a).Code != CodeNotFound {
			t.Errorf("%s %s after delete: %d %s", tc.method, tc.path, a.status, a.body)
		}
	}
	if a := h.do("PUT", "/admin/v1/merchants/nobody", author, map[string]any{"name": "X"}); a.status != 404 {
		t.Errorf("update of an unknown merchant: %d", a.status)
	}

	// Refusals reach neither IM nor the store.
	_, ensured = h.logic.calls()
	before := len(ensured)
	for _, tc := range []struct {
		body   any
		status int
		field  string
	}{
		{map[string]any{"id": "has space", "name": "X"}, 422, "id"},
		{map[string]any{"id": "m2", "name": ""}, 422, "name"},
		{map[string]any{"id": "m2", "name": "X", "tags": []string{"no way"}}, 422, "tags[0]"},
		{map[string]any{"id": "m2", "name": "X", "tags": "vip"}, 422, "tags"},
		{map[string]any{"id": "m2", "name": "X", "created_at": "2025-01-01T00:00:00Z"}, 400, ""},
	} {
		a := h.do("POST", "/admin/v1/merchants", author, tc.body)
		if e := apiError(t, a); a.status != tc.status || e.Field != tc.field {
			t.Errorf("create %v: %d %+v, want %d naming %q", tc.body, a.status, e, tc.status, tc.field)
		}
	}
	if a := h.do("PUT", "/admin/v1/merchants/m2", author, map[string]any{"id": "m2", "name": "X"}); a.status != 400 {
		t.Errorf("update naming the id in the body: %d, want 400", a.status)
	}
	if _, ensured := h.logic.calls(); len(ensured) != before {
		t.Fatalf("refused input reached IM: %+v", ensured[before:])
	}
	if list, _ := h.store.ListMerchants(t.Context(), campaign.MerchantQuery{}); len(list) != 0 {
		t.Fatalf("refused input stored %+v", list)
	}
}

// When IM cannot take the account, the merchant is not stored: a temporary failure or an
// unreachable logic is 503 with Retry-After, anything else 500 without its detail.
func TestMerchantCreateWhenLogicFails(t *testing.T) {
	h := newHarness(t, sqliteStore(t))
	for _, tc := range []struct {
		err    error
		status int
		code   string
	}{
		{&common.IMError{Code: int32(common.ErrorCode_UNAVAILABLE), Message: "store restarting", Temporary: true}, 503, CodeUnavailable},
		{kerrors.ErrGetConnection.WithCause(errors.New("dial tcp 10.0.0.9:8900: connection refused")), 503, CodeUnavailable},
		{kerrors.ErrRPCTimeout.WithCause(errors.New("deadline")), 503, CodeUnavailable},
		{&common.IMError{Code: int32(common.ErrorCode_INTERNAL), Message: "secret detail"}, 500, CodeInternal},
		{errors.New("secret detail"), 500, CodeInternal},
	} {
		h.logic.setEnsureErr(tc.err)
		a := h.do("POST", "/admin/v1/merchants", key, map[string]any{"id": "m1", "name": "Alice"})
		e := apiError(t, a)
		if a.status != tc.status || e.Code != tc.code || strings.Contains(a.body, "secret") || strings.Contains(a.body, "10.0.0.9") {
			t.Errorf("logic error %v: %d %s, want %d %s", tc.err, a.status, a.body, tc.status, tc.code)
		}
		if ra := a.header.Get("Retry-After"); (tc.status == 503) != (ra == "1") {
			t.Errorf("logic error %v: Retry-After %q", tc.err, ra)
		}
		if _, err := h.store.GetMerchant(t.Context(), "m1"); !errors.Is(err, campaign.ErrNotFound) {
			t.Fatalf("merchant stored although IM refused: %v", err)
		}
	}
	h.logic.setEnsureErr(nil)
	h.ok(201, nil, "POST", "/admin/v1/merchants", key, map[string]any{"id": "m1", "name": "Alice"})
}

// A store that is gone answers 503 with Retry-After.
func TestStoreUnavailable(t *testing.T) {
	st := sqliteStore(t)
	h := newHarness(t, st)
	_, secret := h.newKey(campaign.RoleViewer)
	h.ok(200, nil, "GET", "/admin/v1/merchants", secret, nil) // the key is cached from here
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	a := h.do("GET", "/admin/v1/merchants", secret, nil)
	if e := apiError(t, a); a.status != 503 || e.Code != CodeUnavailable || a.header.Get("Retry-After") != "1" {
		t.Fatalf("closed store: %d %s %v", a.status, a.body, a.header)
	}
}

func TestMerchantListAndAudience(t *testing.T) {
	h := newHarness(t, sqliteStore(t))
	h.merchant("a1", "A1", "Paris", "vip", "new")
	h.merchant("a2", "A2", "Paris", "vip")
	h.merchant("a3", "A3", "Lyon", "vip", "new")
	h.merchant("b1", "B1", "Paris")
	h.merchant("b2", "B2", "Nice", "new")
	page := func(q string) ([]string, string) {
		var out struct {
			Merchants []campaign.Merchant
			Next      string
		}
		h.ok(200, &out, "GET", "/admin/v1/merchants"+q, key, nil)
		var ids []string
		for _, m := range out.Merchants {
			ids = append(ids, m.ID)
		}
		return ids, out.Next
	}
	for q, want := range map[string]string{
		"":                       "a1,a2,a3,b1,b2",
		"?city=Paris":            "a1,a2,b1",
		"?city=Paris&city=Nice":  "a1,a2,b1,b2",
		"?tag=vip&tag=new":       "a1,a3",
		"?tag=NEW":               "a1,a3,b2",
		"?prefix=a&city=Paris":   "a1,a2",
		"?category=housing":      "a1,a2,a3,b1,b2",
		"?category=jobs":         "",
		"?after=a3&prefix=b":     "b1,b2",
		"?city=Lyon&tag=missing": "",
		"?search=b":              "b1,b2",
		"?search=1&city=Paris":   "a1,b1",
	} {
		if ids, _ := page(q); strings.Join(ids, ",") != want {
			t.Errorf("merchants%s = %q, want %q", q, ids, want)
		}
	}
	var all []string
	after := ""
	for range 10 {
		ids, next := page("?limit=2&after=" + after)
		all = append(all, ids...)
		if next == "" {
			break
		}
		if next != ids[len(ids)-1] {
			t.Fatalf("next %q after %q", next, ids)
		}
		after = next
	}
	if strings.Join(all, ",") != "a1,a2,a3,b1,b2" {
		t.Fatalf("paged %q", all)
	}
	for q, param := range map[string]string{"?limit=0": "limit", "?limit=abc": "limit", "?tag=vip&tag=no%20way": "tag[1]",
		"?search=" + strings.Repeat("x", campaign.MaxSearch+1): "search"} {
		if a := h.do("GET", "/admin/v1/merchants"+q, key, nil); a.status != 400 || apiError(t, a).Code != CodeBadRequest ||
			!strings.HasPrefix(apiError(t, a).Message, param+": ") {
			t.Errorf("merchants%s: %d %s, want 400 naming %s", q, a.status, a.body, param)
		}
	}

	var count struct{ Count int64 }
	h.ok(200, &count, "POST", "/admin/v1/audience/count", key,
		map[string]any{"merchant_ids": []string{"b2"}, "segment": map[string]any{"cities": []string{"Paris"}, "tags": []string{"vip"}}})
	if count.Count != 3 {
		t.Fatalf("count %d, want 3 (a1, a2, b2)", count.Count)
	}
	for _, tc := range []struct {
		body  any
		field string
	}{{map[string]any{}, "audience"}, {map[string]any{"merchant_ids": []string{"bad id"}}, "audience.merchant_ids[0]"}} {
		if a := h.do("POST", "/admin/v1/audience/count", key, tc.body); a.status != 422 || apiError(t, a).Field != tc.field {
			t.Errorf("count %v: %d %s, want 422 naming %s", tc.body, a.status, a.body, tc.field)
		}
	}
	if a := h.do("POST", "/admin/v1/audience/count", key, map[string]any{"segment": map[string]any{"town": "x"}}); a.status != 400 {
		t.Errorf("count with an unknown segment field: %d", a.status)
	}
}
