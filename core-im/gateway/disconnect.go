package gateway

import (
	"context"
	"sync"
	"time"

	logicgen "github.com/bangbang-im/bangbang/gen/logic"
)

// disconnectTimeout bounds one logic.Disconnect call.
const disconnectTimeout = 5 * time.Second

// disconnector tells logic about closed connections off the path that closed them: a
// close can happen inside a Deliver call from logic, or in netpoll's callbacks, where a
// synchronous call back into logic could deadlock or stall the poller.
type disconnector struct {
	g       *Gateway
	mu      sync.Mutex
	cond    *sync.Cond
	queue   []*logicgen.RouteRef
	stopped bool
	wg      sync.WaitGroup
}

func newDisconnector(g *Gateway) *disconnector {
	d := &disconnector{g: g}
	d.cond = sync.NewCond(&d.mu)
	return d
}

func (d *disconnector) start(workers int) {
	d.wg.Add(workers)
	for range workers {
		go d.work()
	}
}

// add queues one Disconnect; it never blocks.
func (d *disconnector) add(r *logicgen.RouteRef) {
	d.mu.Lock()
	d.queue = append(d.queue, r)
	d.cond.Signal()
	d.mu.Unlock()
}

// stop lets the workers finish the queue, then waits for them, at most until ctx ends
// (the gateway's context is cancelled next, which cuts the remaining calls short).
func (d *disconnector) stop(ctx context.Context) error {
	d.mu.Lock()
	d.stopped = true
	d.cond.Broadcast()
	d.mu.Unlock()
	done := make(chan struct{})
	go func() {
		d.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		d.g.cancel()
		<-done
		return ctx.Err()
	}
}

func (d *disconnector) next() *logicgen.RouteRef {
	d.mu.Lock()
	defer d.mu.Unlock()
	for len(d.queue) == 0 {
		if d.stopped {
			return nil
		}
		d.cond.Wait()
	}
	r := d.queue[0]
	d.queue[0] = nil
	d.queue = d.queue[1:]
	if len(d.queue) == 0 {
		d.queue = nil
	}
	return r
}

func (d *disconnector) work() {
	defer d.wg.Done()
	for r := d.next(); r != nil; r = d.next() {
		ctx, cancel := context.WithTimeout(d.g.ctx, disconnectTimeout)
		_, err := d.g.logic.Disconnect(ctx, &logicgen.DisconnectRequest{Node: d.g.cfg.Node, Route: r})
		cancel()
		if err != nil {
			// The route expires by itself when no longer renewed; this only delays that.
			d.g.log.Warn("disconnect failed", "conn", r.ConnId, "user", r.UserId, "device", r.DeviceId, "err", err)
		}
	}
}
