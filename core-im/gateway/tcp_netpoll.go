package gateway

import (
	"context"
	"errors"
	"net"
	"sync"
	"time"

	"github.com/cloudwego/netpoll"

	"github.com/bangbang-im/bangbang/core-im/protocol"
)

// The "netpoll" IO model: an idle connection has no goroutine. netpoll's poller reads
// whatever arrives into the connection's buffer and runs onRequest on a pooled goroutine,
// which handles every whole frame and returns. Only a connection in the middle of a frame
// keeps that goroutine, waiting for the rest (bounded by the sweeper's deadlines).

type sessionKey struct{}

type netpollListener struct {
	g      *Gateway
	ln     netpoll.Listener
	evl    netpoll.EventLoop
	served chan struct{} // closed when Serve has returned
}

func (g *Gateway) listenNetpoll(addr string) (listener, error) {
	ln, err := netpoll.CreateListener("tcp", addr)
	if err != nil {
		return nil, err
	}
	l := &netpollListener{g: g, ln: ln, served: make(chan struct{})}
	l.evl, err = netpoll.NewEventLoop(l.onRequest,
		netpoll.WithOnConnect(l.onConnect),
		netpoll.WithReadTimeout(max(g.cfg.AuthTimeout, g.cfg.IdleTimeout)),
		netpoll.WithWriteTimeout(writeTimeout),
	)
	if err != nil {
		_ = ln.Close()
		return nil, err
	}
	g.wg.Add(1)
	go func() {
		defer g.wg.Done()
		defer close(l.served)
		if err := l.evl.Serve(ln); err != nil {
			g.log.Error("netpoll serve stopped", "err", err)
		}
	}()
	return l, nil
}

func (l *netpollListener) addr() net.Addr { return l.ln.Addr() }

// stop shuts the event loop down. netpoll's Shutdown does nothing when Serve has not
// registered its server yet, so it is repeated until Serve returns.
func (l *netpollListener) stop(ctx context.Context) error {
	t := time.NewTicker(5 * time.Millisecond)
	defer t.Stop()
	for {
		if err := l.evl.Shutdown(ctx); err != nil {
			return err
		}
		select {
		case <-l.served:
			return nil
		case <-ctx.Done():
			_ = l.ln.Close()
			return ctx.Err()
		case <-t.C:
		}
	}
}

func (l *netpollListener) onConnect(ctx context.Context, c netpoll.Connection) context.Context {
	release, ok := l.g.addrs.acquire(c.RemoteAddr())
	if !ok {
		// No session: onRequest discards anything that arrived before the close.
		_ = c.Close()
		return ctx
	}
	s := l.g.newSession(&netpollConn{c: c})
	// Runs however the connection ends: closed by us, by the peer, or by a read error.
	_ = c.AddCloseCallback(func(netpoll.Connection) error {
		s.shutdown("connection closed")
		release()
		return nil
	})
	return context.WithValue(ctx, sessionKey{}, s)
}

// onRequest handles every whole frame in the connection's input buffer. netpoll calls it
// again while input remains, and never concurrently for one connection.
func (l *netpollListener) onRequest(ctx context.Context, c netpoll.Connection) error {
	r := c.Reader()
	s, _ := ctx.Value(sessionKey{}).(*session)
	if s == nil {
		discardInput(r)
		return c.Close()
	}
	defer func() {
		if p := recover(); p != nil {
			l.g.log.Error("panic serving connection", append(s.attrs(), "panic", p)...)
			s.shutdown("panic")
		}
	}()
	for r.Len() > 0 {
		if !s.open() {
			// Closing after a last frame: drop the rest so the close is a clean FIN.
			discardInput(r)
			return nil
		}
		f, n, err := peekFrame(r, r.Len(), l.g.cfg.MaxBody, true)
		if err != nil {
			var pe *protocol.Error
			if errors.As(err, &pe) {
				s.protocolError(pe)
				discardInput(r)
				return nil
			}
			s.shutdown("read: " + err.Error())
			return nil
		}
		ok := s.handle(&f)
		_ = r.Skip(n)
		if !ok {
			discardInput(r)
			return nil
		}
	}
	return r.Release()
}

func discardInput(r netpoll.Reader) {
	_ = r.Skip(r.Len())
	_ = r.Release()
}

// netpollConn is a netpoll connection as a session transport.
type netpollConn struct {
	c    netpoll.Connection
	once sync.Once
}

// writeFrames appends the frames to netpoll's output buffer without copying (queued
// frames are never modified) and flushes them in one sendmsg.
func (c *netpollConn) writeFrames(frames [][]byte) error {
	w := c.c.Writer()
	for _, f := range frames {
		if _, err := w.WriteBinary(f); err != nil {
			return err
		}
	}
	return w.Flush()
}

func (c *netpollConn) close() error {
	var err error
	c.once.Do(func() { err = c.c.Close() })
	return err
}
