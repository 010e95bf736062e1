package gateway

import (
	"context"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// The WebSocket listener's accept side, as Hertz sees it. Hertz reads the upgrade request
// with no deadline of its own on its standard transport, so a client sending its headers a
// byte at a time (or never) would hold a goroutine and a descriptor for as long as it
// likes. wsAcceptor applies the per-address cap at accept, gives the whole upgrade request
// Config.UpgradeTimeout from the accept, and counts the connections still upgrading.

type wsAcceptor struct {
	net.Listener
	g    *Gateway
	quit chan struct{} // closed by Close: ends an accept backoff
	once sync.Once
}

func newWSAcceptor(g *Gateway, ln net.Listener) *wsAcceptor {
	return &wsAcceptor{Listener: ln, g: g, quit: make(chan struct{})}
}

// Accept returns the next connection admitted by the per-address cap, with its upgrade
// deadline set. Failures other than a closed listener are retried with a backoff: Hertz
// stops serving on any error Accept returns.
func (a *wsAcceptor) Accept() (net.Conn, error) {
	var backoff time.Duration
	for {
		c, err := a.Listener.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil, err
			}
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			a.g.log.Error("websocket accept failed", "err", err, "retry_in", backoff)
			select {
			case <-time.After(backoff):
				continue
			case <-a.quit:
				return nil, net.ErrClosed
			}
		}
		backoff = 0
		release, ok := a.g.addrs.acquire(c.RemoteAddr())
		if !ok {
			_ = c.Close()
			continue
		}
		// Hertz clears the read deadline when it hands the upgraded connection over.
		if err := c.SetReadDeadline(time.Now().Add(a.g.cfg.UpgradeTimeout)); err != nil {
			_ = c.Close()
			release()
			continue
		}
		a.g.stats.upgrading.Add(1)
		pc := &wsPendingConn{Conn: c, g: a.g, release: release}
		pc.upgrading.Store(true)
		return pc, nil
	}
}

func (a *wsAcceptor) Close() error {
	a.once.Do(func() { close(a.quit) })
	return a.Listener.Close()
}

// wsPendingConn is an accepted WebSocket connection: upgrading until its session starts.
type wsPendingConn struct {
	net.Conn
	g         *Gateway
	release   func() // gives the client address's slot back
	upgrading atomic.Bool
	timedOut  atomic.Bool // a read hit the upgrade deadline
	once      sync.Once
}

type pendingConnKey struct{}

// onAccept puts the accepted connection in the context Hertz gives the upgrade handler.
func (g *Gateway) onAccept(c net.Conn) context.Context {
	return context.WithValue(g.ctx, pendingConnKey{}, c)
}

// pendingConn is the connection whose request the handler serves, nil when unknown.
func pendingConn(ctx context.Context) *wsPendingConn {
	pc, _ := ctx.Value(pendingConnKey{}).(*wsPendingConn)
	return pc
}

// upgraded ends the upgrade phase: the connection is a session now.
func (c *wsPendingConn) upgraded() {
	if c != nil && c.upgrading.CompareAndSwap(true, false) {
		c.g.stats.upgrading.Add(-1)
	}
}

func (c *wsPendingConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	var ne net.Error
	if err != nil && c.upgrading.Load() && errors.As(err, &ne) && ne.Timeout() {
		c.timedOut.Store(true)
	}
	return n, err
}

func (c *wsPendingConn) Close() error {
	c.once.Do(func() {
		if c.upgrading.CompareAndSwap(true, false) {
			c.g.stats.upgrading.Add(-1)
			if c.timedOut.Load() {
				c.g.stats.upgradeTimeouts.Add(1)
				c.g.log.Debug("websocket upgrade timed out", "addr", c.RemoteAddr().String())
			}
		}
		c.release()
	})
	return c.Conn.Close()
}
