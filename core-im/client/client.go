package client

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/bangbang-im/bangbang/gen/common"
)

// ownQueue bounds acked own sends waiting for the delivery goroutine; past it they are
// dropped and come back with the next sync, like any missed push.
const ownQueue = 256

// eventBuffer is small on purpose: events are advisory and dropped when nobody reads them.
const eventBuffer = 64

// Client is one device's session with the IM core. Build it with Dial.
type Client struct {
	cfg    Config
	log    *slog.Logger
	userID string // fixed by the first AUTH_OK

	// The gateways, and where the next connection attempt starts; only Dial, then the
	// supervisor, touch at.
	addrs []string
	at    int

	msgs     chan Message
	own      chan *common.Message // this device's own sends, acked: they join the inbox order
	receipts chan Receipt
	events   chan Event

	lastSeq   atomic.Int64 // highest inbox seq handed to the app (or the resume point)
	ackTarget atomic.Int64 // highest seq this device wants the server to record as delivered

	// ctx is the client's lifetime: cancelled by Close or when the client stops on its own.
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{} // closed once every goroutine has stopped and the channels are closed
	wg     sync.WaitGroup

	mu      sync.Mutex
	cur     *conn         // the authenticated connection, nil between connections
	term    error         // set once the client has stopped for good
	changed chan struct{} // closed and replaced whenever cur or term changes
}

// Dial connects and authenticates once, returning the first failure (an *Error when the
// server refused AUTH). From then on the client keeps itself connected in the background
// until Close, or until the server kicks the device off for good.
func Dial(ctx context.Context, cfg Config) (*Client, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("client: %w", err)
	}
	c := &Client{
		cfg:      cfg,
		addrs:    cfg.addrs(),
		log:      cfg.Logger,
		msgs:     make(chan Message, cfg.Buffer),
		own:      make(chan *common.Message, ownQueue),
		receipts: make(chan Receipt, cfg.Buffer),
		events:   make(chan Event, eventBuffer),
		done:     make(chan struct{}),
		changed:  make(chan struct{}),
	}
	cn, err := c.connect(ctx)
	if err != nil {
		return nil, fmt.Errorf("client: connect: %w", err)
	}
	c.userID = cn.auth.UserId
	resume := cfg.LastSeq
	if resume == 0 {
		resume = cn.auth.AckedSeq
	}
	// max_seq is the truth: a resume point past it (an ack the server once stored past
	// its inbox, a record from another server's data) would drop every message to come.
	resume = min(resume, cn.auth.MaxSeq)
	c.lastSeq.Store(resume)
	if cfg.AckMode == AckAuto {
		// What the app already holds counts as delivered, even if that ack was lost.
		c.ackTarget.Store(resume)
	}
	// The client outlives Dial's deadline but keeps its values (loggers, trace baggage).
	c.ctx, c.cancel = context.WithCancel(context.WithoutCancel(ctx))
	c.wg.Add(1)
	go c.deliverLoop()
	go c.run(cn)
	return c, nil
}

// UserID is the user the token authenticated.
func (c *Client) UserID() string { return c.userID }

// Messages delivers each inbox message exactly once, in seq order, across reconnects. It is
// closed when the client stops.
func (c *Client) Messages() <-chan Message { return c.msgs }

// Receipts delivers READ_RECEIPT pushes; they are dropped when the channel is full.
func (c *Client) Receipts() <-chan Receipt { return c.receipts }

// Events reports connection state changes; they are dropped when the channel is full.
func (c *Client) Events() <-chan Event { return c.events }

// LastSeq is the highest inbox seq put into the Messages channel (or the resume point when
// none was): pass it back as Config.LastSeq to resume there. While the channel holds
// messages the app has not processed, LastSeq is ahead of the app; an app that persists its
// resume point as it goes should store the Seq of the last message it has processed, and
// LastSeq is exact once the client has stopped.
func (c *Client) LastSeq() int64 { return c.lastSeq.Load() }

// Close stops every goroutine the client started, closes the connection and then the
// channels. Calls in flight fail with ErrClosed. It is safe to call more than once.
func (c *Client) Close() error {
	c.cancel()
	<-c.done
	return nil
}

// Done is closed once the client has stopped, after Close or a final kick.
func (c *Client) Done() <-chan struct{} { return c.done }

// Err is why the client stopped (ErrClosed, or an error wrapping ErrKicked); nil while it runs.
func (c *Client) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.term
}

// finish runs when the supervisor returns: it fails waiters, stops the delivery goroutine,
// and closes the channels once nothing can send on them any more.
func (c *Client) finish(reason error) {
	c.setState(nil, reason)
	c.cancel()
	c.wg.Wait()
	close(c.msgs)
	close(c.receipts)
	close(c.events)
	close(c.done)
}

func (c *Client) setState(cn *conn, term error) {
	c.mu.Lock()
	c.cur = cn
	if term != nil && c.term == nil {
		c.term = term
	}
	close(c.changed)
	c.changed = make(chan struct{})
	c.mu.Unlock()
}

// current waits for a live connection, failing when ctx ends or the client has stopped.
func (c *Client) current(ctx context.Context) (*conn, error) {
	return c.next(ctx, nil)
}

// next is current, but skipping the connection not: the delivery goroutine uses it to
// start over on each new connection.
func (c *Client) next(ctx context.Context, not *conn) (*conn, error) {
	for {
		c.mu.Lock()
		cn, term, changed := c.cur, c.term, c.changed
		c.mu.Unlock()
		if term != nil {
			return nil, term
		}
		if cn != nil && cn != not && !cn.dead() {
			return cn, nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// peek is the live connection, if any, without waiting.
func (c *Client) peek() *conn {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cur == nil || c.cur.dead() {
		return nil
	}
	return c.cur
}

func (c *Client) emit(ev Event) {
	select {
	case c.events <- ev:
	default:
		c.log.Debug("event dropped: channel full", "event", ev.Kind)
	}
}

// receipt is called by connection readers, which must never block on the app.
func (c *Client) receipt(r Receipt) {
	select {
	case c.receipts <- r:
	default:
		c.log.Warn("read receipt dropped: channel full", "conv", r.ConvID, "reader", r.Reader)
	}
}
