package gateway

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cloudwego/hertz/pkg/app"
	"github.com/cloudwego/hertz/pkg/app/server"
	"github.com/cloudwego/hertz/pkg/network/standard"
	"github.com/hertz-contrib/websocket"

	"github.com/bangbang-im/bangbang/core-im/protocol"
	"github.com/bangbang-im/bangbang/gen/common"
)

// WSPath is where the WebSocket listener upgrades.
const WSPath = "/ws"

// wsStartTimeout bounds how long Start waits for the Hertz engine to run.
const wsStartTimeout = 5 * time.Second

// The WebSocket transport: a Hertz server upgrades GET /ws; one binary message carries one
// or more whole frames, both ways. Web clients are few next to the apps, so a reader
// goroutine per connection is acceptable here.

type wsListener struct {
	g  *Gateway
	ln *wsAcceptor
	h  *server.Hertz
	up *websocket.HertzUpgrader
}

func (g *Gateway) listenWS(addr string) (listener, error) {
	raw, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	ln := newWSAcceptor(g, raw)
	l := &wsListener{g: g, ln: ln}
	l.up = &websocket.HertzUpgrader{
		// Any origin: the token travels in the AUTH frame, never in a cookie, so a foreign
		// page gains nothing by opening the socket.
		CheckOrigin:     func(*app.RequestContext) bool { return true },
		WriteBufferPool: &sync.Pool{}, // idle connections hold no write buffer
	}
	// The standard transport: hijacked connections then stay plain net.Conns owned by our
	// reader, and nothing of netpoll's keeps them busy at shutdown.
	l.h = server.New(
		server.WithListener(ln),
		server.WithTransport(standard.NewTransporter),
		server.WithDisablePrintRoute(true),
		server.WithOnAccept(g.onAccept),
		// One request per connection: the upgrade, or one refusal. A kept-alive connection
		// could otherwise stay in the upgrade phase, request after request.
		server.WithKeepAlive(false),
		// Reads after the first request's (none, without keep-alive): the same bound.
		server.WithReadTimeout(g.cfg.UpgradeTimeout),
		server.WithIdleTimeout(g.cfg.UpgradeTimeout),
	)
	// Unpooled: a flush worker may still be failing a write on a connection whose handler
	// has returned, and a pooled wrapper could by then front another client's connection.
	l.h.NoHijackConnPool = true
	l.h.GET(WSPath, l.upgrade)

	runErr := make(chan error, 1)
	g.wg.Add(1)
	go func() {
		defer g.wg.Done()
		runErr <- l.h.Run()
	}()
	// Shutdown refuses an engine that is not running yet: wait until it is.
	t := time.NewTicker(time.Millisecond)
	defer t.Stop()
	deadline := time.NewTimer(wsStartTimeout)
	defer deadline.Stop()
	for !l.h.IsRunning() {
		select {
		case err := <-runErr:
			_ = ln.Close()
			return nil, fmt.Errorf("hertz run: %w", err)
		case <-deadline.C:
			_ = ln.Close()
			return nil, errors.New("hertz did not start")
		case <-t.C:
		}
	}
	return l, nil
}

func (l *wsListener) addr() net.Addr { return l.ln.Addr() }

func (l *wsListener) stop(ctx context.Context) error { return l.h.Shutdown(ctx) }

func (l *wsListener) upgrade(ctx context.Context, rc *app.RequestContext) {
	if l.g.refusing.Load() {
		rc.AbortWithStatus(503)
		return
	}
	pc := pendingConn(ctx)
	err := l.up.Upgrade(rc, func(wc *websocket.Conn) {
		pc.upgraded()
		l.serve(wc)
	})
	if err != nil {
		l.g.log.Debug("websocket upgrade refused", "err", err)
	}
}

// serve runs on Hertz's connection goroutine; Hertz closes the connection when it returns,
// so it returns only once the session is closed (after its last frame is flushed).
func (l *wsListener) serve(wc *websocket.Conn) {
	g := l.g
	if !g.track() {
		_ = wc.Close()
		return
	}
	defer g.wg.Done()
	c := &wsConn{c: wc, done: make(chan struct{})}
	// Answer a client's close with ours, unless ours went first: it was the answer.
	wc.SetCloseHandler(func(code int, _ string) error {
		if c.bye.CompareAndSwap(false, true) {
			_ = wc.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, ""), time.Now().Add(wsCloseWriteTimeout))
		}
		return nil
	})
	s := g.newSession(c)
	wc.SetReadLimit(int64(4 * g.cfg.maxFrame()))
	if l.read(s, wc) {
		// Closing after a last frame: keep draining input until the flush worker closes.
		for {
			if _, _, err := wc.NextReader(); err != nil {
				break
			}
		}
	}
	<-c.done
}

// read handles messages until the session stops taking frames (true) or the connection
// fails (false, session closed).
func (l *wsListener) read(s *session, wc *websocket.Conn) (closing bool) {
	g := l.g
	defer func() {
		if p := recover(); p != nil {
			g.log.Error("panic serving connection", append(s.attrs(), "panic", p)...)
			s.shutdown("panic")
			closing = false
		}
	}()
	for {
		mt, data, err := wc.ReadMessage()
		if err != nil {
			s.shutdown("read: " + err.Error())
			return false
		}
		if mt != websocket.BinaryMessage {
			s.protocolError(&protocol.Error{Code: common.ErrorCode_BAD_FRAME, Message: "frames travel in binary messages"})
			return true
		}
		for off := 0; off < len(data); {
			f, n, err := protocol.Parse(data[off:], g.cfg.MaxBody)
			var pe *protocol.Error
			switch {
			case errors.As(err, &pe):
				s.protocolError(pe)
				return true
			case n == 0:
				s.protocolError(&protocol.Error{Code: common.ErrorCode_BAD_FRAME, Message: "message ends inside a frame"})
				return true
			}
			off += n
			if !s.handle(&f) {
				return true
			}
		}
	}
}

// wsConn is a WebSocket connection as a session transport.
type wsConn struct {
	c    *websocket.Conn
	once sync.Once
	bye  atomic.Bool   // a close frame was sent
	done chan struct{} // closed by close: the Hertz handler may return
}

// writeFrames sends the batch as one binary message.
func (c *wsConn) writeFrames(frames [][]byte) error {
	if err := c.c.SetWriteDeadline(time.Now().Add(writeTimeout)); err != nil {
		return err
	}
	w, err := c.c.NextWriter(websocket.BinaryMessage)
	if err != nil {
		return err
	}
	for _, f := range frames {
		if _, err := w.Write(f); err != nil {
			_ = w.Close()
			return err
		}
	}
	return w.Close()
}

// farewell sends the close frame that follows last, the session's final frame (see
// wsCloseFor). Only the flush worker calls it, after its last write.
func (c *wsConn) farewell(last []byte) {
	if !c.bye.CompareAndSwap(false, true) {
		return
	}
	code, reason := wsCloseFor(last)
	_ = c.c.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, reason), time.Now().Add(wsCloseWriteTimeout))
}

// close unblocks the reader and any write with a deadline: Hertz's hijacked connection
// ignores Close while our handler runs, and closes it once the handler returns, which
// done allows. After our close frame the reader is given wsCloseGrace to read the peer's
// answer (the closing handshake), else the deadline is in the past.
func (c *wsConn) close() error {
	var err error
	c.once.Do(func() {
		deadline := time.Unix(1, 0)
		if c.bye.Load() {
			deadline = time.Now().Add(wsCloseGrace)
		}
		err = c.c.NetConn().SetDeadline(deadline)
		_ = c.c.Close()
		close(c.done)
	})
	return err
}
