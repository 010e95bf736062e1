package logic

import (
	"context"
	"errors"
	"hash/fnv"
	"log/slog"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/bangbang-im/bangbang/core-im/protocol"
	"github.com/bangbang-im/bangbang/core-im/router"
	"github.com/bangbang-im/bangbang/gen/common"
	"github.com/bangbang-im/bangbang/gen/frame"
	gatewaygen "github.com/bangbang-im/bangbang/gen/gateway"
	"github.com/bangbang-im/bangbang/tracing"
)

// ErrClosed is returned by calls that need the dispatchers after Close.
var ErrClosed = errors.New("logic: closed")

type receipt struct {
	conv, reader string
	seq          int64
}

// pushJob is one frame for every online device of one user.
type pushJob struct {
	user       string
	msg        *common.Message // a PUSH, or
	receipt    *receipt        // a READ_RECEIPT
	skipDevice string          // the sending device, which has its ack instead
	done       chan<- int      // optional: receives the number of devices reached
	retry      *retryState     // set when this is a retry of a failed push

	// Set by enqueue: the span that caused the push (a send, a read, a campaign batch),
	// which the push's span continues, and when it was queued.
	parent trace.SpanContext
	queued time.Time
}

// dispatcher runs pushes on a fixed set of goroutines, sharded by user so that one user's
// pushes leave in the order they were stored.
type dispatcher struct {
	shards  []chan pushJob
	run     func(context.Context, []pushJob) []int
	log     *slog.Logger
	wg      sync.WaitGroup
	mu      sync.RWMutex // guards closed against enqueue racing close
	closed  bool
	stopCtx context.Context
	stop    context.CancelFunc
}

func newDispatcher(shards, queue int, run func(context.Context, []pushJob) []int, log *slog.Logger) *dispatcher {
	d := &dispatcher{shards: make([]chan pushJob, shards), run: run, log: log}
	d.stopCtx, d.stop = context.WithCancel(context.Background())
	for i := range d.shards {
		d.shards[i] = make(chan pushJob, queue)
		d.wg.Add(1)
		go d.loop(d.shards[i])
	}
	return d
}

// maxPushBatch bounds the jobs a shard takes at once: what queued while it was busy goes
// out together (one route lookup, one Deliver call per gateway node), so a node whose
// gateways are a network hop away keeps up with the store.
const maxPushBatch = 128

func (d *dispatcher) loop(jobs <-chan pushJob) {
	defer d.wg.Done()
	batch := make([]pushJob, 0, maxPushBatch)
	for j := range jobs {
		batch = append(batch[:0], j)
	more:
		for len(batch) < maxPushBatch {
			select {
			case j, ok := <-jobs:
				if !ok {
					break more
				}
				batch = append(batch, j)
			default:
				break more
			}
		}
		reached := d.run(d.stopCtx, batch)
		for i, j := range batch {
			if j.done != nil {
				j.done <- reached[i]
			}
		}
		clear(batch) // the jobs' messages are not kept alive by the shard
	}
}

// enqueue waits for room in the user's shard: backpressure reaches the sender instead of a
// push being dropped.
func (d *dispatcher) enqueue(ctx context.Context, j pushJob) error {
	j.parent, j.queued = trace.SpanContextFromContext(ctx), time.Now()
	return d.requeue(ctx, j)
}

// requeue queues a retry: unlike enqueue it keeps the job's cause and queue time, so the
// retried push joins the original trace and its latency counts from the message stored.
func (d *dispatcher) requeue(ctx context.Context, j pushJob) error {
	h := fnv.New32a()
	h.Write([]byte(j.user))
	d.mu.RLock()
	defer d.mu.RUnlock()
	if d.closed {
		return ErrClosed
	}
	select {
	case d.shards[h.Sum32()%uint32(len(d.shards))] <- j:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// close lets the queued pushes finish, then stops the goroutines.
func (d *dispatcher) close() {
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return
	}
	d.closed = true
	for _, c := range d.shards {
		close(c)
	}
	d.mu.Unlock()
	d.wg.Wait()
	d.stop()
}

// deliver sends one job's frame to every online device of its user, one Deliver call per
// gateway node. It returns the number of devices the gateways accepted it for.
//
// A push of a traced request is a "logic.push" span in the request's trace, started when
// the dispatcher takes the job (the request has usually been answered by then): its
// queue wait is an attribute, and the Deliver calls are its children. In an unsampled
// trace there is no span (two per message were a third of tracing's cost): a failed push
// shows in bangbang_logic_push_duration_seconds{result="failed"} and in its log line,
// which names the trace.
func (s *Service) deliver(parent context.Context, j pushJob) (reached int) {
	ctx, cancel := context.WithTimeout(parent, s.cfg.PushTimeout)
	defer cancel()
	failed := false
	if j.parent.IsValid() {
		var span trace.Span
		ctx, span = s.tracer.Start(trace.ContextWithSpanContext(ctx, j.parent), "logic.push",
			trace.WithSpanKind(trace.SpanKindConsumer),
			trace.WithAttributes(tracing.AttrUser.String(j.user),
				attribute.Int64("bangbang.push.queued_us", time.Since(j.queued).Microseconds())))
		if j.retry != nil {
			span.SetAttributes(attribute.Int("bangbang.push.retry", j.retry.attempt))
		}
		defer func() {
			span.SetAttributes(attribute.Int("bangbang.push.devices", reached))
			if failed {
				span.SetStatus(codes.Error, "push failed: retrying")
			}
			span.End()
		}()
	}
	defer func() { s.settle(j, reached, failed) }()
	found, err := s.routes.Lookup(ctx, []string{j.user})
	if err != nil {
		s.log.WarnContext(ctx, "push: route lookup failed; retrying", "user", j.user, "err", err)
		failed = true
		return 0
	}
	byNode := map[string][]router.Route{}
	for _, r := range found[j.user] {
		if r.DeviceID != j.skipDevice {
			byNode[r.Node] = append(byNode[r.Node], r)
		}
	}
	if len(byNode) == 0 {
		s.log.DebugContext(ctx, "push: user offline", "user", j.user)
		return 0
	}
	op, body := encodePush(j)
	for node, routes := range byNode {
		n, ok := s.deliverNode(ctx, node, routes, op, body)
		reached += n
		failed = failed || !ok
	}
	s.log.DebugContext(ctx, "push delivered", "user", j.user, "op", op, "devices", reached)
	return reached
}

// settle records how a push went and retries it when it failed.
func (s *Service) settle(j pushJob, reached int, failed bool) {
	s.observePush(j, reached, failed)
	switch {
	case failed:
		s.retry.add(j)
	case j.retry != nil:
		s.retry.recovered()
	}
}

// deliverAll runs a shard's batch in order: a job of a sampled trace alone (its span and
// Deliver calls belong to that trace), every run of other jobs together.
func (s *Service) deliverAll(ctx context.Context, jobs []pushJob) []int {
	reached := make([]int, len(jobs))
	for i := 0; i < len(jobs); {
		if jobs[i].parent.IsSampled() {
			reached[i] = s.deliver(ctx, jobs[i])
			i++
			continue
		}
		k := i + 1
		for k < len(jobs) && !jobs[k].parent.IsSampled() {
			k++
		}
		if k-i == 1 {
			reached[i] = s.deliver(ctx, jobs[i])
		} else {
			s.deliverMany(ctx, jobs[i:k], reached[i:k])
		}
		i = k
	}
	return reached
}

// deliverMany pushes several jobs (of unsampled traces) with one route lookup and one
// Deliver call per gateway node, whose deliveries keep the jobs' order. Each job is
// counted, and retried when it failed, on its own, as deliver does.
func (s *Service) deliverMany(parent context.Context, jobs []pushJob, reached []int) {
	ctx, cancel := context.WithTimeout(parent, s.cfg.PushTimeout)
	defer cancel()
	failed := make([]bool, len(jobs))
	defer func() {
		for i, j := range jobs {
			s.settle(j, reached[i], failed[i])
		}
	}()
	users := make([]string, 0, len(jobs))
	seen := make(map[string]bool, len(jobs))
	for _, j := range jobs {
		if !seen[j.user] {
			seen[j.user] = true
			users = append(users, j.user)
		}
	}
	found, err := s.routes.Lookup(ctx, users)
	if err != nil {
		s.log.WarnContext(ctx, "push: route lookup failed; retrying", "users", len(users), "err", err)
		for i := range failed {
			failed[i] = true
		}
		return
	}
	// Per node, the deliveries in job order, and which job each is for.
	type nodeBatch struct {
		req    gatewaygen.DeliverRequest
		jobs   []int
		routes [][]router.Route
	}
	nodes := map[string]*nodeBatch{}
	var order []string
	for i, j := range jobs {
		var op protocol.Op
		var body []byte
		for _, r := range found[j.user] {
			if r.DeviceID == j.skipDevice {
				continue
			}
			nb := nodes[r.Node]
			if nb == nil {
				nb = &nodeBatch{}
				nodes[r.Node] = nb
				order = append(order, r.Node)
			}
			if n := len(nb.jobs); n == 0 || nb.jobs[n-1] != i {
				if body == nil {
					op, body = encodePush(j)
				}
				nb.req.Deliveries = append(nb.req.Deliveries, &gatewaygen.Delivery{Op: int32(op), Body: body})
				nb.jobs = append(nb.jobs, i)
				nb.routes = append(nb.routes, nil)
			}
			last := len(nb.jobs) - 1
			nb.req.Deliveries[last].ConnIds = append(nb.req.Deliveries[last].ConnIds, r.ConnID)
			nb.routes[last] = append(nb.routes[last], r)
		}
	}
	for _, node := range order {
		nb := nodes[node]
		gone, ok := s.deliverBatch(ctx, node, &nb.req)
		for k, i := range nb.jobs {
			if !ok {
				failed[i] = true
				continue
			}
			for _, r := range nb.routes[k] {
				if !gone[r.ConnID] {
					reached[i]++
				}
			}
		}
		if ok {
			s.removeGone(ctx, gone, nb.routes...)
		}
	}
}

// deliverBatch makes one Deliver call to node; gone are the connections it no longer has
// (or dropped as too slow), ok false when the node could not be called.
func (s *Service) deliverBatch(ctx context.Context, node string, req *gatewaygen.DeliverRequest) (gone map[string]bool, ok bool) {
	gw, err := s.gws.Gateway(node)
	if err != nil {
		s.log.WarnContext(ctx, "push: unknown gateway node", "node", node, "err", err)
		return nil, false
	}
	resp, err := gw.Deliver(ctx, req)
	if err != nil {
		s.log.WarnContext(ctx, "push: gateway unreachable; retrying", "node", node, "err", err)
		return nil, false
	}
	gone = map[string]bool{}
	for _, c := range resp.Missing {
		gone[c] = true
	}
	for _, c := range resp.Dropped {
		gone[c] = true
	}
	return gone, true
}

// removeGone removes the routes of connections their node no longer has: stale routes
// go now rather than when they expire (compare-and-delete keeps a newer connection safe).
func (s *Service) removeGone(ctx context.Context, gone map[string]bool, routes ...[]router.Route) {
	if len(gone) == 0 {
		return
	}
	for _, rs := range routes {
		for _, r := range rs {
			if gone[r.ConnID] {
				if _, err := s.routes.Remove(ctx, r); err != nil {
					s.log.WarnContext(ctx, "push: remove stale route", "user", r.UserID, "err", err)
				}
			}
		}
	}
}

// deliverNode pushes to the connections of one gateway node; ok is false when the node
// could not be called.
func (s *Service) deliverNode(ctx context.Context, node string, routes []router.Route, op protocol.Op, body []byte) (reached int, ok bool) {
	conns := make([]string, len(routes))
	for i, r := range routes {
		conns[i] = r.ConnID
	}
	gone, ok := s.deliverBatch(ctx, node, &gatewaygen.DeliverRequest{Deliveries: []*gatewaygen.Delivery{{ConnIds: conns, Op: int32(op), Body: body}}})
	if !ok {
		return 0, false
	}
	s.removeGone(ctx, gone, routes)
	for _, r := range routes {
		if !gone[r.ConnID] {
			reached++
		}
	}
	return reached, true
}

func encodePush(j pushJob) (protocol.Op, []byte) {
	if j.receipt != nil {
		return protocol.OpReadReceipt, protocol.EncodeBody(&frame.ReadReceipt{ConvId: j.receipt.conv, Reader: j.receipt.reader, ConvSeq: j.receipt.seq})
	}
	return protocol.OpPush, protocol.EncodeBody(&frame.Push{Messages: []*common.Message{j.msg}})
}
