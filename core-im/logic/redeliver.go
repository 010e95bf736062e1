package logic

import (
	"container/heap"
	"context"
	"log/slog"
	"sync"
	"time"
)

// Backoff of a failed push: the first retry after retryFirst, doubling to retryMax. A
// dependency back from an outage is seen within retryMax.
const (
	retryFirst = 250 * time.Millisecond
	retryMax   = 4 * time.Second
)

// retryState travels with a push job that is a retry.
type retryState struct {
	attempt int       // retries made so far
	since   time.Time // the first failure
}

// redelivery retries message pushes that failed (route table unreachable, a gateway that
// did not answer): the message is stored and acked, and the device must not wait for the
// next message to learn of it. It holds one entry per user, the newest failed message:
// pushing it makes a device that missed earlier ones see the gap and sync, which fetches
// them all. Entries are retried with backoff through the dispatcher (so a user's pushes
// stay on one shard) until a push succeeds, the entry is older than maxAge (the device
// then syncs on reconnect or on its own timer), or the set is full.
//
// Read receipts are not retried: they are hints, and the read mark itself is stored.
type redelivery struct {
	requeue func(context.Context, pushJob) error
	log     *slog.Logger
	metrics *Metrics
	maxAge  time.Duration
	limit   int
	now     func() time.Time

	mu      sync.Mutex
	pending map[string]*retryEntry // by user
	queue   retryQueue             // by due time
	stopped bool
	wake    chan struct{}

	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}
}

type retryEntry struct {
	job   pushJob
	state retryState
	due   time.Time
}

func newRedelivery(requeue func(context.Context, pushJob) error, maxAge time.Duration, limit int, m *Metrics, log *slog.Logger) *redelivery {
	r := &redelivery{requeue: requeue, log: log, metrics: m, maxAge: maxAge, limit: limit, now: time.Now,
		pending: map[string]*retryEntry{}, wake: make(chan struct{}, 1), done: make(chan struct{})}
	r.ctx, r.cancel = context.WithCancel(context.Background())
	go r.loop()
	return r
}

// add schedules the retry of j, whose push just failed.
func (r *redelivery) add(j pushJob) {
	if j.msg == nil {
		return
	}
	now := r.now()
	st := retryState{since: now}
	if j.retry != nil {
		st = *j.retry
	}
	st.attempt++
	j.done, j.retry = nil, nil // a campaign batch waits for the first attempt only
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stopped {
		return
	}
	if now.Sub(st.since) > r.maxAge {
		r.count("abandoned")
		r.log.Warn("push: retries given up; the device syncs on reconnect or on its timer",
			"user", j.user, "seq", j.msg.Seq, "attempts", st.attempt, "since", st.since)
		return
	}
	if e := r.pending[j.user]; e != nil {
		// Keep the newest message, and every device in reach of it.
		if j.msg.Seq > e.job.msg.Seq {
			if j.skipDevice != e.job.skipDevice {
				j.skipDevice = ""
			}
			e.job.msg, e.job.skipDevice, e.job.parent, e.job.queued = j.msg, j.skipDevice, j.parent, j.queued
		} else if j.skipDevice != e.job.skipDevice {
			e.job.skipDevice = ""
		}
		if st.since.Before(e.state.since) {
			e.state.since = st.since
		}
		e.state.attempt = max(e.state.attempt, st.attempt)
		r.count("scheduled")
		return
	}
	if len(r.pending) >= r.limit {
		r.count("overflow")
		r.log.Warn("push: retry set full; the device syncs on reconnect or on its timer", "user", j.user, "seq", j.msg.Seq)
		return
	}
	e := &retryEntry{job: j, state: st, due: now.Add(retryDelay(st.attempt))}
	r.pending[j.user] = e
	heap.Push(&r.queue, e)
	r.count("scheduled")
	r.gauge()
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// recovered counts a retry that reached the gateways.
func (r *redelivery) recovered() { r.count("delivered") }

func retryDelay(attempt int) time.Duration {
	d := retryFirst
	for i := 1; i < attempt && d < retryMax; i++ {
		d *= 2
	}
	return min(d, retryMax)
}

// loop hands due entries back to the dispatcher.
func (r *redelivery) loop() {
	defer close(r.done)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		due, next := r.take(256)
		for _, j := range due {
			if err := r.requeue(r.ctx, j); err != nil {
				return // stopping
			}
		}
		if len(due) == 256 {
			continue
		}
		timer.Reset(next)
		select {
		case <-r.ctx.Done():
			return
		case <-r.wake:
			if !timer.Stop() {
				<-timer.C
			}
		case <-timer.C:
		}
	}
}

// take removes up to n due entries and says how long until the next one is due.
func (r *redelivery) take(n int) ([]pushJob, time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.now()
	var due []pushJob
	for len(r.queue) > 0 && len(due) < n && !r.queue[0].due.After(now) {
		e := heap.Pop(&r.queue).(*retryEntry)
		delete(r.pending, e.job.user)
		st := e.state
		e.job.retry = &st
		due = append(due, e.job)
	}
	r.gauge()
	if len(r.queue) == 0 {
		return due, time.Hour
	}
	return due, max(r.queue[0].due.Sub(now), time.Millisecond)
}

// stop ends the loop; what is pending is left to the devices' own syncs.
func (r *redelivery) stop() {
	r.mu.Lock()
	r.stopped = true
	left := len(r.pending)
	r.mu.Unlock()
	r.cancel()
	<-r.done
	if left > 0 {
		r.log.Warn("push: failed pushes not retried at shutdown; the devices sync on reconnect", "users", left)
	}
}

func (r *redelivery) count(result string) {
	if r.metrics != nil {
		r.metrics.retries.WithLabelValues(result).Inc()
	}
}

func (r *redelivery) gauge() {
	if r.metrics != nil {
		r.metrics.retryPending.Set(float64(len(r.pending)))
	}
}

// retryQueue is a min-heap of entries by due time.
type retryQueue []*retryEntry

func (q retryQueue) Len() int           { return len(q) }
func (q retryQueue) Less(i, j int) bool { return q[i].due.Before(q[j].due) }
func (q retryQueue) Swap(i, j int)      { q[i], q[j] = q[j], q[i] }
func (q *retryQueue) Push(x any)        { *q = append(*q, x.(*retryEntry)) }
func (q *retryQueue) Pop() any {
	old := *q
	e := old[len(old)-1]
	old[len(old)-1] = nil
	*q = old[:len(old)-1]
	return e
}
