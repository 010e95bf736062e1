package client

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bangbang-im/bangbang/core-im/protocol"
	"github.com/bangbang-im/bangbang/gen/common"
	"github.com/bangbang-im/bangbang/gen/frame"
)

const (
	// maxInboundBody bounds a frame from the server. SYNC_RESP and PUSH carry many messages,
	// so it is well above the protocol's default request limit; the Reader only grows its
	// buffer as far as the frames actually received need.
	maxInboundBody = 4 << 20
	// outQueue bounds frames waiting for the writer; pushQueue bounds PUSH frames waiting for
	// the delivery goroutine. A full push queue drops the push and asks for a sync instead:
	// the server has stored the messages, and the reader must never stall behind the app.
	outQueue  = 128
	pushQueue = 256
	// maxWriteBatch caps how many bytes the writer gathers into one write.
	maxWriteBatch = 64 << 10
)

// response is a server answer to one request, its body copied out of the reader's buffer.
type response struct {
	op   protocol.Op
	body []byte
}

// conn is one authenticated connection. Its reader and writer goroutines are started by
// start and end once close has been called (by anyone) and the socket is shut.
type conn struct {
	nc      net.Conn
	rd      *protocol.Reader
	auth    *frame.AuthResponse
	log     *slog.Logger
	timeout time.Duration // write deadline
	receipt func(Receipt) // must not block
	trace   func(context.Context) *protocol.TraceContext

	seq       atomic.Uint32
	lastRead  atomic.Int64 // unix nanoseconds of the last frame read
	lost      atomic.Bool  // a push was dropped: the delivery goroutine must sync
	out       chan []byte
	pushes    chan []*common.Message
	wake      chan struct{}         // signals lost; capacity 1
	reconnect chan *frame.Reconnect // capacity 1
	done      chan struct{}         // closed by close
	wg        sync.WaitGroup

	mu      sync.Mutex
	pending map[uint32]chan response
	err     error       // why the connection ended, set once
	kick    *frame.Kick // the KICK received, if any
}

func newConn(nc net.Conn, rd *protocol.Reader, auth *frame.AuthResponse, cfg *Config, receipt func(Receipt)) *conn {
	c := &conn{
		nc:        nc,
		rd:        rd,
		auth:      auth,
		log:       cfg.Logger.With("session", auth.SessionId),
		timeout:   cfg.RequestTimeout,
		receipt:   receipt,
		trace:     cfg.Trace,
		out:       make(chan []byte, outQueue),
		pushes:    make(chan []*common.Message, pushQueue),
		wake:      make(chan struct{}, 1),
		reconnect: make(chan *frame.Reconnect, 1),
		done:      make(chan struct{}),
		pending:   make(map[uint32]chan response),
	}
	c.seq.Store(authSeq)
	c.lastRead.Store(time.Now().UnixNano())
	return c
}

func (c *conn) start() {
	c.wg.Add(2)
	go c.readLoop()
	go c.writeLoop()
}

// wait returns once the reader and writer have stopped; call close first.
func (c *conn) wait() { c.wg.Wait() }

// close ends the connection for reason; only the first reason is kept. Waiters on pending
// requests see done and fail with ErrConnLost.
func (c *conn) close(reason error) {
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		return
	}
	c.err = reason
	c.pending = nil
	close(c.done)
	c.mu.Unlock()
	_ = c.nc.Close()
}

func (c *conn) dead() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// cause is why the connection ended, nil while it lives.
func (c *conn) cause() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

func (c *conn) kicked() *frame.Kick {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.kick
}

func (c *conn) lostErr() error {
	return fmt.Errorf("%w: %w", ErrConnLost, c.cause())
}

// nextSeq skips 0, which marks server pushes, when the counter wraps.
func (c *conn) nextSeq() uint32 {
	for {
		if s := c.seq.Add(1); s != 0 {
			return s
		}
	}
}

func (c *conn) frame(ctx context.Context, op protocol.Op, seq uint32, body protocol.Body) []byte {
	var tc *protocol.TraceContext
	if c.trace != nil {
		tc = c.trace(ctx)
	}
	return protocol.AppendMessage(nil, op, seq, tc, body)
}

// enqueue hands b to the writer, waiting while the queue is full.
func (c *conn) enqueue(ctx context.Context, b []byte) error {
	select {
	case c.out <- b:
		return nil
	case <-c.done:
		return c.lostErr()
	case <-ctx.Done():
		return ctx.Err()
	}
}

// notify sends a frame that has no response (DELIVER_ACK, HEARTBEAT).
func (c *conn) notify(ctx context.Context, op protocol.Op, body protocol.Body) error {
	return c.enqueue(ctx, c.frame(ctx, op, c.nextSeq(), body))
}

// tryNotify is notify without waiting: a heartbeat behind a full queue is not needed.
func (c *conn) tryNotify(ctx context.Context, op protocol.Op, body protocol.Body) bool {
	select {
	case c.out <- c.frame(ctx, op, c.nextSeq(), body):
		return true
	default:
		return false
	}
}

// request sends body and decodes the matching response into out. An ERROR answer is an
// *Error; a dropped connection is ErrConnLost.
func (c *conn) request(ctx context.Context, op protocol.Op, body protocol.Body, want protocol.Op, out protocol.Body) error {
	seq := c.nextSeq()
	ch := make(chan response, 1)
	c.mu.Lock()
	if c.pending == nil {
		c.mu.Unlock()
		return c.lostErr()
	}
	c.pending[seq] = ch
	c.mu.Unlock()
	defer c.forget(seq)

	if err := c.enqueue(ctx, c.frame(ctx, op, seq, body)); err != nil {
		return err
	}
	select {
	case r := <-ch:
		return decodeResponse(r, want, out)
	case <-c.done:
		// The response may have been routed just before the connection ended.
		select {
		case r := <-ch:
			return decodeResponse(r, want, out)
		default:
			return c.lostErr()
		}
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (c *conn) forget(seq uint32) {
	c.mu.Lock()
	delete(c.pending, seq)
	c.mu.Unlock()
}

// respond routes a response to its waiter; responses nobody waits for (heartbeats, requests
// that timed out) are dropped.
func (c *conn) respond(seq uint32, r response) {
	c.mu.Lock()
	ch := c.pending[seq]
	delete(c.pending, seq)
	c.mu.Unlock()
	if ch == nil {
		if r.op == protocol.OpError {
			// An ERROR for a frame without a response (DELIVER_ACK, HEARTBEAT) or one whose
			// caller gave up: worth seeing, nothing to fail.
			var e frame.Error
			_ = protocol.DecodeBody(r.body, &e)
			c.log.Warn("server error without a waiter", "seq", seq, "err", errorFromFrame(&e))
			return
		}
		c.log.Debug("response without a waiter", "op", r.op, "seq", seq)
		return
	}
	ch <- r // capacity 1 and routed once
}

func decodeResponse(r response, want protocol.Op, out protocol.Body) error {
	switch r.op {
	case want:
		if err := protocol.DecodeBody(r.body, out); err != nil {
			return fmt.Errorf("decode %s: %w", want, err)
		}
		return nil
	case protocol.OpError:
		var e frame.Error
		if err := protocol.DecodeBody(r.body, &e); err != nil {
			return fmt.Errorf("decode ERROR: %w", err)
		}
		return errorFromFrame(&e)
	}
	return fmt.Errorf("answer %s instead of %s: %w", r.op, want, protocol.ErrBadRequest)
}
