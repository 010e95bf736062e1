package gateway

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/panjf2000/gnet/v2"

	"github.com/bangbang-im/bangbang/core-im/protocol"
	"github.com/bangbang-im/bangbang/gen/frame"
)

// The "eventloop" IO model: gnet's event loops (one per CPU) read every connection. An idle
// connection holds no goroutine and no buffer: the loop reads into its own buffer and keeps
// only a frame's unread tail, and a write goes out at once, buffered only when the socket
// is full. A connection's whole frames are copied out of the loop to an inbox, and a
// goroutine that lives while the inbox has frames handles them in order (handling calls
// logic: it must never block a loop). A full inbox stops the loop parsing that connection
// until the goroutine catches up.

const (
	// inboxFrames and inboxBytes bound the read frames a connection may have waiting for
	// its handler: past either, the loop stops parsing its input.
	inboxFrames = 64
	inboxBytes  = 256 << 10
	// maxUnparsed bounds the input a connection may have waiting, unparsed, while its
	// inbox is full (the loop reads the socket whatever the inbox holds): a client sending
	// on regardless is closed as a flood.
	maxUnparsed = 1 << 20
	// maxOutbound bounds the bytes waiting in the loop for a slow reader's socket: past it
	// a write waits for them to drain, as a blocking socket write would, so the session's
	// send queue fills and a slow consumer is dropped as on the other transports.
	maxOutbound = 64 << 10
)

type eventLoopListener struct {
	gnet.BuiltinEventEngine
	g       *Gateway
	writers sync.Map // gnet.EventLoop → *loopWriter
	eng     gnet.Engine
	laddr   net.Addr
	booted  chan struct{}
	done    chan struct{} // closed when gnet.Run has returned
	err     error         // gnet.Run's error, once done
}

func (g *Gateway) listenEventLoop(addr string) (listener, error) {
	l := &eventLoopListener{g: g, booted: make(chan struct{}), done: make(chan struct{})}
	g.wg.Add(1)
	go func() {
		defer g.wg.Done()
		defer close(l.done)
		l.err = gnet.Run(l, "tcp://"+addr,
			gnet.WithMulticore(true),
			gnet.WithReuseAddr(true),
			gnet.WithTCPNoDelay(gnet.TCPNoDelay),
			gnet.WithLogger(gnetLogger{g}),
		)
	}()
	select {
	case <-l.booted:
	case <-l.done:
		return nil, fmt.Errorf("event loop listen %s: %w", addr, l.err)
	}
	fd, err := l.eng.Dup()
	if err != nil {
		_ = l.stop(context.Background())
		return nil, fmt.Errorf("event loop listen %s: %w", addr, err)
	}
	f := os.NewFile(uintptr(fd), "listener")
	ln, err := net.FileListener(f)
	_ = f.Close()
	if err != nil {
		_ = l.stop(context.Background())
		return nil, fmt.Errorf("event loop listen %s: %w", addr, err)
	}
	l.laddr = ln.Addr()
	_ = ln.Close()
	return l, nil
}

func (l *eventLoopListener) addr() net.Addr { return l.laddr }

func (l *eventLoopListener) stop(ctx context.Context) error {
	if err := l.eng.Stop(ctx); err != nil && !errors.Is(err, context.Canceled) {
		select {
		case <-l.done:
			return nil
		default:
			return err
		}
	}
	select {
	case <-l.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// writer returns el's loop writer, made on first use.
func (l *eventLoopListener) writer(el gnet.EventLoop) *loopWriter {
	if w, ok := l.writers.Load(el); ok {
		return w.(*loopWriter)
	}
	w, _ := l.writers.LoadOrStore(el, &loopWriter{el: el})
	return w.(*loopWriter)
}

func (l *eventLoopListener) OnBoot(eng gnet.Engine) gnet.Action {
	l.eng = eng
	close(l.booted)
	return gnet.None
}

// loopConn is one connection of the event loops as a session transport, and its inbox.
type loopConn struct {
	c       gnet.Conn
	s       *session
	release func()        // gives the client address's slot back
	gone    chan struct{} // closed when the loop has closed the connection
	w       *loopWriter   // its loop's

	queued   atomic.Int64 // bytes handed to the loop, not written yet
	buffered atomic.Int64 // bytes the socket did not take, waiting in the loop (last report)

	mu      sync.Mutex
	inbox   []protocol.Frame // whole frames, bodies copied out of the loop
	inboxN  int              // the inbox's body bytes
	working bool             // a goroutine is handling the inbox
	paused  bool             // the loop stopped parsing: the inbox was full
	bad     *protocol.Error  // the input could not be parsed past the inbox: told after it
	stopped bool             // no more input is parsed (bad input, or the session closing)
}

func (l *eventLoopListener) OnOpen(c gnet.Conn) ([]byte, gnet.Action) {
	release, ok := l.g.addrs.acquire(c.RemoteAddr())
	if !ok {
		return nil, gnet.Close
	}
	lc := &loopConn{c: c, release: release, gone: make(chan struct{}), w: l.writer(c.EventLoop())}
	lc.s = l.g.newSession(lc)
	c.SetContext(lc)
	return nil, gnet.None
}

func (l *eventLoopListener) OnClose(c gnet.Conn, _ error) gnet.Action {
	if lc, ok := c.Context().(*loopConn); ok {
		close(lc.gone)
		lc.s.shutdown("connection closed")
		lc.release()
	}
	return gnet.None
}

// OnTraffic moves every whole frame of c's input to its inbox, without blocking: it runs
// on an event loop.
func (l *eventLoopListener) OnTraffic(c gnet.Conn) gnet.Action {
	lc, ok := c.Context().(*loopConn)
	if !ok {
		_, _ = c.Discard(c.InboundBuffered())
		return gnet.Close
	}
	lc.mu.Lock()
	defer lc.mu.Unlock()
	for c.InboundBuffered() > 0 {
		if lc.stopped {
			_, _ = c.Discard(c.InboundBuffered())
			return gnet.None
		}
		if len(lc.inbox) >= inboxFrames || lc.inboxN >= inboxBytes {
			lc.paused = true
			if c.InboundBuffered() > maxUnparsed {
				// Sending on while nothing is read: a flood, closed as one (ERROR
				// RATE_LIMITED [0], then close), as the rate limit closes one.
				lc.stopped = true
				_, _ = c.Discard(c.InboundBuffered())
				lc.s.flood(&frame.Error{RetryAfterMs: int32(time.Second / time.Millisecond)})
			}
			break
		}
		f, n, err := peekFrame(c, c.InboundBuffered(), l.g.cfg.MaxBody, false)
		if err != nil {
			var pe *protocol.Error
			if errors.As(err, &pe) {
				lc.bad, lc.stopped = pe, true
				_, _ = c.Discard(c.InboundBuffered())
				break
			}
			return gnet.Close
		}
		if n == 0 {
			break // a partial frame: the rest comes with the next read
		}
		f.Body = append([]byte(nil), f.Body...) // the loop's buffer is reused once discarded
		_, _ = c.Discard(n)
		lc.inbox = append(lc.inbox, f)
		lc.inboxN += len(f.Body)
	}
	if (len(lc.inbox) > 0 || lc.bad != nil) && !lc.working {
		lc.working = true
		go lc.work()
	}
	return gnet.None
}

// work handles the inbox in order until it is empty, then ends; a loop that stopped
// parsing for a full inbox is woken to go on.
func (lc *loopConn) work() {
	s := lc.s
	defer func() {
		if p := recover(); p != nil {
			s.g.log.Error("panic serving connection", append(s.attrs(), "panic", p)...)
			lc.stop()
			s.shutdown("panic")
		}
	}()
	for {
		lc.mu.Lock()
		frames, bad := lc.inbox, lc.bad
		lc.inbox, lc.inboxN = nil, 0
		if len(frames) == 0 {
			lc.bad = nil
			lc.working = false
			wake := lc.paused && !lc.stopped
			lc.paused = false
			lc.mu.Unlock()
			if bad != nil && s.open() {
				s.protocolError(bad)
			}
			if wake {
				_ = lc.c.Wake(nil)
			}
			return
		}
		lc.mu.Unlock()
		for i := range frames {
			if !s.open() || !s.handle(&frames[i]) {
				lc.stop()
				break
			}
		}
	}
}

// stop ends handling: frames read and not handled yet, and the input after them, are
// dropped.
func (lc *loopConn) stop() {
	lc.mu.Lock()
	lc.stopped, lc.inbox, lc.inboxN, lc.bad = true, nil, 0, nil
	lc.mu.Unlock()
}

// writeFrames queues the frames on the connection's loop writer, which writes them on the
// loop, in order, and returns without waiting (the frames are never touched again once
// queued; a later close is queued behind them). Bytes the socket did not take wait in the
// loop; while more than maxOutbound are queued or waiting, a write waits for them to drain,
// up to writeTimeout, as a blocking socket write would, so the session's send queue fills
// and a slow consumer is dropped as on the other transports. A write the loop fails closes
// the connection there (OnClose).
func (lc *loopConn) writeFrames(frames [][]byte) error {
	if lc.backlog() > maxOutbound {
		if err := lc.drain(); err != nil {
			return err
		}
	}
	n := 0
	for _, f := range frames {
		n += len(f)
	}
	lc.queued.Add(int64(n))
	// The loop trims the slice's entries as the socket takes them: it gets its own copy,
	// the caller keeps reading its frames.
	if err := lc.w.add(loopWrite{lc: lc, frames: slices.Clone(frames), n: n}); err != nil {
		lc.queued.Add(-int64(n))
		return err
	}
	return nil
}

// loopWriter batches the writes of one event loop's connections: one task on the loop
// writes whatever every connection of the loop queued since the last, so a push to
// thousands of connections costs each loop one wake-up, not one per connection.
type loopWriter struct {
	el gnet.EventLoop

	mu        sync.Mutex
	pending   []loopWrite
	spare     []loopWrite // the last run's batch, emptied: the next pending, so add does not regrow one per run
	scheduled bool

	slot map[*loopConn]int // Run's scratch (on the loop only): a connection's entry in the merged batch
}

// maxIovecs bounds the frames of one writev: Linux refuses more than 1,024 (IOV_MAX), and
// gnet hands the slice to the system call as it is.
const maxIovecs = 1024

// maxSpare bounds the batch a loop writer keeps for reuse: a burst to many connections
// does not pin its whole batch for the life of the loop.
const maxSpare = 4096

type loopWrite struct {
	lc     *loopConn
	frames [][]byte
	n      int
}

// add queues w and makes sure a task will write it.
func (lw *loopWriter) add(w loopWrite) error {
	lw.mu.Lock()
	lw.pending = append(lw.pending, w)
	schedule := !lw.scheduled
	lw.scheduled = true
	lw.mu.Unlock()
	if !schedule {
		return nil
	}
	if err := lw.el.Execute(context.Background(), lw); err != nil {
		lw.mu.Lock()
		lw.pending, lw.scheduled = nil, false
		lw.mu.Unlock()
		return err
	}
	return nil
}

// Run writes what is queued, on the loop (where a connection's synchronous Writev is
// allowed). A connection the loop closed meanwhile is skipped.
func (lw *loopWriter) Run(context.Context) error {
	lw.mu.Lock()
	batch := lw.pending
	lw.pending, lw.spare, lw.scheduled = lw.spare, nil, false
	lw.mu.Unlock()
	defer func() {
		clear(batch) // the frames are the connections' no longer
		lw.mu.Lock()
		if cap(batch) <= maxSpare {
			lw.spare = batch[:0]
		}
		lw.mu.Unlock()
	}()
	for _, w := range lw.merge(batch) {
		lc := w.lc
		select {
		case <-lc.gone:
		default:
			for frames := w.frames; len(frames) > 0; {
				n := min(len(frames), maxIovecs)
				if _, err := lc.c.Writev(frames[:n]); err != nil {
					break // the loop closes the connection (OnClose)
				}
				frames = frames[n:]
			}
			lc.buffered.Store(int64(lc.c.OutboundBuffered()))
		}
		lc.queued.Add(-int64(w.n))
	}
	return nil
}

// merge gives each connection of the batch one entry holding, in order, every frame it
// was queued since the last run: pushes arriving faster than the loop writes then cost
// a connection one writev per run, not one per push. The batch is compacted in place.
func (lw *loopWriter) merge(batch []loopWrite) []loopWrite {
	if len(batch) < 2 {
		return batch
	}
	if lw.slot == nil {
		lw.slot = make(map[*loopConn]int)
	}
	out := batch[:0]
	for _, w := range batch {
		if i, ok := lw.slot[w.lc]; ok {
			out[i].frames = append(out[i].frames, w.frames...)
			out[i].n += w.n
			continue
		}
		lw.slot[w.lc] = len(out)
		out = append(out, w)
	}
	clear(lw.slot)
	return out
}

// backlog is what the loop has yet to write: bytes handed to it and bytes the socket did
// not take, as last reported.
func (lc *loopConn) backlog() int64 { return lc.queued.Load() + lc.buffered.Load() }

// drain waits until the backlog is under maxOutbound, asking the loop again and again.
func (lc *loopConn) drain() error {
	deadline := time.NewTimer(writeTimeout)
	defer deadline.Stop()
	wait := time.Millisecond
	for lc.backlog() > maxOutbound {
		select {
		case <-time.After(wait):
		case <-lc.gone:
			return net.ErrClosed
		case <-deadline.C:
			return fmt.Errorf("write: %d bytes not taken by the peer within %v", lc.backlog(), writeTimeout)
		}
		wait = min(2*wait, 50*time.Millisecond)
		// An empty write has the loop report how much still waits.
		err := lc.c.AsyncWrite(nil, func(c gnet.Conn, _ error) error {
			lc.buffered.Store(int64(c.OutboundBuffered()))
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

func (lc *loopConn) close() error {
	err := lc.c.Close()
	if errors.Is(err, net.ErrClosed) || errors.Is(err, syscall.EBADF) {
		return nil
	}
	return err
}

// gnetLogger sends gnet's own log lines to the gateway's logger.
type gnetLogger struct{ g *Gateway }

func (l gnetLogger) Debugf(format string, args ...any) { l.g.log.Debug(fmt.Sprintf(format, args...)) }
func (l gnetLogger) Infof(format string, args ...any)  { l.g.log.Debug(fmt.Sprintf(format, args...)) }
func (l gnetLogger) Warnf(format string, args ...any)  { l.g.log.Warn(fmt.Sprintf(format, args...)) }
func (l gnetLogger) Errorf(format string, args ...any) { l.g.log.Error(fmt.Sprintf(format, args...)) }
func (l gnetLogger) Fatalf(format string, args ...any) { l.g.log.Error(fmt.Sprintf(format, args...)) }
