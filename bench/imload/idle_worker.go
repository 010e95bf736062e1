package main

import (
	"context"
	"fmt"
	"net"
	"sync/atomic"
	"time"

	"github.com/bangbang-im/bangbang/core-im/protocol"
	"github.com/bangbang-im/bangbang/gen/frame"

	"github.com/bangbang-im/bangbang/bench/latency"
)

// connsPerWorker caps what one idle worker owns: the program keeps one goroutine per
// thousand connections, not one per connection, so its own footprint stays small.
const connsPerWorker = 1000

// authBatch is how many AUTH frames a worker has in flight at once: dialing and writing
// a batch before reading its answers hides the server's round trip without a goroutine
// per connection.
const authBatch = 64

// idleConn is one quiet authenticated connection; seq is its last request sequence.
type idleConn struct {
	c      net.Conn
	seq    uint32
	dialed time.Time // when the dial started, to time the login
}

// idleWorker opens, keeps alive and checks a contiguous range of connections. It alone
// touches them, so they need no lock.
type idleWorker struct {
	first, n  int
	dial      func(ctx context.Context, i int) (net.Conn, error)
	token     func(i int) string
	device    func(i int) string
	timeout   time.Duration
	opened    *atomic.Int64 // progress, shared with the controller
	conns     []idleConn
	buf       []byte
	heartbeat time.Duration     // from AUTH_OK: how often the server wants a frame
	authTime  latency.Histogram // dial start to AUTH_OK, per connection
}

type openReport struct {
	ok, failed int
	err        error              // the first failure
	authTime   *latency.Histogram // read once the report is received
}

// run opens the connections, reports, then keeps them until stop (or ctx) ends, sending
// the heartbeats the server asks for and checking liveness each time check is closed.
func (w *idleWorker) run(ctx context.Context, opened chan<- openReport, check <-chan struct{}, alive chan<- int, stop <-chan struct{}) {
	defer w.closeAll()
	r := w.open(ctx)
	r.authTime = &w.authTime
	opened <- r
	var tick <-chan time.Time
	if w.heartbeat > 0 {
		t := time.NewTicker(w.heartbeat)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case <-stop:
			return
		case <-ctx.Done():
			return
		case <-check:
			alive <- w.verify()
			check = nil
		case <-tick:
			w.ping()
		}
	}
}

func (w *idleWorker) open(ctx context.Context) openReport {
	var r openReport
	fail := func(err error) {
		r.failed++
		if r.err == nil {
			r.err = err
		}
	}
	pending := make([]idleConn, 0, authBatch)
	for start := w.first; start < w.first+w.n; start += authBatch {
		if ctx.Err() != nil {
			fail(ctx.Err())
			break
		}
		pending = pending[:0]
		for i := start; i < min(start+authBatch, w.first+w.n); i++ {
			dialed := time.Now()
			c, err := w.dial(ctx, i)
			if err != nil {
				fail(fmt.Errorf("conn %d: %w", i, err))
				continue
			}
			w.buf = appendAuth(w.buf[:0], 1, w.token(i), w.device(i))
			if _, err := c.Write(w.buf); err != nil {
				c.Close()
				fail(fmt.Errorf("conn %d: write AUTH: %w", i, err))
				continue
			}
			pending = append(pending, idleConn{c: c, seq: 1, dialed: dialed})
		}
		for _, ic := range pending {
			if err := w.awaitAuth(ic.c); err != nil {
				ic.c.Close()
				fail(err)
				continue
			}
			w.authTime.Record(time.Since(ic.dialed))
			w.conns = append(w.conns, ic)
			r.ok++
			w.opened.Add(1)
		}
	}
	return r
}

func (w *idleWorker) awaitAuth(c net.Conn) error {
	if err := c.SetReadDeadline(time.Now().Add(w.timeout)); err != nil {
		return err
	}
	f, buf, err := readExact(c, w.buf)
	w.buf = buf
	if err != nil {
		return fmt.Errorf("auth: %w", err)
	}
	ok, err := authReply(&f)
	if err != nil {
		return err
	}
	if w.heartbeat == 0 && ok.HeartbeatIntervalMs > 0 {
		w.heartbeat = time.Duration(ok.HeartbeatIntervalMs) * time.Millisecond
	}
	return c.SetReadDeadline(time.Time{})
}

// ping sends each connection a HEARTBEAT, so the server does not sweep it as dead. The
// answers are left unread until verify: a few bytes each in the socket buffer.
func (w *idleWorker) ping() {
	for i := range w.conns {
		ic := &w.conns[i]
		if ic.c == nil {
			continue
		}
		ic.seq++
		w.buf = protocol.AppendMessage(w.buf[:0], protocol.OpHeartbeat, ic.seq, nil, &frame.Heartbeat{ClientTimeMs: time.Now().UnixMilli()})
		if _, err := ic.c.Write(w.buf); err != nil {
			ic.c.Close()
			ic.c = nil
		}
	}
}

// verify proves each connection is still open and authenticated: it sends a HEARTBEAT and
// reads up to its HEARTBEAT_ACK. Anything else (KICK, ERROR, EOF) counts the connection
// dead and closes it.
func (w *idleWorker) verify() int {
	w.ping()
	alive := 0
	for i := range w.conns {
		ic := &w.conns[i]
		if ic.c == nil {
			continue
		}
		if err := w.awaitHeartbeat(ic); err != nil {
			ic.c.Close()
			ic.c = nil
			continue
		}
		alive++
	}
	return alive
}

func (w *idleWorker) awaitHeartbeat(ic *idleConn) error {
	if err := ic.c.SetReadDeadline(time.Now().Add(w.timeout)); err != nil {
		return err
	}
	for {
		f, buf, err := readExact(ic.c, w.buf)
		w.buf = buf
		if err != nil {
			return err
		}
		switch {
		case f.Op == protocol.OpHeartbeatAck && f.Seq == ic.seq:
			return ic.c.SetReadDeadline(time.Time{})
		case f.Op == protocol.OpHeartbeatAck:
			// An answer to an earlier ping: keep reading.
		case f.Op == protocol.OpError:
			return serverError(&f)
		case f.Op == protocol.OpKick:
			return kicked(&f)
		default:
			return fmt.Errorf("verify: got %s: %w", f.Op, ErrUnexpectedFrame)
		}
	}
}

func (w *idleWorker) closeAll() {
	for _, ic := range w.conns {
		if ic.c != nil {
			ic.c.Close()
		}
	}
	w.conns = nil
}
