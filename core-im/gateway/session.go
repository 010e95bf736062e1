package gateway

import (
	"sync"
	"sync/atomic"

	logicgen "github.com/bangbang-im/bangbang/gen/logic"
)

// conn is what a session needs from its transport (netpoll, std net or WebSocket).
type conn interface {
	// writeFrames writes whole frames, in order, in one call: one writev, or one WebSocket
	// message. Only the flush worker holding the session calls it.
	writeFrames(frames [][]byte) error
	// close closes the connection. It is idempotent and unblocks a pending read or write.
	close() error
}

// farewell is a transport with a closing handshake of its own (WebSocket's close frame):
// the flush worker calls it once the session's last frame (nil if none) is written, just
// before closing the connection.
type farewell interface {
	farewell(last []byte)
}

// identity is who a connection authenticated as; immutable once published.
type identity struct {
	user, device, platform string
	tokenID                string // the login token's id: a logout of that token kicks this session
	expiresMs              int64  // the token's expiry (Unix ms): the session ends then
}

func (id *identity) route(connID string) *logicgen.RouteRef {
	return &logicgen.RouteRef{UserId: id.user, DeviceId: id.device, ConnId: connID}
}

// Session states: open accepts frames both ways; closing accepts nothing more and closes
// once its queue is flushed; closed is final.
const (
	stateOpen uint8 = iota
	stateClosing
	stateClosed
)

// session is one client connection, whatever its transport. It is kept small: an idle
// connection holds this struct, its transport and nothing else (no buffer, no timer, no
// goroutine under the netpoll IO model).
type session struct {
	g        *Gateway
	id       string
	c        conn
	created  int64 // gateway clock
	lastSeen atomic.Int64
	ident    atomic.Pointer[identity] // nil until AUTH succeeds
	limit    bucket                   // owned by the reader
	cur      *request                 // the request being handled; owned by the reader
	pipe     *sendPipe                // SENDs in flight; nil until the first; owned by the reader

	mu        sync.Mutex
	state     uint8
	scheduled bool     // queued at, or held by, a flush worker
	writing   bool     // a flush worker is inside writeFrames
	queue     [][]byte // encoded frames waiting for the flush worker
	reason    string   // why the session is closing, for the log
}

// newSession registers a new connection. Once Shutdown has begun, the connection is told
// to reconnect elsewhere and closed, like those drained. The check follows the insertion
// into the table, so a connection accepted while Shutdown starts is either drained with
// the others or refused here, never missed.
func (g *Gateway) newSession(c conn) *session {
	now := g.now()
	s := &session{g: g, id: g.ids.next(), c: c, created: now}
	s.lastSeen.Store(now)
	g.stats.open.Add(1)
	g.table.add(s)
	if g.refusing.Load() {
		s.finish(g.reconnectFrame(g.cfg.DrainMaxDelay), "gateway shutting down")
	}
	return s
}

// open reports whether the session still takes frames.
func (s *session) open() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state == stateOpen
}

// enqueue queues one encoded frame for the flush worker. A full queue starts closing the
// session (see ErrSendQueueFull).
func (s *session) enqueue(frame []byte) error {
	s.mu.Lock()
	if s.state != stateOpen {
		s.mu.Unlock()
		return ErrConnClosed
	}
	if len(s.queue) >= s.g.cfg.SendQueue {
		return s.overflowLocked()
	}
	s.queue = append(s.queue, frame)
	s.scheduleLocked()
	return nil
}

// overflowLocked replaces the queue with a KICK{SLOW_CONSUMER} and closes after it; when a
// write is already stuck on this connection the KICK cannot get through, so it closes now.
// Called with s.mu held; releases it.
func (s *session) overflowLocked() error {
	s.state = stateClosing
	s.reason = "send queue full"
	clear(s.queue)
	s.queue = append(s.queue[:0], s.g.kickSlow)
	writing := s.writing
	s.scheduleLocked()
	s.g.stats.dropped.Add(1)
	s.g.log.Warn("send queue full: dropping connection", s.attrs()...)
	if writing {
		s.shutdown("send queue full")
	}
	return ErrSendQueueFull
}

// scheduleLocked hands the session to a flush worker unless one has it already. Called
// with s.mu held; releases it.
func (s *session) scheduleLocked() {
	sched := !s.scheduled
	s.scheduled = true
	s.mu.Unlock()
	if sched {
		s.g.flush.schedule(s)
	}
}

// finish sends frame (if not nil) as the last one and closes the connection once it is
// written. It reports whether this call started closing.
func (s *session) finish(frame []byte, reason string) bool {
	s.mu.Lock()
	if s.state != stateOpen {
		s.mu.Unlock()
		return false
	}
	s.state = stateClosing
	s.reason = reason
	if frame != nil {
		s.queue = append(s.queue, frame)
	}
	s.scheduleLocked()
	return true
}

// shutdown closes the connection now, whatever is queued: removes it from the table and
// has logic forget its route. Idempotent; every close path ends here.
func (s *session) shutdown(reason string) {
	s.mu.Lock()
	if s.state == stateClosed {
		s.mu.Unlock()
		return
	}
	s.state = stateClosed
	if s.reason == "" {
		s.reason = reason
	}
	reason = s.reason
	clear(s.queue)
	s.queue = nil
	id := s.ident.Load()
	s.mu.Unlock()

	_ = s.c.close()
	g := s.g
	g.table.remove(s)
	g.stats.open.Add(-1)
	if id != nil {
		g.stats.authenticated.Add(-1)
		g.disc.add(id.route(s.id))
	}
	g.log.Debug("connection closed", append(s.attrs(), "reason", reason)...)
	g.signalClosed()
}

// attrs are the log attributes naming the connection. Built per log call rather than kept
// as a logger per connection, which would cost every idle connection a handler clone.
func (s *session) attrs() []any {
	a := []any{"conn", s.id}
	if id := s.ident.Load(); id != nil {
		a = append(a, "user", id.user, "device", id.device)
	}
	return a
}
