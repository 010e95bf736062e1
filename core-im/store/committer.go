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

// batchWriter writes requests whose messages have distinct (From, ClientMsgID)
// in one transaction and returns one result per request, in order. A
// transaction failure fails the whole call.
type batchWriter interface {
	writeBatch(ctx context.Context, reqs []*appendReq) ([]Appended, error)
}

// committer group-commits Append requests: callers queue, one goroutine writes
// what is queued in one transaction and answers each caller after the commit.
type committer struct {
	w       batchWriter
	log     *slog.Logger
	max     int
	wait    time.Duration
	backend string   // for metrics
	metrics *Metrics // nil: none

	mu       sync.Mutex
	pending  []*appendReq
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

// append queues r and waits for its answer or for ctx to end.
// submit validates m and queues it for the next batch: the one Append of every backend.
func (c *committer) submit(ctx context.Context, closed *atomic.Bool, m NewMessage) (Appended, error) {
	if closed.Load() {
		return Appended{}, ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return Appended{}, fmt.Errorf("append: %w", err)
	}
	m, id, err := prepareMessage(m)
	if err != nil {
		return Appended{}, err
	}
	return c.append(ctx, &appendReq{ctx: ctx, id: id, msg: m, done: make(chan appendResult, 1), queued: time.Now()})
}

func (c *committer) append(ctx context.Context, r *appendReq) (Appended, error) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return Appended{}, ErrClosed
	}
	c.pending = append(c.pending, r)
	c.mu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default:
	}
	select {
	case res := <-r.done:
		return res.appended, res.err
	case <-ctx.Done():
		return Appended{}, fmt.Errorf("append: %w", ctx.Err())
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
	queued := c.pending
	c.pending = nil
	c.mu.Unlock()
	for _, r := range queued {
		r.done <- appendResult{err: ErrClosed}
	}
	close(c.stop)
	<-c.done
}

// queueStats reports the requests queued and being written.
func (c *committer) queueStats() (pending, inflight int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.pending), c.inflight
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
			batch := c.take()
			if len(batch) == 0 {
				break
			}
			c.commit(batch)
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

// take removes up to c.max live requests from the queue. Requests whose
// caller has gone are answered (nobody reads it) and never written.
func (c *committer) take() []*appendReq {
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
	c.inflight = len(batch)
	return batch
}

// commit writes batch in one transaction; if that fails, it writes each
// request alone so that a bad one fails only its own caller.
func (c *committer) commit(batch []*appendReq) {
	leaders, followers := splitDuplicates(batch)
	c.metrics.observeBatch(c.backend, len(leaders))
	started := time.Now()
	res, err := c.write(leaders)
	if err == nil {
		c.traceBatch(batch, len(leaders), started)
		for i, r := range leaders {
			c.answer(r, followers[r], appendResult{appended: res[i]})
		}
		return
	}
	if len(leaders) == 1 {
		c.log.Error("append failed", "conv", leaders[0].msg.ConvID, "err", err)
		c.answer(leaders[0], followers[leaders[0]], appendResult{err: fmt.Errorf("append: %w", err)})
		return
	}
	c.log.Warn("batch append failed, writing requests one by one", "size", len(leaders), "err", err)
	for _, r := range leaders {
		one, err := c.write([]*appendReq{r})
		if err != nil {
			c.log.Error("append failed", "conv", r.msg.ConvID, "err", err)
			c.answer(r, followers[r], appendResult{err: fmt.Errorf("append: %w", err)})
			continue
		}
		c.answer(r, followers[r], appendResult{appended: one[0]})
	}
}

// traceBatch adds to each traced caller's span when its batch was written: an SRE
// reading a slow Append sees how much was queueing and how much was the commit.
func (c *committer) traceBatch(batch []*appendReq, size int, started time.Time) {
	var attrs trace.EventOption
	for _, r := range batch {
		span := trace.SpanFromContext(r.ctx)
		if !span.IsRecording() {
			continue
		}
		if attrs == nil {
			attrs = trace.WithAttributes(
				attribute.Int("bangbang.store.batch_size", size),
				attribute.Int64("bangbang.store.commit_us", time.Since(started).Microseconds()))
		}
		span.AddEvent("store.batch_committed", attrs,
			trace.WithAttributes(attribute.Int64("bangbang.store.queued_us", started.Sub(r.queued).Microseconds())))
	}
}

// write runs one transaction. It belongs to many callers, so no caller's ctx
// may cancel it; batchTimeout bounds it instead.
func (c *committer) write(reqs []*appendReq) ([]Appended, error) {
	ctx, cancel := context.WithTimeout(context.Background(), batchTimeout)
	defer cancel()
	return c.w.writeBatch(ctx, reqs)
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
