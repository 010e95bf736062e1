package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cloudwego/kitex/client"

	"github.com/bangbang-im/bangbang/core-im/protocol"
	"github.com/bangbang-im/bangbang/gen/common"
	"github.com/bangbang-im/bangbang/gen/frame"
	gatewaygen "github.com/bangbang-im/bangbang/gen/gateway"
	"github.com/bangbang-im/bangbang/gen/gateway/gatewayservice"

	"github.com/bangbang-im/bangbang/bench/latency"
)

// pushConfig configures the push mode.
type pushConfig struct {
	target
	Conns     int
	Sources   string
	PerSource int
	Gateway   string        // the gateway's push RPC address (its --push-addr)
	Rounds    int           // frames each connection receives
	Size      int           // bytes of each PUSH's message body
	Bodies    string        // "shared": one body for all (a broadcast); "each": one per connection
	Batch     int           // connection ids per Deliver call
	Lead      int           // rounds the pushes may run ahead of what every client has read
	InFlight  int           // Deliver calls in flight
	Timeout   time.Duration // per dial, AUTH and Deliver call
	Drain     time.Duration // bound on the clients reading everything after the last call
}

// pushResult is what the push mode reports; the JSON line carries it whole.
type pushResult struct {
	Mode            string          `json:"mode"`
	Conns           int             `json:"conns"`
	Authenticated   int             `json:"authenticated"`
	Rounds          int             `json:"rounds"`
	Bodies          string          `json:"bodies"`
	Size            int             `json:"size"`
	DeliverCalls    int             `json:"deliver_calls"`
	DeliverLatency  latency.Summary `json:"deliver_call"`
	Missing         int             `json:"missing"` // connection ids the gateway did not hold
	Dropped         int             `json:"dropped"` // connections the gateway closed as slow consumers
	Expected        int64           `json:"frames_expected"`
	Received        int64           `json:"frames_received"`
	ConnErrors      int             `json:"conn_errors"`
	FirstError      string          `json:"first_error,omitempty"`
	Seconds         float64         `json:"seconds"` // first Deliver call to the last frame read
	FramesPerSec    float64         `json:"frames_per_sec"`
	ServerPID       int             `json:"server_pid"`
	ServerCPUCores  float64         `json:"server_cpu_cores"`
	ServerCPUFrame  float64         `json:"server_cpu_per_frame_us"`
	ClientCPUCores  float64         `json:"client_cpu_cores"`
	SourceAddrs     int             `json:"source_addrs"`
	OpenSeconds     float64         `json:"open_seconds"`
	ConnectsPerSec  float64         `json:"connects_per_sec"`
	HeartbeatsMiss  int             `json:"heartbeat_write_errors,omitempty"`
	UnexpectedOps   map[string]int  `json:"unexpected_ops,omitempty"`
	unexpectedMutex sync.Mutex
	deliverHist     latency.Histogram
}

// pushConn is one receiving connection: its reader alone reads it; the pinger alone
// writes to it once it is authenticated.
type pushConn struct {
	c        net.Conn
	id       string // the gateway's connection id (AUTH_OK's session_id)
	received int64
	err      error
}

// pushRun is the state the readers share with the controller.
type pushRun struct {
	cfg      pushConfig
	conns    []*pushConn
	received atomic.Int64
	progress chan struct{} // signalled each time a whole round's worth of frames is read
	finished chan struct{} // closed when every reader has its frames or has failed
	left     atomic.Int64  // readers still waiting for frames
	res      *pushResult
}

// runPush opens cfg.Conns authenticated connections, then has the gateway push cfg.Rounds
// frames to each through its Deliver RPC (what logic calls), and measures the frames/s the
// clients read. Every goroutine it starts has stopped, and every connection is closed,
// when it returns.
func runPush(ctx context.Context, cfg pushConfig, log *slog.Logger) (*pushResult, error) {
	res := &pushResult{Mode: "push", Conns: cfg.Conns, Rounds: cfg.Rounds, Bodies: cfg.Bodies, Size: cfg.Size, ServerPID: cfg.ServerPID}
	switch {
	case cfg.Conns <= 0 || cfg.Rounds <= 0 || cfg.Batch <= 0 || cfg.Lead <= 0 || cfg.InFlight <= 0:
		return res, errors.New("push: --conns, --rounds, --batch, --lead and --in-flight must be positive")
	case cfg.Gateway == "":
		return res, errors.New("push: --gateway (the gateway's push RPC address) is required")
	case cfg.Bodies != "shared" && cfg.Bodies != "each":
		return res, fmt.Errorf("push: --bodies %q: want shared or each", cfg.Bodies)
	}
	if cfg.PerSource <= 0 {
		cfg.PerSource = defaultPerIP()
	}
	if _, err := raiseNoFile(cfg.Conns); err != nil {
		return res, fmt.Errorf("push: %w", err)
	}
	merchants, _ := demoUsers(max(cfg.DemoUsers, 1))
	tokens, addr, err := cfg.tokensFor(ctx, merchants)
	if err != nil {
		return res, fmt.Errorf("push: %w", err)
	}
	plan, err := newSourcePlan(cfg.Sources, addr, cfg.PerSource)
	if err != nil {
		return res, fmt.Errorf("push: %w", err)
	}
	if cfg.Conns > plan.capacity() {
		return res, fmt.Errorf("push: %d connections, but %d source addresses × %d: %w", cfg.Conns, max(len(plan.ips), 1), plan.perIP, ErrCapacity)
	}
	res.SourceAddrs = plan.used(cfg.Conns)
	gw, err := gatewayservice.NewClient("bangbang-gateway", client.WithHostPorts(cfg.Gateway),
		client.WithRPCTimeout(cfg.Timeout), client.WithConnectTimeout(cfg.Timeout))
	if err != nil {
		return res, fmt.Errorf("push: gateway client: %w", err)
	}

	run := &pushRun{cfg: cfg, res: res, progress: make(chan struct{}, 1), finished: make(chan struct{})}
	defer run.closeAll()
	start := time.Now()
	heartbeat, err := run.open(ctx, addr, plan, func(i int) string { return tokens[merchants[i%len(merchants)]] })
	if err != nil {
		return res, err
	}
	res.Authenticated = len(run.conns)
	res.OpenSeconds = time.Since(start).Seconds()
	res.ConnectsPerSec = float64(res.Authenticated) / res.OpenSeconds
	log.Info("connections open", "authenticated", res.Authenticated, "seconds", res.OpenSeconds)

	var readers, pinger sync.WaitGroup
	stopPing := make(chan struct{})
	stop := sync.OnceFunc(func() {
		close(stopPing)
		pinger.Wait()
		run.closeAll() // ends the readers
		readers.Wait()
	})
	defer stop()
	run.left.Store(int64(len(run.conns)))
	for _, pc := range run.conns {
		readers.Go(func() { run.read(pc) })
	}
	pinger.Go(func() { run.ping(heartbeat, stopPing) })

	cpu0, t0 := sampleCPU(cfg.ServerPID), time.Now()
	callErr := run.deliver(ctx, gw)
	if callErr == nil {
		timer := time.NewTimer(cfg.Drain)
		select {
		case <-run.finished:
		case <-timer.C:
		case <-ctx.Done():
			callErr = ctx.Err()
		}
		timer.Stop()
	}
	elapsed, cpu1 := time.Since(t0), sampleCPU(cfg.ServerPID)
	stop()
	res.Received = run.received.Load()
	if callErr == nil && res.Received < res.Expected {
		callErr = fmt.Errorf("push: clients read %d of %d frames (--drain %s): %w", res.Received, res.Expected, cfg.Drain, ErrFramesLost)
	}
	res.Seconds = elapsed.Seconds()
	res.FramesPerSec = float64(res.Received) / res.Seconds
	res.ClientCPUCores = (cpu1.client - cpu0.client).Seconds() / res.Seconds
	if cfg.ServerPID > 0 {
		res.ServerCPUCores = (cpu1.server - cpu0.server).Seconds() / res.Seconds
		if res.Received > 0 {
			res.ServerCPUFrame = float64((cpu1.server - cpu0.server).Microseconds()) / float64(res.Received)
		}
	}
	res.DeliverLatency = res.deliverHist.Summary()
	for _, pc := range run.conns {
		if pc.err != nil && pc.received < int64(cfg.Rounds) {
			res.ConnErrors++
			if res.FirstError == "" {
				res.FirstError = pc.err.Error()
			}
		}
	}
	return res, callErr
}

// open dials and authenticates every connection, a few dozen at once, and returns the
// heartbeat interval the server asked for.
func (r *pushRun) open(ctx context.Context, addr string, plan sourcePlan, token func(int) string) (time.Duration, error) {
	const dialers = 32
	runID := newRunID()
	r.conns = make([]*pushConn, r.cfg.Conns)
	var heartbeat atomic.Int64
	var firstErr error
	var mu sync.Mutex
	next := atomic.Int64{}
	var wg sync.WaitGroup
	for range dialers {
		wg.Go(func() {
			buf := make([]byte, 0, 512)
			for {
				i := int(next.Add(1)) - 1
				if i >= r.cfg.Conns || ctx.Err() != nil {
					return
				}
				d := net.Dialer{Timeout: r.cfg.Timeout, LocalAddr: plan.local(i), Control: deferPortChoice}
				c, err := d.DialContext(ctx, "tcp", addr)
				var ok *frame.AuthResponse
				if err == nil {
					ok, buf, err = authenticate(c, buf, token(i), fmt.Sprintf("push-%s-%d", runID, i), r.cfg.Timeout)
					if err != nil {
						c.Close()
					}
				}
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = fmt.Errorf("push: conn %d: %w", i, err)
					}
					mu.Unlock()
					next.Store(int64(r.cfg.Conns)) // stop the others: a run with holes measures nothing
					return
				}
				heartbeat.Store(int64(ok.HeartbeatIntervalMs))
				r.conns[i] = &pushConn{c: c, id: ok.SessionId}
			}
		})
	}
	wg.Wait()
	if firstErr == nil && ctx.Err() != nil {
		firstErr = ctx.Err()
	}
	if firstErr != nil {
		return 0, firstErr
	}
	return time.Duration(heartbeat.Load()) * time.Millisecond, nil
}

// read counts the PUSH frames of one connection until it has them all or the connection
// fails; it then keeps reading (and discarding) until the connection is closed, so a late
// frame never blocks the gateway.
func (r *pushRun) read(pc *pushConn) {
	br := bufio.NewReaderSize(pc.c, 4096)
	var buf []byte
	done := false
	finish := func() {
		if !done {
			done = true
			if r.left.Add(-1) == 0 {
				close(r.finished)
			}
		}
	}
	defer finish()
	for {
		f, b, err := readExact(br, buf)
		buf = b
		if err != nil {
			if !done {
				pc.err = err
			}
			return
		}
		switch f.Op {
		case protocol.OpPush:
			pc.received++
			if n := r.received.Add(1); n%int64(r.cfg.Conns) == 0 {
				select {
				case r.progress <- struct{}{}:
				default:
				}
			}
			if pc.received == int64(r.cfg.Rounds) {
				finish()
			}
		case protocol.OpHeartbeatAck:
		case protocol.OpKick:
			pc.err = kicked(&f)
			return
		case protocol.OpError:
			pc.err = serverError(&f)
			return
		default:
			r.res.unexpectedMutex.Lock()
			if r.res.UnexpectedOps == nil {
				r.res.UnexpectedOps = map[string]int{}
			}
			r.res.UnexpectedOps[f.Op.String()]++
			r.res.unexpectedMutex.Unlock()
		}
	}
}

// ping keeps every connection alive with the heartbeats the server asks for.
func (r *pushRun) ping(every time.Duration, stop <-chan struct{}) {
	if every <= 0 {
		return
	}
	t := time.NewTicker(every)
	defer t.Stop()
	var buf []byte
	seq := uint32(1)
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		seq++
		buf = protocol.AppendMessage(buf[:0], protocol.OpHeartbeat, seq, nil, &frame.Heartbeat{ClientTimeMs: time.Now().UnixMilli()})
		for _, pc := range r.conns {
			if _, err := pc.c.Write(buf); err != nil {
				r.res.HeartbeatsMiss++
			}
		}
	}
}

// deliver makes the gateway push cfg.Rounds frames to every connection, cfg.Batch
// connections per Deliver call and cfg.InFlight calls at once. Round k starts only when
// the clients have read k-Lead rounds' worth, so the gateway's per-connection queues are
// never the bottleneck the run measures.
func (r *pushRun) deliver(ctx context.Context, gw gatewayservice.Client) error {
	cfg := r.cfg
	bodies := r.bodies()
	ids := make([]string, len(r.conns))
	for i, pc := range r.conns {
		ids[i] = pc.id
	}
	r.res.Expected = int64(cfg.Rounds) * int64(len(ids))
	sem := make(chan struct{}, cfg.InFlight)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	fail := func(err error) {
		mu.Lock()
		defer mu.Unlock()
		if firstErr == nil {
			firstErr = err
		}
	}
	failed := func() bool { mu.Lock(); defer mu.Unlock(); return firstErr != nil }
	for round := 0; round < cfg.Rounds && !failed(); round++ {
		for need := int64(round-cfg.Lead+1) * int64(len(ids)); r.received.Load() < need; {
			select {
			case <-r.progress:
			case <-r.finished:
				return fmt.Errorf("push: every connection stopped reading before round %d: %w", round, ErrFramesLost)
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		for first := 0; first < len(ids); first += cfg.Batch {
			last := min(first+cfg.Batch, len(ids))
			req := &gatewaygen.DeliverRequest{}
			if cfg.Bodies == "shared" {
				req.Deliveries = []*gatewaygen.Delivery{{ConnIds: ids[first:last], Op: int32(protocol.OpPush), Body: bodies[0]}}
			} else {
				for i := first; i < last; i++ {
					req.Deliveries = append(req.Deliveries, &gatewaygen.Delivery{ConnIds: ids[i : i+1], Op: int32(protocol.OpPush), Body: bodies[i]})
				}
			}
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				wg.Wait()
				return ctx.Err()
			}
			wg.Go(func() {
				defer func() { <-sem }()
				t := time.Now()
				resp, err := gw.Deliver(ctx, req)
				if err != nil {
					fail(fmt.Errorf("push: Deliver: %w", err))
					return
				}
				mu.Lock()
				r.res.deliverHist.Record(time.Since(t))
				r.res.DeliverCalls++
				r.res.Missing += len(resp.GetMissing())
				r.res.Dropped += len(resp.GetDropped())
				mu.Unlock()
				if n := len(resp.GetMissing()) + len(resp.GetDropped()); n > 0 {
					fail(fmt.Errorf("push: the gateway lost %d connections (missing, or dropped as slow): %w", n, ErrFramesLost))
				}
			})
		}
	}
	wg.Wait()
	return firstErr
}

// bodies encodes the PUSH bodies: one message of cfg.Size bytes, the same for everyone or
// one per connection.
func (r *pushRun) bodies() [][]byte {
	n := 1
	if r.cfg.Bodies == "each" {
		n = len(r.conns)
	}
	payload := make([]byte, r.cfg.Size)
	for i := range payload {
		payload[i] = 'a' + byte(i%26)
	}
	out := make([][]byte, n)
	for i := range out {
		out[i] = protocol.EncodeBody(&frame.Push{Messages: []*common.Message{{
			MsgId: fmt.Sprintf("push-%d", i), ConvId: "sys", FromUser: "system", ToUser: fmt.Sprintf("conn-%d", i),
			Kind: int32(common.MessageKind_SYSTEM), ContentType: "text/plain", Body: payload, SentAtMs: time.Now().UnixMilli(),
		}}})
	}
	return out
}

func (r *pushRun) closeAll() {
	for _, pc := range r.conns {
		if pc != nil {
			pc.c.Close()
		}
	}
}
