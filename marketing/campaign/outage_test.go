package campaign

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/bangbang-im/bangbang/internal/netfault"
	"github.com/bangbang-im/bangbang/marketing/ratelimit"
	"github.com/bangbang-im/bangbang/tracing/metricstest"
)

// The campaign store goes away mid-campaign: the worker retries with backoff, pauses the
// campaign once it can say so, or carries on if the store is back first; either way,
// resumed, the campaign ends with every merchant sent exactly one message.
func TestWorkerSurvivesStoreOutage(t *testing.T) {
	direct := pgSchemaURL(t)
	u, err := url.Parse(direct)
	if err != nil {
		t.Fatal(err)
	}
	link := netfault.New(t, u.Host)
	u.Host = link.Addr()
	viaLink := openPostgresAt(t, u.String())
	s := openPostgresAt(t, direct) // the test's own view, never cut

	lg := newLogic(t)
	ids := seed(t, s, lg, 600)
	sp := simpleSpec(ids...)
	sp.Rate = 1000
	c, err := s.CreateCampaign(t.Context(), staff, sp)
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	m, err := NewMetrics(reg, nil)
	if err != nil {
		t.Fatal(err)
	}
	w := NewWorker(WorkerConfig{Owner: "w1", Poll: 20 * time.Millisecond, Lease: 30 * time.Second, BatchMax: 50,
		BackoffMin: time.Millisecond, BackoffMax: 20 * time.Millisecond, ReceiptsEvery: time.Hour, ErrorThreshold: 3, Metrics: m},
		viaLink, lg, ratelimit.NewLocalPacer(nil), nil)
	w.Start()
	defer stop(t, w)
	if _, err := s.Start(t.Context(), staff, c.ID); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "some sent", func() bool { cp, _ := s.GetCampaign(t.Context(), c.ID); return cp.Stats.Sent >= 100 })
	link.Cut()
	waitFor(t, "the worker failing past its threshold", func() bool {
		return metricstest.Series(t, reg, "bangbang_campaign_batches_total")[`bangbang_campaign_batches_total{result="error"}`] >= 5
	})
	mid, err := s.GetCampaign(t.Context(), c.ID)
	if err != nil || mid.State != StateRunning || mid.Stats.Sent == 600 {
		t.Fatalf("during the outage: %s %+v %v", mid.State, mid.Stats, err)
	}
	link.Restore()
	waitFor(t, "paused or finished", func() bool {
		cp, _ := s.GetCampaign(t.Context(), c.ID)
		return cp.State == StatePaused || cp.State == StateFinished
	})
	if cp, _ := s.GetCampaign(t.Context(), c.ID); cp.State == StatePaused {
		t.Logf("auto-paused: %s", cp.PauseReason)
		if !strings.Contains(cp.PauseReason, "failed in a row") {
			t.Fatalf("paused for %q", cp.PauseReason)
		}
		if _, err := s.Resume(t.Context(), staff, c.ID); err != nil {
			t.Fatal(err)
		}
	}
	done := waitState(t, s, c.ID, StateFinished)
	if done.Stats.Sent != 600 || done.Stats.Failed+done.Stats.Skipped != 0 {
		t.Fatalf("stats %+v", done.Stats)
	}
	inboxes(t, lg, c.ID, ids)
}

// waitFor polls cond until it holds, failing the test after 30 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not after 30s", what)
		}
		time.Sleep(5 * time.Millisecond) // polling a condition
	}
}
