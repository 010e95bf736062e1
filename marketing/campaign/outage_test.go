package campaign

import (
	"io"
	"net"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/bangbang-im/bangbang/marketing/ratelimit"
	"github.com/bangbang-im/bangbang/tracing/metricstest"
)

// faultyLink is a TCP relay to PostgreSQL that the test can cut, as a network partition
// or a database restart cuts the worker off: existing connections drop, new ones are
// refused until restored.
type faultyLink struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	down   bool
	conns  []net.Conn
}

func newFaultyLink(t *testing.T, target string) *faultyLink {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := &faultyLink{ln: ln, target: target}
	t.Cleanup(func() { ln.Close(); l.cut() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			l.mu.Lock()
			down := l.down
			l.mu.Unlock()
			if down {
				c.Close()
				continue
			}
			go l.relay(c)
		}
	}()
	return l
}

func (l *faultyLink) relay(c net.Conn) {
	up, err := net.Dial("tcp", l.target)
	if err != nil {
		c.Close()
		return
	}
	l.mu.Lock()
	l.conns = append(l.conns, c, up)
	l.mu.Unlock()
	go func() { _, _ = io.Copy(up, c); up.Close() }()
	_, _ = io.Copy(c, up)
	c.Close()
}

func (l *faultyLink) cut() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.down = true
	for _, c := range l.conns {
		c.Close()
	}
	l.conns = nil
}

func (l *faultyLink) restore() {
	l.mu.Lock()
	l.down = false
	l.mu.Unlock()
}

// The campaign store goes away mid-campaign: the worker retries with backoff, pauses the
// campaign once it can say so, or carries on if the store is back first; either way,
// resumed, the campaign ends with every merchant sent exactly one message.
func TestWorkerSurvivesStoreOutage(t *testing.T) {
	direct := pgSchemaURL(t)
	u, err := url.Parse(direct)
	if err != nil {
		t.Fatal(err)
	}
	link := newFaultyLink(t, u.Host)
	u.Host = link.ln.Addr().String()
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
	link.cut()
	waitFor(t, "the worker failing past its threshold", func() bool {
		return metricstest.Series(t, reg, "bangbang_campaign_batches_total")[`bangbang_campaign_batches_total{result="error"}`] >= 5
	})
	mid, err := s.GetCampaign(t.Context(), c.ID)
	if err != nil || mid.State != StateRunning || mid.Stats.Sent == 600 {
		t.Fatalf("during the outage: %s %+v %v", mid.State, mid.Stats, err)
	}
	link.restore()
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
