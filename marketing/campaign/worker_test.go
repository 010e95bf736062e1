package campaign

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bangbang-im/bangbang/core-im/logic"
	"github.com/bangbang-im/bangbang/core-im/router"
	imstore "github.com/bangbang-im/bangbang/core-im/store"
	"github.com/bangbang-im/bangbang/gen/common"
	gatewaygen "github.com/bangbang-im/bangbang/gen/gateway"
	logicgen "github.com/bangbang-im/bangbang/gen/logic"
	"github.com/bangbang-im/bangbang/marketing/ratelimit"
)

// The worker tests run the real IM logic over a real IM store: the campaign's promises are
// about what lands in merchants' inboxes, and only logic can say.

// noGateways: nobody is online in these tests, so logic never pushes; every message waits
// in the inbox, which is what Sync reads back.
type noGateways struct{}

func (noGateways) Gateway(node string) (gatewaygen.GatewayService, error) {
	return nil, fmt.Errorf("no gateway %s", node)
}

func newLogic(t *testing.T) *logic.Service {
	t.Helper()
	st, err := imstore.OpenSQLite(t.Context(), filepath.Join(t.TempDir(), "im.db"), imstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	rt := router.NewMemory(router.MemoryOptions{})
	svc := logic.New(logic.Config{}, st, rt, noGateways{}, nil)
	t.Cleanup(func() {
		svc.Close()
		_ = rt.Close()
		_ = st.Close()
	})
	return svc
}

// seed creates n merchants m0001… in both the audience and IM, in cities round robin.
func seed(t *testing.T, s *Store, lg *logic.Service, n int) []string {
	t.Helper()
	cities := []string{"Shanghai", "Beijing", "Shenzhen"}
	var ids []string
	for start := 0; start < n; start += 1000 {
		var ms []Merchant
		req := &logicgen.EnsureUsersRequest{}
		for i := start; i < min(start+1000, n); i++ {
			id := fmt.Sprintf("m%04d", i)
			ids = append(ids, id)
			ms = append(ms, Merchant{ID: id, Name: "Merchant " + id, City: cities[i%len(cities)], Tags: []string{}})
			req.Users = append(req.Users, &logicgen.UserInfo{UserId: id, Kind: "merchant", DisplayName: id})
		}
		if _, err := lg.EnsureUsers(t.Context(), req); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.UpsertMerchants(t.Context(), ms); err != nil {
			t.Fatal(err)
		}
	}
	return ids
}

// countingLogic wraps logic, counting pushes and the duplicates logic reported, and can be
// told to fail.
type countingLogic struct {
	Logic
	calls, duplicates, sent atomic.Int64
	// fail, when set, decides per call: push first (true: the push happens, then the call
	// fails as if the answer were lost) or fail before pushing.
	mu   sync.Mutex
	fail func(ctx context.Context, call int64) (pushFirst bool, err error)
	// afterPush, when set, is called once a failed call's push has returned.
	afterPush func(call int64)
}

func (c *countingLogic) setFail(f func(context.Context, int64) (bool, error)) {
	c.mu.Lock()
	c.fail = f
	c.mu.Unlock()
}

func (c *countingLogic) PushToUsers(ctx context.Context, req *logicgen.PushRequest) (*logicgen.PushResponse, error) {
	n := c.calls.Add(1)
	c.mu.Lock()
	fail := c.fail
	c.mu.Unlock()
	var injected error
	if fail != nil {
		pushFirst, err := fail(ctx, n)
		if err != nil && !pushFirst {
			return nil, err
		}
		injected = err
	}
	resp, err := c.Logic.PushToUsers(ctx, req)
	if err != nil {
		return nil, err
	}
	for _, r := range resp.Results {
		if r.Duplicate {
			c.duplicates.Add(1)
		} else if r.ErrorCode == 0 {
			c.sent.Add(1)
		}
	}
	if injected != nil {
		if c.afterPush != nil {
			c.afterPush(n)
		}
		return nil, injected
	}
	return resp, nil
}

func testWorker(s *Store, lg Logic, owner string) *Worker {
	return NewWorker(WorkerConfig{Owner: owner, Poll: 20 * time.Millisecond, Lease: 2 * time.Second, BatchMax: 50,
		BackoffMin: time.Millisecond, BackoffMax: 5 * time.Millisecond, ReceiptsEvery: 20 * time.Millisecond, ErrorThreshold: 3},
		s, lg, ratelimit.NewLocalPacer(nil), nil)
}

func stop(t *testing.T, w *Worker) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := w.Stop(ctx); err != nil {
		t.Fatalf("stop worker: %v", err)
	}
}

// waitState waits for campaign id to reach state, and returns it.
func waitState(t *testing.T, s *Store, id string, want State) Campaign {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		c, err := s.GetCampaign(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		if c.State == want {
			return c
		}
		if time.Now().After(deadline) {
			t.Fatalf("campaign %s is %s (%+v) after 60s, want %s", id, c.State, c.Stats, want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// sentCampaign sends a campaign to n seeded merchants with a worker that keeps running
// (collecting receipts) until the test ends, and returns it once finished, with the
// message each merchant got.
func sentCampaign(t *testing.T, n int) (*Store, *logic.Service, Campaign, []string, map[string]*common.Message) {
	t.Helper()
	s, lg := openSQLiteT(t), newLogic(t)
	ids := seed(t, s, lg, n)
	c, err := s.CreateCampaign(t.Context(), staff, simpleSpec(ids...))
	if err != nil {
		t.Fatal(err)
	}
	w := testWorker(s, &countingLogic{Logic: lg}, "w1")
	w.Start()
	t.Cleanup(func() { stop(t, w) })
	if _, err := s.Start(t.Context(), staff, c.ID); err != nil {
		t.Fatal(err)
	}
	c = waitState(t, s, c.ID, StateFinished)
	return s, lg, c, ids, inboxes(t, lg, c.ID, ids)
}

// inboxes checks every merchant of ids has exactly one message of campaign id, rendered for
// them, and returns the messages by merchant.
func inboxes(t *testing.T, lg *logic.Service, id string, ids []string) map[string]*common.Message {
	t.Helper()
	got := map[string]*common.Message{}
	for _, m := range ids {
		resp, err := lg.Sync(t.Context(), &logicgen.SyncRequest{UserId: m, Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, msg := range resp.Messages {
			var r Rendered
			if msg.ContentType != ContentType || json.Unmarshal(msg.Body, &r) != nil || r.CampaignID != id || r.Test {
				continue
			}
			n++
			if r.Title != "Hello Merchant "+m || msg.Kind != int32(common.MessageKind_MARKETING) {
				t.Fatalf("%s got %+v (kind %d)", m, r, msg.Kind)
			}
			got[m] = msg
		}
		if n != 1 {
			t.Fatalf("%s has %d messages of the campaign, want exactly 1", m, n)
		}
	}
	return got
}

func TestWorkerSendsEachOnce(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			s, lg := b.open(t), newLogic(t)
			ids := seed(t, s, lg, 600)
			sp := simpleSpec()
			sp.Audience = Audience{Segment: &Segment{Cities: []string{"Shanghai", "Beijing"}}, MerchantIDs: []string{"m0002"}}
			sp.Rate = 5000
			c, err := s.CreateCampaign(t.Context(), staff, sp)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.Start(t.Context(), staff, c.ID); err != nil {
				t.Fatal(err)
			}
			cl := &countingLogic{Logic: lg}
			w := testWorker(s, cl, "w1")
			w.Start()
			defer stop(t, w)
			done := waitState(t, s, c.ID, StateFinished)
			// Shanghai and Beijing are 2 of every 3 merchants; m0002 is in Shenzhen.
			want := int64(400 + 1)
			if done.Stats.Targeted != want || done.Stats.Sent != want || done.Stats.Pending != 0 || done.Stats.Failed != 0 {
				t.Fatalf("stats %+v, want %d sent", done.Stats, want)
			}
			var audience []string
			for i, id := range ids {
				if i%3 != 2 || id == "m0002" {
					audience = append(audience, id)
				}
			}
			inboxes(t, lg, c.ID, audience)
			if cl.sent.Load() != want || cl.duplicates.Load() != 0 {
				t.Fatalf("logic stored %d (%d duplicates), want %d", cl.sent.Load(), cl.duplicates.Load(), want)
			}
			rs, err := s.Recipients(t.Context(), c.ID, nil, 0, 5)
			if err != nil || len(rs) != 5 || rs[0].Pos != 1 || rs[0].Status != RecipientSent || rs[0].MsgID == "" || rs[0].Seq == 0 || rs[0].ConvSeq == 0 {
				t.Fatalf("recipients %+v %v", rs, err)
			}
		})
	}
}

// A push whose answer is lost (the worker dies between logic storing the messages and the
// outcomes being recorded) is sent again by the next worker: logic answers with the first
// messages, so nobody gets two and nobody is skipped.
func TestWorkerCrashBetweenPushAndRecord(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			s, lg := b.open(t), newLogic(t)
			ids := seed(t, s, lg, 300)
			sp := simpleSpec(ids...)
			sp.Rate = 5000
			c, err := s.CreateCampaign(t.Context(), staff, sp)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.Start(t.Context(), staff, c.ID); err != nil {
				t.Fatal(err)
			}
			first := &countingLogic{Logic: lg}
			crashed := make(chan struct{})
			var once sync.Once
			first.setFail(func(ctx context.Context, call int64) (bool, error) {
				switch {
				case call < 3:
					return false, nil
				case call == 3:
					return true, errors.New("connection reset") // stored, answer lost
				default: // the process is dying: nothing more reaches logic
					<-ctx.Done()
					return false, ctx.Err()
				}
			})
			first.afterPush = func(int64) { once.Do(func() { close(crashed) }) }
			w1 := testWorker(s, first, "w1")
			w1.Start()
			<-crashed
			stop(t, w1)
			mid, _ := s.GetCampaign(t.Context(), c.ID)
			if mid.State != StateRunning || mid.Stats.Sent >= 300 {
				t.Fatalf("after the crash: %s %+v", mid.State, mid.Stats)
			}
			second := &countingLogic{Logic: lg}
			w2 := testWorker(s, second, "w2")
			w2.Start()
			defer stop(t, w2)
			done := waitState(t, s, c.ID, StateFinished)
			if done.Stats.Sent != 300 {
				t.Fatalf("stats %+v", done.Stats)
			}
			t.Cleanup(func() {
				if t.Failed() { // what the campaign recorded, to tell a lost push from a lost record
					sent := RecipientSent
					rs, _ := s.Recipients(context.Background(), c.ID, &sent, 100, 100)
					t.Logf("first: %d calls, %d sent, %d duplicates; second: %d calls, %d sent, %d duplicates; recipients 101-200: %+v",
						first.calls.Load(), first.sent.Load(), first.duplicates.Load(),
						second.calls.Load(), second.sent.Load(), second.duplicates.Load(), rs)
				}
			})
			inboxes(t, lg, c.ID, ids)
			if second.duplicates.Load() == 0 {
				t.Fatal("the second worker was never answered with a duplicate: the crash window was not exercised")
			}
			if total := first.sent.Load() + second.sent.Load(); total != 300 {
				t.Fatalf("logic stored %d new messages, want 300", total)
			}
		})
	}
}

func TestWorkerAutoPausesAndResumes(t *testing.T) {
	s, lg := openSQLiteT(t), newLogic(t)
	ids := seed(t, s, lg, 120)
	sp := simpleSpec(ids...)
	c, err := s.CreateCampaign(t.Context(), staff, sp)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Start(t.Context(), staff, c.ID); err != nil {
		t.Fatal(err)
	}
	cl := &countingLogic{Logic: lg}
	cl.setFail(func(_ context.Context, call int64) (bool, error) {
		if call == 1 {
			return false, nil // one batch goes through
		}
		return false, &common.IMError{Code: int32(common.ErrorCode_UNAVAILABLE), Message: "store restarting", Temporary: true}
	})
	w := testWorker(s, cl, "w1")
	w.Start()
	defer stop(t, w)
	paused := waitState(t, s, c.ID, StatePaused)
	if paused.Stats.Sent != 50 || paused.PauseReason != "3 delivery attempts failed in a row; last: logic answered UNAVAILABLE" {
		t.Fatalf("paused %+v %q", paused.Stats, paused.PauseReason)
	}
	entries, _ := s.Audit(t.Context(), AuditQuery{Target: "campaign:" + c.ID, Action: "campaign.pause"})
	if len(entries) != 1 || entries[0].ActorID != SystemActor.KeyID {
		t.Fatalf("audit %+v", entries)
	}
	cl.setFail(nil)
	if _, err := s.Resume(t.Context(), staff, c.ID); err != nil {
		t.Fatal(err)
	}
	done := waitState(t, s, c.ID, StateFinished)
	if done.Stats.Sent != 120 {
		t.Fatalf("stats %+v", done.Stats)
	}
	inboxes(t, lg, c.ID, ids)
}

func TestWorkerSkipsDeletedAndStaffPause(t *testing.T) {
	s, lg := openSQLiteT(t), newLogic(t)
	ids := seed(t, s, lg, 200)
	sp := simpleSpec(ids...)
	sp.Rate = 100 // batches of 10
	c, err := s.CreateCampaign(t.Context(), staff, sp)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Start(t.Context(), staff, c.ID); err != nil {
		t.Fatal(err)
	}
	// Fix the audience as the worker would, then delete two merchants before any is sent.
	if _, err := s.claim(t.Context(), "fixer", time.Second, 1); err != nil {
		t.Fatal(err)
	}
	if _, err := s.fixAudience(t.Context(), c.ID, "fixer", sp.Audience); err != nil {
		t.Fatal(err)
	}
	if err := s.release(t.Context(), c.ID, "fixer"); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"m0150", "m0199"} {
		if err := s.DeleteMerchant(t.Context(), staff, id); err != nil {
			t.Fatal(err)
		}
	}
	cl := &countingLogic{Logic: lg}
	gate := make(chan struct{})
	cl.setFail(func(_ context.Context, call int64) (bool, error) {
		if call == 3 {
			<-gate // hold the third batch until the pause is in
		}
		return false, nil
	})
	w := testWorker(s, cl, "w1")
	w.Start()
	defer stop(t, w)
	for cl.calls.Load() < 3 {
		time.Sleep(time.Millisecond)
	}
	if _, err := s.Pause(t.Context(), staff, c.ID, "checking copy"); err != nil {
		t.Fatal(err)
	}
	close(gate)
	// The batch in flight is recorded; nothing more is pushed while paused.
	for {
		c2, _ := s.GetCampaign(t.Context(), c.ID)
		if c2.Stats.Sent == 30 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	w.mu.Lock()
	running := len(w.running)
	w.mu.Unlock()
	for running > 0 {
		time.Sleep(time.Millisecond)
		w.mu.Lock()
		running = len(w.running)
		w.mu.Unlock()
	}
	if calls := cl.calls.Load(); calls != 3 {
		t.Fatalf("%d pushes while paused after 3", calls)
	}
	if _, err := s.Resume(t.Context(), staff, c.ID); err != nil {
		t.Fatal(err)
	}
	done := waitState(t, s, c.ID, StateFinished)
	if done.Stats.Sent != 198 || done.Stats.Skipped != 2 || done.Stats.Targeted != 200 {
		t.Fatalf("stats %+v", done.Stats)
	}
	var live []string
	for _, id := range ids {
		if id != "m0150" && id != "m0199" {
			live = append(live, id)
		}
	}
	inboxes(t, lg, c.ID, live)
	skipped := RecipientSkipped
	rs, _ := s.Recipients(t.Context(), c.ID, &skipped, 0, 10)
	if len(rs) != 2 || rs[0].MerchantID != "m0150" || rs[0].Error != "merchant deleted" {
		t.Fatalf("skipped %+v", rs)
	}
}

// Two workers on one store: the lease gives the campaign to one of them.
func TestWorkersShareByLease(t *testing.T) {
	s, lg := openSQLiteT(t), newLogic(t)
	ids := seed(t, s, lg, 300)
	c, err := s.CreateCampaign(t.Context(), staff, simpleSpec(ids...))
	if err != nil {
		t.Fatal(err)
	}
	a, b := &countingLogic{Logic: lg}, &countingLogic{Logic: lg}
	wa, wb := testWorker(s, a, "wa"), testWorker(s, b, "wb")
	wa.Start()
	wb.Start()
	defer stop(t, wa)
	defer stop(t, wb)
	if _, err := s.Start(t.Context(), staff, c.ID); err != nil {
		t.Fatal(err)
	}
	waitState(t, s, c.ID, StateFinished)
	inboxes(t, lg, c.ID, ids)
	if a.calls.Load() > 0 && b.calls.Load() > 0 {
		t.Fatalf("both workers pushed: %d and %d calls", a.calls.Load(), b.calls.Load())
	}
	if a.duplicates.Load()+b.duplicates.Load() != 0 {
		t.Fatal("a duplicate push")
	}
}

// The cap: a campaign cannot go faster than its rate, whatever the machine. At 200/s with
// batches of 20, 200 recipients take at least (200-20)/200 s.
func TestWorkerHoldsTheCap(t *testing.T) {
	s, lg := openSQLiteT(t), newLogic(t)
	ids := seed(t, s, lg, 200)
	sp := simpleSpec(ids...)
	sp.Rate = 200
	c, err := s.CreateCampaign(t.Context(), staff, sp)
	if err != nil {
		t.Fatal(err)
	}
	w := testWorker(s, &countingLogic{Logic: lg}, "w1")
	w.Start()
	defer stop(t, w)
	if _, err := s.Start(t.Context(), staff, c.ID); err != nil {
		t.Fatal(err)
	}
	done := waitState(t, s, c.ID, StateFinished)
	took := done.FinishedAt.Sub(*done.StartedAt)
	if min := 900 * time.Millisecond; took < min-10*time.Millisecond {
		t.Fatalf("200 recipients at 200/s took %v, under the %v the cap allows", took, min)
	}
}

// Deliveries and reads reported by logic reach the stats.
func TestWorkerCollectsReceipts(t *testing.T) {
	s, lg, c, ids, msgs := sentCampaign(t, 30)
	// m0000..m0009 acknowledge delivery; m0000..m0004 also read.
	for i := range 10 {
		m := ids[i]
		if _, err := lg.Ack(t.Context(), &logicgen.AckRequest{UserId: m, DeviceId: "phone", Seq: msgs[m].Seq}); err != nil {
			t.Fatal(err)
		}
		if i < 5 {
			if _, err := lg.Read(t.Context(), &logicgen.ReadRequest{UserId: m, ConvId: msgs[m].ConvId, ConvSeq: msgs[m].ConvSeq}); err != nil {
				t.Fatal(err)
			}
		}
	}
	// m0020 clicks (twice: counted once); a merchant outside the campaign cannot click.
	for range 2 {
		if _, err := s.RecordClick(t.Context(), c.ID, "m0020"); err != nil {
			t.Fatal(err)
		}
	}
	if counted, _ := s.RecordClick(t.Context(), c.ID, "stranger"); counted {
		t.Fatal("a click from outside the audience counted")
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		got, _ := s.GetCampaign(t.Context(), c.ID)
		if got.Stats.Delivered == 10 && got.Stats.Read == 5 && got.Stats.Clicked == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("stats %+v, want delivered 10, read 5, clicked 1", got.Stats)
		}
		time.Sleep(5 * time.Millisecond)
	}
	// The progress chart follows them after the sending is over.
	for {
		points, err := s.Progress(t.Context(), c.ID, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		if p := points[len(points)-1]; p.Delivered == 10 && p.Read == 5 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the last progress sample is %+v, want delivered 10, read 5", points[len(points)-1])
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// When every message is read, the campaign leaves the receipts loop; its last reads are
// still sampled for the chart.
func TestWorkerSamplesLastReads(t *testing.T) {
	s, lg, c, ids, msgs := sentCampaign(t, 3)
	read := func(m string) {
		if _, err := lg.Read(t.Context(), &logicgen.ReadRequest{UserId: m, ConvId: msgs[m].ConvId, ConvSeq: msgs[m].ConvSeq}); err != nil {
			t.Fatal(err)
		}
	}
	waitSample := func(reads int64) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for {
			points, err := s.Progress(t.Context(), c.ID, time.Time{})
			if err != nil {
				t.Fatal(err)
			}
			if p := points[len(points)-1]; p.Read == reads {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("the last progress sample is %+v, want read %d", points[len(points)-1], reads)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	// One read is sampled at once; the other two come within ProgressEvery of it (2 s),
	// too soon for another sample, and then nothing is left to read.
	read(ids[0])
	waitSample(1)
	read(ids[1])
	read(ids[2])
	waitSample(3)
}

// Receipts sample the progress when something changed, thinning out as the campaign ages.
func TestReceiptSamplesThinOut(t *testing.T) {
	const every = 2 * time.Second
	var c receiptCursor
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	if !c.sampleDue(t0, every) {
		t.Fatal("the first round with receipts does not sample")
	}
	c.firstSample, c.lastSample = t0, t0
	for _, tc := range []struct {
		since, last time.Duration // now after the first sample, and after the last
		due         bool
	}{
		{time.Second, time.Second, false},        // within ProgressEvery
		{3 * time.Second, 3 * time.Second, true}, // past it, while young
		{time.Hour, time.Minute, false},          // an hour old: every 72 s
		{time.Hour, 73 * time.Second, true},      //
		{7 * 24 * time.Hour, time.Hour, false},   // a week old: every 3.4 h
		{7 * 24 * time.Hour, 3*time.Hour + 22*time.Minute, true},
	} {
		c.lastSample = t0.Add(tc.since - tc.last)
		if got := c.sampleDue(t0.Add(tc.since), every); got != tc.due {
			t.Errorf("%v after the first sample, %v after the last: due %v, want %v", tc.since, tc.last, got, tc.due)
		}
	}
	// Over a week of receipts every round, about receiptSamples per tenfold of age.
	c = receiptCursor{}
	n := 0
	for now := t0; now.Before(t0.Add(7 * 24 * time.Hour)); now = now.Add(every) {
		if c.sampleDue(now, every) {
			n++
			if c.firstSample.IsZero() {
				c.firstSample = now
			}
			c.lastSample = now
		}
	}
	if n < 100 || n > 1000 {
		t.Errorf("a week of receipts every %v took %d samples, want some hundreds", every, n)
	}
}

// A scheduled campaign waits for its send time, then runs like any other.
func TestWorkerStartsScheduledAtSendTime(t *testing.T) {
	s, lg := openSQLiteT(t), newLogic(t)
	ids := seed(t, s, lg, 20)
	sp := simpleSpec(ids...)
	at := time.Now().Add(400 * time.Millisecond).Truncate(time.Millisecond)
	sp.SendAt = &at
	c, err := s.CreateCampaign(t.Context(), staff, sp)
	if err != nil {
		t.Fatal(err)
	}
	if c, err = s.Start(t.Context(), staff, c.ID); err != nil || c.State != StateScheduled {
		t.Fatalf("start: %s %v", c.State, err)
	}
	w := testWorker(s, lg, "w1")
	w.Start()
	defer stop(t, w)
	done := waitState(t, s, c.ID, StateFinished)
	if done.StartedAt == nil || done.StartedAt.Before(at) || done.Stats.Sent != 20 {
		t.Fatalf("started %v for a send time of %v; stats %+v", done.StartedAt, at, done.Stats)
	}
	inboxes(t, lg, c.ID, ids)
}
