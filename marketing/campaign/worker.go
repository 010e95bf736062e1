package campaign

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/bangbang-im/bangbang/gen/common"
	logicgen "github.com/bangbang-im/bangbang/gen/logic"
	"github.com/bangbang-im/bangbang/marketing/ratelimit"
	"github.com/bangbang-im/bangbang/tracing"
)

// Logic is what campaigns need of the IM logic service: the local *logic.Service in one
// process, its Kitex client otherwise.
type Logic interface {
	PushToUsers(ctx context.Context, req *logicgen.PushRequest) (*logicgen.PushResponse, error)
	Receipts(ctx context.Context, req *logicgen.ReceiptsRequest) (*logicgen.ReceiptsResponse, error)
}

// WorkerConfig tunes a Worker. Zero values take the defaults given.
type WorkerConfig struct {
	Owner          string        // names this worker in leases; "" means host-pid-random
	Lease          time.Duration // how long a campaign stays this worker's without renewal; 0 means 15s
	Poll           time.Duration // how often an idle worker looks for work; 0 means 1s
	MaxCampaigns   int           // campaigns sent at once; 0 means 4
	BatchMax       int           // recipients per push; 0 means 500 (logic takes up to 1000)
	ErrorThreshold int           // consecutive failed attempts before a campaign pauses itself; 0 means 5
	BackoffMin     time.Duration // first retry delay; 0 means 200ms, doubling
	BackoffMax     time.Duration // 0 means 5s
	PushTimeout    time.Duration // one PushToUsers call; 0 means 30s
	ReceiptsEvery  time.Duration // how often deliveries and reads are collected; 0 means 2s
	ReceiptsWindow time.Duration // how long after finishing they still are; 0 means 7 days
	ReceiptsBudget int           // older recipients re-checked per campaign per round; 0 means 5000
	ProgressEvery  time.Duration // how often a running campaign's counters are sampled; 0 means 2s
	TracerProvider trace.TracerProvider
	Metrics        *Metrics
}

func (c *WorkerConfig) defaults() {
	if c.Owner == "" {
		host, _ := os.Hostname()
		var b [4]byte
		_, _ = rand.Read(b[:])
		c.Owner = fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b[:]))
	}
	set := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	set(&c.Lease, 15*time.Second)
	set(&c.Poll, time.Second)
	set(&c.BackoffMin, 200*time.Millisecond)
	set(&c.BackoffMax, 5*time.Second)
	set(&c.PushTimeout, 30*time.Second)
	set(&c.ReceiptsEvery, 2*time.Second)
	set(&c.ReceiptsWindow, 7*24*time.Hour)
	if c.ReceiptsBudget <= 0 {
		c.ReceiptsBudget = 5000
	}
	set(&c.ProgressEvery, 2*time.Second)
	if c.MaxCampaigns <= 0 {
		c.MaxCampaigns = 4
	}
	if c.BatchMax <= 0 || c.BatchMax > 1000 {
		c.BatchMax = 500
	}
	if c.ErrorThreshold <= 0 {
		c.ErrorThreshold = 5
	}
	if c.TracerProvider == nil {
		c.TracerProvider = noop.NewTracerProvider()
	}
}

// Worker sends running campaigns: it leases each from the store so that one worker sends
// a campaign at a time however many run, fixes its audience, and pushes it in batches at
// its rate through logic. It also collects deliveries and reads for the stats.
//
// Exactly once per recipient: each batch's outcomes are written only after logic answered,
// and logic de-duplicates by a key derived from the campaign and the recipient, so a batch
// pushed again after a crash (or by a worker that took over) returns the first messages
// instead of sending new ones; nothing is lost because the cursor moves only with the
// outcomes, in one transaction.
type Worker struct {
	cfg    WorkerConfig
	st     *Store
	logic  Logic
	pacer  ratelimit.Pacer
	log    *slog.Logger
	tracer trace.Tracer

	mu      sync.Mutex
	running map[string]bool
	stop    context.CancelFunc
	wg      sync.WaitGroup
}

// NewWorker builds a worker; Start runs it.
func NewWorker(cfg WorkerConfig, st *Store, lg Logic, pacer ratelimit.Pacer, log *slog.Logger) *Worker {
	cfg.defaults()
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Worker{cfg: cfg, st: st, logic: lg, pacer: pacer, log: log,
		tracer: cfg.TracerProvider.Tracer("github.com/bangbang-im/bangbang/marketing/campaign"), running: map[string]bool{}}
}

// Owner is the name this worker leases campaigns under.
func (w *Worker) Owner() string { return w.cfg.Owner }

// Start runs the worker's loops until Stop.
func (w *Worker) Start() {
	ctx, cancel := context.WithCancel(context.Background())
	w.stop = cancel
	w.wg.Add(2)
	go func() { defer w.wg.Done(); w.claimLoop(ctx) }()
	go func() { defer w.wg.Done(); w.receiptsLoop(ctx) }()
}

// Stop ends the loops: a batch in flight finishes being recorded or is abandoned whole
// (it is sent again, without duplicates, by whoever runs the campaign next). Leases are
// released so another worker can take over at once.
func (w *Worker) Stop(ctx context.Context) error {
	if w.stop == nil {
		return nil
	}
	w.stop()
	done := make(chan struct{})
	go func() { w.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (w *Worker) claimLoop(ctx context.Context) {
	t := time.NewTicker(w.cfg.Poll)
	defer t.Stop()
	for {
		w.claimOnce(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// claimOnce starts due schedules and takes the campaigns this worker has room for.
func (w *Worker) claimOnce(ctx context.Context) {
	if err := w.st.promoteDue(ctx); err != nil && ctx.Err() == nil {
		w.log.WarnContext(ctx, "campaign schedules not checked", "err", err)
		return
	}
	w.mu.Lock()
	room := w.cfg.MaxCampaigns - len(w.running)
	w.mu.Unlock()
	if room <= 0 {
		return
	}
	ids, err := w.st.claim(ctx, w.cfg.Owner, w.cfg.Lease, room)
	if err != nil && ctx.Err() == nil {
		w.log.WarnContext(ctx, "campaigns not claimed", "err", err)
	}
	for _, id := range ids {
		w.mu.Lock()
		if w.running[id] {
			w.mu.Unlock()
			continue
		}
		w.running[id] = true
		w.mu.Unlock()
		w.wg.Add(1)
		go func() {
			defer w.wg.Done()
			w.run(ctx, id)
			w.mu.Lock()
			delete(w.running, id)
			w.mu.Unlock()
		}()
	}
}

// run sends campaign id while this worker holds it and it is running.
func (w *Worker) run(ctx context.Context, id string) {
	log := w.log.With("campaign", id)
	log.InfoContext(ctx, "campaign taken", "owner", w.cfg.Owner)
	defer func() {
		// Released on a fresh context: the worker may be stopping.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := w.st.release(rctx, id, w.cfg.Owner); err != nil {
			log.WarnContext(rctx, "campaign lease not released; it expires", "err", err)
		}
		w.cfg.Metrics.forget(id)
	}()
	r := &runner{w: w, id: id, log: log, rate: newRateMeter(5 * time.Second)}
	for ctx.Err() == nil {
		more, err := r.step(ctx)
		if errors.Is(err, ErrLeaseLost) {
			log.WarnContext(ctx, "campaign lease lost; another worker has it")
			return
		}
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			if paused := r.failed(ctx, err); paused {
				return
			}
			continue
		}
		r.errors = 0
		if !more {
			return
		}
	}
}

// runner is the state of one campaign's run in this worker.
type runner struct {
	w        *Worker
	id       string
	log      *slog.Logger
	errors   int // consecutive failed attempts
	rate     *rateMeter
	sampled  time.Time
	lastErr  string
	campaign Campaign
}

// failed counts a failed attempt: it backs off, and past the threshold pauses the
// campaign with the reason. It reports whether the campaign was paused.
func (r *runner) failed(ctx context.Context, err error) bool {
	r.errors++
	r.lastErr = err.Error()
	r.w.cfg.Metrics.attempt("error")
	r.log.WarnContext(ctx, "campaign batch failed", "attempt", r.errors, "err", err)
	if r.errors >= r.w.cfg.ErrorThreshold {
		reason := fmt.Sprintf("%d delivery attempts failed in a row; last: %s", r.errors, sanitise(err))
		if perr := r.w.st.autoPause(ctx, SystemActor, r.id, r.w.cfg.Owner, reason); perr != nil {
			r.log.ErrorContext(ctx, "campaign not auto-paused", "err", perr)
		} else {
			r.log.WarnContext(ctx, "campaign auto-paused", "reason", reason)
			return true
		}
	}
	d := r.w.cfg.BackoffMin << min(r.errors-1, 10)
	_ = sleepCtx(ctx, min(d, r.w.cfg.BackoffMax))
	return false
}

// sanitise keeps a pause reason readable by staff: the kind of failure, not a stack of
// wrapped driver messages.
func sanitise(err error) string {
	var ie *common.IMError
	switch {
	case errors.As(err, &ie):
		return fmt.Sprintf("logic answered %s", common.ErrorCode(ie.Code))
	case errors.Is(err, ErrUnavailable):
		return "campaign store unavailable"
	case errors.Is(err, context.DeadlineExceeded):
		return "logic did not answer in time"
	}
	return "logic unreachable"
}

// step sends one batch; more is false when the campaign is done or no longer running.
func (r *runner) step(ctx context.Context) (more bool, err error) {
	w := r.w
	rs, err := w.st.runStateOf(ctx, r.id, w.cfg.Owner, w.cfg.Lease)
	if err != nil {
		return false, err
	}
	r.campaign = rs.campaign
	if rs.campaign.State != StateRunning {
		return false, nil
	}
	if !rs.fixed {
		n, err := w.st.fixAudience(ctx, r.id, w.cfg.Owner, rs.campaign.Audience)
		if err != nil {
			return false, err
		}
		r.log.InfoContext(ctx, "campaign audience fixed", "recipients", n)
	}
	batch := min(w.cfg.BatchMax, max(1, rs.campaign.Rate/10), rs.campaign.Rate)
	rows, err := w.st.nextPending(ctx, r.id, rs.cursor, batch)
	if err != nil {
		return false, err
	}
	if len(rows) == 0 {
		if err := w.st.finish(ctx, SystemActor, r.id, w.cfg.Owner); err != nil {
			return false, err
		}
		_ = w.st.sampleProgress(ctx, r.id)
		r.log.InfoContext(ctx, "campaign finished")
		return false, nil
	}
	if err := r.sendBatch(ctx, rs, rows); err != nil {
		return false, err
	}
	if time.Since(r.sampled) >= w.cfg.ProgressEvery {
		r.sampled = time.Now()
		if err := w.st.sampleProgress(ctx, r.id); err != nil {
			r.log.WarnContext(ctx, "campaign progress not sampled", "err", err)
		}
	}
	return true, nil
}

// DedupKey is the key logic de-duplicates a campaign's messages by: with the recipient it
// names one message, so no retry or restart can send a second.
func DedupKey(id string) string { return "campaign:" + id }

// sendBatch renders, paces, pushes and records one batch, as one trace.
func (r *runner) sendBatch(ctx context.Context, rs runState, rows []pendingRow) (err error) {
	w := r.w
	ctx, span := w.tracer.Start(ctx, "campaign.batch", trace.WithNewRoot(), trace.WithSpanKind(trace.SpanKindProducer),
		trace.WithAttributes(tracing.AttrTraffic.String(tracing.TrafficCampaign), attribute.String("campaign.id", r.id),
			attribute.Int("campaign.batch.size", len(rows)), attribute.Int64("campaign.batch.first_pos", rows[0].pos)))
	start := time.Now()
	defer func() {
		if err != nil {
			span.RecordError(err)
			span.SetStatus(codes.Error, "batch failed")
		}
		span.End()
		w.cfg.Metrics.batchDone(ctx, time.Since(start), err)
	}()

	outs := make([]outcome, len(rows))
	req := &logicgen.PushRequest{From: DedupKey(r.id), Kind: int32(common.MessageKind_MARKETING), ContentType: ContentType,
		DedupKey: DedupKey(r.id)}
	var idx []int                                          // outs index of each pushed user
	rd, rerr := newRenderer(r.id, rs.campaign.Spec, false) // the spec cannot change while running
	for i, row := range rows {
		outs[i] = outcome{pos: row.pos}
		if row.deleted {
			outs[i].status, outs[i].err = RecipientSkipped, "merchant deleted"
			continue
		}
		err := rerr
		var rendered Rendered
		if err == nil {
			rendered, err = rd.render(row.merchant)
		}
		var body []byte
		if err == nil {
			body, err = rendered.body()
		}
		if err != nil {
			outs[i].status, outs[i].err = RecipientFailed, err.Error()
			continue
		}
		req.Users = append(req.Users, row.merchant.ID)
		req.Bodies = append(req.Bodies, body)
		idx = append(idx, i)
	}
	span.SetAttributes(attribute.Int("campaign.batch.pushed", len(req.Users)))
	cut := len(rows) // outcomes from here on are not final (a temporary per-user failure)
	if len(req.Users) > 0 {
		// The wait for the cap is a span of its own: in a waterfall it explains the gap
		// before logic's span rather than looking like a slow worker.
		pctx, pspan := w.tracer.Start(ctx, "campaign.pace", trace.WithAttributes(attribute.Int("campaign.rate", rs.campaign.Rate)))
		err := w.pacer.Wait(pctx, "campaign:"+r.id, rs.campaign.Rate, len(req.Users))
		pspan.End()
		if err != nil {
			return fmt.Errorf("pace: %w", err)
		}
		pctx, cancel := context.WithTimeout(ctx, w.cfg.PushTimeout)
		resp, err := w.logic.PushToUsers(pctx, req)
		cancel()
		if err != nil {
			return fmt.Errorf("push: %w", err)
		}
		if len(resp.Results) != len(req.Users) {
			return fmt.Errorf("push: %d results for %d users", len(resp.Results), len(req.Users))
		}
		for j, res := range resp.Results {
			o := &outs[idx[j]]
			switch common.ErrorCode(res.ErrorCode) {
			case 0:
				o.status, o.msgID, o.seq, o.convSeq = RecipientSent, res.MsgId, res.Seq, res.ConvSeq
			case common.ErrorCode_NOT_FOUND:
				o.status, o.err = RecipientSkipped, "no IM account"
			case common.ErrorCode_BAD_REQUEST, common.ErrorCode_FORBIDDEN:
				o.status, o.err = RecipientFailed, common.ErrorCode(res.ErrorCode).String()
			default: // INTERNAL, UNAVAILABLE: the store hiccupped; this recipient is sent again
				cut = min(cut, idx[j])
			}
		}
	}
	cursor := rows[len(rows)-1].pos
	if cut < len(rows) {
		cursor = rows[cut].pos - 1
		// Outcomes past the cut are final too; only the cut rows stay pending. Recording
		// them now keeps the work done, and the status filter skips them next time.
		final := outs[:0:0]
		for i, o := range outs {
			if i < cut || o.status != RecipientPending {
				final = append(final, o)
			}
		}
		outs = final
	}
	r.rate.add(time.Now(), int64(len(outs)))
	if err := w.st.recordBatch(ctx, r.id, w.cfg.Owner, outs, cursor, r.rate.milli(time.Now())); err != nil {
		return fmt.Errorf("record: %w", err)
	}
	var sent, failed, skipped int
	for _, o := range outs {
		switch o.status {
		case RecipientSent:
			sent++
		case RecipientFailed:
			failed++
		case RecipientSkipped:
			skipped++
		}
	}
	w.cfg.Metrics.recipients(r.id, sent, failed, skipped, r.rate.perSecond(time.Now()))
	span.SetAttributes(attribute.Int("campaign.batch.sent", sent), attribute.Int("campaign.batch.failed", failed),
		attribute.Int("campaign.batch.skipped", skipped))
	if cut < len(rows) {
		return fmt.Errorf("push: %d recipients failed temporarily", len(rows)-cut)
	}
	return nil
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// rateMeter measures the achieved rate over a sliding window.
type rateMeter struct {
	window time.Duration
	points []ratePoint
}

type ratePoint struct {
	at time.Time
	n  int64
}

func newRateMeter(window time.Duration) *rateMeter { return &rateMeter{window: window} }

func (m *rateMeter) add(at time.Time, n int64) {
	m.points = append(m.points, ratePoint{at, n})
	cut := 0
	for cut < len(m.points)-1 && at.Sub(m.points[cut].at) > m.window {
		cut++
	}
	m.points = m.points[cut:]
}

// perSecond is the rate of the points in the window: what they sent after the first,
// over the time since it.
func (m *rateMeter) perSecond(now time.Time) float64 {
	if len(m.points) < 2 {
		return 0
	}
	var n int64
	for _, p := range m.points[1:] {
		n += p.n
	}
	span := now.Sub(m.points[0].at).Seconds()
	if span <= 0 {
		return 0
	}
	return float64(n) / span
}

func (m *rateMeter) milli(now time.Time) int64 { return int64(m.perSecond(now) * 1000) }
