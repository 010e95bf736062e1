package admin

import (
	"encoding/json"
	"testing"

	"github.com/bangbang-im/bangbang/internal/health"
)

// GET /readyz pings the campaign store: 200 while it answers, 503 in the error shape
// naming it once it does not; /healthz stays 200.
func TestReadyzReflectsTheCampaignStore(t *testing.T) {
	st := sqliteStore(t)
	h := newHarness(t, st, func(s *Server) {
		s.deps.Ready = health.New(0, nil, health.Check{Name: "campaigns", Probe: st.Ping})
	})
	var rep health.Report
	h.ok(200, &rep, "GET", "/readyz", "", nil)
	if rep.Status != "ready" || rep.Checks["campaigns"] != health.StateOK {
		t.Fatalf("ready answer %+v", rep)
	}

	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	a := h.ok(503, nil, "GET", "/readyz", "", nil)
	if e := apiError(t, a); e.Code != "unavailable" || e.Message == "" {
		t.Fatalf("unready answer %s", a.body)
	}
	if err := json.Unmarshal([]byte(a.body), &rep); err != nil || rep.Status != "unready" || rep.Checks["campaigns"] != health.StateUnreachable {
		t.Fatalf("unready answer %s (%v)", a.body, err)
	}
	h.ok(200, nil, "GET", "/healthz", "", nil)
}
