package store

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
)

// batchWriter writes, in one transaction, appends whose messages have distinct (From,
// ClientMsgID) and marks (delivery acks and read marks), and returns one result per
// append and per mark, in order. A transaction failure fails the whole call; a mark its
// bound refuses is a result (its error), not a failure.
type batchWriter interface {
	writeBatch(ctx context.Context, reqs []*appendReq, marks []*markReq) ([]Appended, []markResult, error)
}

// committer group-commits appends and marks: callers queue, one goroutine writes what is
// queued in one transaction and answers each caller after the commit. Requests queued
// together (AppendBatch) stay together and in their order: batches are written one after
// the other, and a batch takes the queue in order.
type committer struct {
	w       batchWriter
	log     *slog.Logger
	max     int
	wait    time.Duration
	backend string   // for metrics
	metrics *Metrics // nil: none

	mu       sync.Mutex
	pending  []*appendReq
	marks    []*markReq
	inflight int
	closed   bool

	wake chan struct{} // cap 1: a request was queued
	stop chan struct{} // closed by close
	done chan struct{} // closed when run returns
}

func newCommitter(w batchWriter, backend string, opt Options) *committer {
	c := &committer{
		w: w, log: opt.Logger, max: opt.BatchMax, wait: opt.BatchWait,
		backend: backend, metrics: opt.Metrics,
		wake: make(chan struct{}, 1),
		stop: make(chan struct{}),
		done: make(chan struct{}),
	}
	go c.run()
	return c
}

// submit validates ms and queues the valid ones together, in their order, for the next
// batches: the one AppendBatch of every backend. Each result answers the message at its
// index.
func (c *committer) submit(ctx context.Context, closed *atomic.Bool, ms []NewMessage) []AppendResult {
	out := make([]AppendResult, len(ms))
	fail := func(err error) []AppendResult {
		for i := range out {
			if out[i].Err == nil {
				out[i].Err = err
			}
		}
		return out
	}
	if closed.Load() {
		return fail(ErrClosed)
	}
	if err := ctx.Err(); err != nil {
		return fail(fmt.Errorf("append: %w", err))
	}
	if len(ms) > MaxBatch {
		return fail(invalid("messages", fmt.Sprintf("more than %d in one batch", MaxBatch)))
	}
	reqs := make([]*appendReq, len(ms))
	queued := time.Now()
	for i, m := range ms {
		m, id, err := prepareMessage(m)
		if err != nil {
			out[i].Err = err
			continue
		}
		reqs[i] = &appendReq{ctx: ctx, id: id, msg: m, done: make(chan appendResult, 1), queued: queued}
	}
	if !c.enqueue(reqs) {
		return fail(ErrClosed)
	}
	for i, r := range reqs {
		if r == nil {
			continue
		}
		select {
		case res := <-r.done:
			out[i] = AppendResult{Appended: res.appended, Err: res.err}
		case <-ctx.Done():
			out[i].Err = fmt.Errorf("append: %w", ctx.Err())
		}
	}
	return out
}

// append queues r and waits for its answer or for ctx to end.
func (c *committer) append(ctx context.Context, r *appendReq) (Appended, error) {
	if !c.enqueue([]*appendReq{r}) {
		return Appended{}, ErrClosed
	}
	select {
	case res := <-r.done:
		return res.appended, res.err
	case <-ctx.Done():
		return Appended{}, fmt.Errorf("append: %w", ctx.Err())
	}
}

// enqueue queues the non-nil reqs together; false when the committer is closed.
func (c *committer) enqueue(reqs []*appendReq) bool {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return false
	}
	for _, r := range reqs {
		if r != nil {
			c.pending = append(c.pending, r)
		}
	}
	c.mu.Unlock()
	c.signal()
	return true
}

// mark queues m for the next batch and waits for its answer or for ctx to end.
func (c *committer) mark(ctx context.Context, closed *atomic.Bool, m *markReq) (int64, error) {
	if closed.Load() {
		return 0, ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("%s: %w", m.kind, err)
	}
	m.ctx, m.done = ctx, make(chan markResult, 1)
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return 0, ErrClosed
	}
	c.marks = append(c.marks, m)
	c.mu.Unlock()
	c.signal()
	select {
	case res := <-m.done:
		return res.seq, res.err
	case <-ctx.Done():
		return 0, fmt.Errorf("%s: %w", m.kind, ctx.Err())
	}
}

func (c *committer) signal() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// close fails every queued request with ErrClosed, then waits for the batch
// being written.
func (c *committer) close() {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		<-c.done
		return
	}
	c.closed = true
	queued, marks := c.pending, c.marks
	c.pending, c.marks = nil, nil
	c.mu.Unlock()
	for _, r := range queued {
		r.done <- appendResult{err: ErrClosed}
	}
	for _, m := range marks {
		m.done <- markResult{err: ErrClosed}
	}
	close(c.stop)
	<-c.done
}

// queueStats reports the requests (appends and marks) queued and being written.
func (c *committer) queueStats() (pending, inflight int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.pending) + len(c.marks), c.inflight
}

func (c *committer) run() {
	defer close(c.done)
	for {
		select {
		case <-c.wake:
		case <-c.stop:
			return
		}
		if c.wait > 0 {
			c.linger()
		}
		for {
			batch, marks := c.take()
			if len(batch)+len(marks) == 0 {
				break
			}
			c.commit(batch, marks)
			c.mu.Lock()
			c.inflight = 0
			c.mu.Unlock()
		}
	}
}

// linger waits up to c.wait for the queue to fill a batch.
func (c *committer) linger() {
	t := time.NewTimer(c.wait)
	defer t.Stop()
	for {
		c.mu.Lock()
		n := len(c.pending)
		c.mu.Unlock()
		if n >= c.max {
			return
		}
		select {
		case <-c.wake:
		case <-t.C:
			return
		case <-c.stop:
			return
		}
	}
}

// take removes up to c.max live appends and c.max live marks from the queue, in queue order. Requests whose caller has gone are answered
// (nobody reads it) and never written.
func (c *committer) take() ([]*appendReq, []*markReq) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var batch []*appendReq
	i := 0
	for ; i < len(c.pending) && len(batch) < c.max; i++ {
		r := c.pending[i]
		if err := r.ctx.Err(); err != nil {
			r.done <- appendResult{err: fmt.Errorf("append: %w", err)}
			continue
		}
		batch = append(batch, r)
	}
	c.pending = append(c.pending[:0], c.pending[i:]...)
	var marks []*markReq
	j := 0
	for ; j < len(c.marks) && len(marks) < c.max; j++ {
		m := c.marks[j]
		if err := m.ctx.Err(); err != nil {
			m.done <- markResult{err: fmt.Errorf("%s: %w", m.kind, err)}
			continue
		}
		marks = append(marks, m)
	}
	c.marks = append(c.marks[:0], c.marks[j:]...)
	c.inflight = len(batch) + len(marks)
	return batch, marks
}

// commit writes batch and marks in one transaction; if that fails, it writes each request
// alone, in order, so that a bad one fails only its own caller.
func (c *committer) commit(batch []*appendReq, marks []*markReq) {
	leaders, followers := splitDuplicates(batch)
	if len(leaders) > 0 {
		c.metrics.observeBatch(c.backend, len(leaders))
	}
	started := time.Now()
	res, mres, err := c.write(leaders, marks)
	if err == nil {
		c.traceBatch(batch, len(leaders), len(marks), started)
		for i, r := range leaders {
			c.answer(r, followers[r], appendResult{appended: res[i]})
		}
		for i, m := range marks {
			m.done <- mres[i]
		}
		return
	}
	if len(leaders)+len(marks) == 1 {
		c.fail(leaders, followers, marks, err)
		return
	}
	c.log.Warn("batch write failed, writing requests one by one", "appends", len(leaders), "marks", len(marks), "err", err)
	for _, r := range leaders {
		one, _, err := c.write([]*appendReq{r}, nil)
		if err != nil {
			c.fail([]*appendReq{r}, followers, nil, err)
			continue
		}
		c.answer(r, followers[r], appendResult{appended: one[0]})
	}
	for _, m := range marks {
		_, one, err := c.write(nil, []*markReq{m})
		if err != nil {
			c.fail(nil, nil, []*markReq{m}, err)
			continue
		}
		m.done <- one[0]
	}
}

// fail answers requests whose transaction failed.
func (c *committer) fail(reqs []*appendReq, followers map[*appendReq][]*appendReq, marks []*markReq, err error) {
	for _, r := range reqs {
		c.log.Error("append failed", "conv", r.msg.ConvID, "err", err)
		c.answer(r, followers[r], appendResult{err: fmt.Errorf("append: %w", err)})
	}
	for _, m := range marks {
		c.log.Error(m.kind.String()+" failed", "user", m.user, "err", err)
		m.done <- markResult{err: fmt.Errorf("%s: %w", m.kind, err)}
	}
}

// traceBatch adds to each traced caller's span when its batch was written: an SRE
// reading a slow Append sees how much was queueing and how much was the commit.
func (c *committer) traceBatch(batch []*appendReq, size, marks int, started time.Time) {
	var attrs trace.EventOption
	for _, r := range batch {
		span := trace.SpanFromContext(r.ctx)
		if !span.IsRecording() {
			continue
		}
		if attrs == nil {
			attrs = trace.WithAttributes(
				attribute.Int("bangbang.store.batch_size", size),
				attribute.Int("bangbang.store.batch_marks", marks),
				attribute.Int64("bangbang.store.commit_us", time.Since(started).Microseconds()))
		}
		span.AddEvent("store.batch_committed", attrs,
			trace.WithAttributes(attribute.Int64("bangbang.store.queued_us", started.Sub(r.queued).Microseconds())))
	}
}

// write runs one transaction. It belongs to many callers, so no caller's ctx
// may cancel it; batchTimeout bounds it instead.
func (c *committer) write(reqs []*appendReq, marks []*markReq) ([]Appended, []markResult, error) {
	ctx, cancel := context.WithTimeout(context.Background(), batchTimeout)
	defer cancel()
	return c.w.writeBatch(ctx, reqs, marks)
}

// answer replies to a request and to the requests of the same batch that
// carried its (From, ClientMsgID): they get the same message as a duplicate.
func (c *committer) answer(r *appendReq, followers []*appendReq, res appendResult) {
	r.done <- res
	for _, f := range followers {
		dup := res
		if dup.err == nil {
			dup.appended.Duplicate = true
			dup.appended.Inbox = slices.Clone(res.appended.Inbox)
			dup.appended.Message.Body = slices.Clone(res.appended.Message.Body)
		}
		f.done <- dup
	}
}
