package admin

import (
	"testing"
	"time"

	"github.com/bangbang-im/bangbang/gen/common"
	"github.com/bangbang-im/bangbang/marketing/campaign"
)

// An admin ends every session of a merchant: logic is asked to revoke all tokens issued
// until now, the answer says how many live IM sessions closed, and the audit log has it.
// Only the admin role may; a refusal by logic of the id is the caller's mistake (422).
func TestRevokeMerchantSessions(t *testing.T) {
	h := newHarness(t, sqliteStore(t))
	_, admin := h.newKey(campaign.RoleAdmin)
	_, author := h.newKey(campaign.RoleAuthor)
	before := time.Now()
	var out revokeSessionsResponse
	h.ok(200, &out, "POST", "/admin/v1/merchants/m1001/revoke-sessions", admin, nil)
	if out.Merchant != "m1001" || out.IMSessionsClosed != 2 {
		t.Fatalf("answer %+v", out)
	}
	h.logic.mu.Lock()
	revokes := h.logic.revokes
	h.logic.mu.Unlock()
	if len(revokes) != 1 || revokes[0].UserId != "m1001" || revokes[0].TokenId != "" || revokes[0].UntilMs < before.UnixMilli() {
		t.Fatalf("RevokeTokens got %+v, want every token of m1001 until now", revokes)
	}
	var page struct{ Entries []campaign.AuditEntry }
	h.ok(200, &page, "GET", "/admin/v1/audit?action=merchant.revoke_sessions", admin, nil)
	if len(page.Entries) != 1 || page.Entries[0].Target != "merchant:m1001" {
		t.Fatalf("audit %+v", page.Entries)
	}
	if a := h.do("POST", "/admin/v1/merchants/m1001/revoke-sessions", author, nil); a.status != 403 {
		t.Fatalf("an author ending sessions: %d", a.status)
	}
	h.logic.mu.Lock()
	h.logic.revokeErr = &common.IMError{Code: int32(common.ErrorCode_BAD_REQUEST), Message: "revoke tokens: bad user id"}
	h.logic.mu.Unlock()
	if a := h.do("POST", "/admin/v1/merchants/m%00x/revoke-sessions", admin, nil); a.status != 422 || apiError(t, a).Code != CodeInvalid {
		t.Fatalf("logic refusing the id: %d %s, want 422 invalid", a.status, a.body)
	}
}
