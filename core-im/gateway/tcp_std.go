package gateway

import (
	"context"
	"errors"
	"io"
	"net"
	"sync"
	"time"

	"github.com/bangbang-im/bangbang/core-im/protocol"
)

// The "goroutine" IO model: std net, one reader goroutine per connection; writes go
// through the shared flush workers like every other transport.

type stdListener struct {
	g    *Gateway
	ln   net.Listener
	quit chan struct{} // closed by stop: ends an accept backoff
	done chan struct{} // closed when the accept loop has returned
}

func (g *Gateway) listenStd(addr string) (listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	l := &stdListener{g: g, ln: ln, quit: make(chan struct{}), done: make(chan struct{})}
	g.wg.Add(1)
	go l.accept()
	return l, nil
}

func (l *stdListener) addr() net.Addr { return l.ln.Addr() }

func (l *stdListener) stop(ctx context.Context) error {
	close(l.quit)
	_ = l.ln.Close()
	select {
	case <-l.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (l *stdListener) accept() {
	defer l.g.wg.Done()
	defer close(l.done)
	var backoff time.Duration
	for {
		c, err := l.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// Out of file descriptors and the like: back off rather than spin.
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			l.g.log.Error("accept failed", "err", err, "retry_in", backoff)
			select {
			case <-time.After(backoff):
				continue
			case <-l.quit:
				return
			}
		}
		backoff = 0
		release, ok := l.g.addrs.acquire(c.RemoteAddr())
		if !ok {
			_ = c.Close()
			continue
		}
		if !l.g.track() {
			_ = c.Close()
			release()
			continue
		}
		go l.g.serveStd(c, release)
	}
}

// stdConn is a std net connection as a session transport.
type stdConn struct {
	c       net.Conn
	release func() // gives the client address's slot back
	once    sync.Once
}

func (c *stdConn) writeFrames(frames [][]byte) error {
	if err := c.c.SetWriteDeadline(time.Now().Add(writeTimeout)); err != nil {
		return err
	}
	bufs := net.Buffers(frames) // writev: one syscall for the whole batch
	_, err := bufs.WriteTo(c.c)
	return err
}

func (c *stdConn) close() error {
	var err error
	c.once.Do(func() {
		err = c.c.Close()
		c.release()
	})
	return err
}

// serveStd is a connection's reader goroutine; release gives back its address slot once
// the socket is closed.
func (g *Gateway) serveStd(nc net.Conn, release func()) {
	defer g.wg.Done()
	s := g.newSession(&stdConn{c: nc, release: release})
	defer func() {
		if r := recover(); r != nil {
			g.log.Error("panic serving connection", append(s.attrs(), "panic", r)...)
			s.shutdown("panic")
		}
	}()
	rd := newLazyReader(nc, g.cfg.MaxBody, &g.readBufs)
	defer rd.release()
	for {
		f, err := rd.next()
		if err != nil {
			var pe *protocol.Error
			if errors.As(err, &pe) {
				s.protocolError(pe)
				rd.discard()
				return
			}
			if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
				g.log.Debug("read failed", append(s.attrs(), "err", err)...)
			}
			s.shutdown("read: " + err.Error())
			return
		}
		if !s.handle(&f) {
			rd.discard()
			return
		}
	}
}
