package admin

import (
	"net/http"
	"strings"
	"testing"

	"github.com/bangbang-im/bangbang/marketing/campaign"
)

// The Go profiles are the admin's: an admin key reads them, another role is forbidden,
// no key (or a session cookie alone) is unauthenticated.
func TestProfilesTakeAnAdminKey(t *testing.T) {
	h := newHarness(t, sqliteStore(t))
	_, viewer := h.newKey(campaign.RoleViewer)
	if a := h.do("GET", "/debug/pprof/", "", nil); a.status != http.StatusUnauthorized {
		t.Errorf("profiles without a key: %d, want 401", a.status)
	}
	if a := h.do("GET", "/debug/pprof/heap?debug=1", viewer, nil); a.status != http.StatusForbidden {
		t.Errorf("profiles with a viewer key: %d, want 403", a.status)
	}
	if a := h.ok(http.StatusOK, nil, "GET", "/debug/pprof/", key, nil); !strings.Contains(a.body, "goroutine") {
		t.Errorf("profile index lists no goroutine profile: %.200s", a.body)
	}
	if a := h.ok(http.StatusOK, nil, "GET", "/debug/pprof/goroutine?debug=1", key, nil); !strings.Contains(a.body, "goroutine profile: total") {
		t.Errorf("goroutine profile: %.200s", a.body)
	}
	if a := h.ok(http.StatusOK, nil, "GET", "/debug/pprof/cmdline", key, nil); a.body == "" {
		t.Error("cmdline is empty")
	}
}
