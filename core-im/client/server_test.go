package client

import (
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/bangbang-im/bangbang/core-im/protocol"
	"github.com/bangbang-im/bangbang/gen/common"
	"github.com/bangbang-im/bangbang/gen/frame"
)

// waitTimeout bounds every wait on a condition in these tests; it is a failure deadline,
// never a delay the tests depend on.
const waitTimeout = 5 * time.Second

// testServer is a scripted peer speaking the frame protocol over real TCP. Per connection it
// answers AUTH (onAuth), SYNC (from its inbox, pageSize at a time), records DELIVER_ACKs and
// HEARTBEATs, and passes every other frame to the test through serverConn.frames.
type testServer struct {
	t  *testing.T
	ln net.Listener

	// Set before Dial, read-only afterwards.
	onAuth      func(n int, req *frame.AuthRequest) protocol.Body // *frame.AuthResponse or *frame.Error
	onSync      func(sc *serverConn, req *frame.SyncRequest)      // runs before the answer
	pageSize    int
	heartbeatMs int32
	ackedSeq    int64

	conns chan *serverConn // authenticated connections, in order
	wg    sync.WaitGroup

	mu         sync.Mutex
	changed    chan struct{} // closed and replaced on every recorded change
	inbox      []*common.Message
	auths      []*frame.AuthRequest
	syncs      []syncCall
	acks       []int64
	heartbeats int
	open       []*serverConn
	closed     bool
}

type syncCall struct {
	conn  int
	after int64
}

type serverConn struct {
	s      *testServer
	n      int
	nc     net.Conn
	wmu    sync.Mutex
	frames chan protocol.Frame // bodies copied
	done   chan struct{}       // the reader has stopped
}

func newTestServer(t *testing.T) *testServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	s := &testServer{
		t:           t,
		ln:          ln,
		pageSize:    1000,
		heartbeatMs: 60_000,
		conns:       make(chan *serverConn, 16),
		changed:     make(chan struct{}),
	}
	s.onAuth = s.acceptAuth
	s.wg.Add(1)
	go s.acceptLoop()
	t.Cleanup(s.close)
	return s
}

func (s *testServer) addr() string { return s.ln.Addr().String() }

// acceptAuth is the default onAuth: user u1, the server's heartbeat and acked seq.
func (s *testServer) acceptAuth(n int, _ *frame.AuthRequest) protocol.Body {
	s.mu.Lock()
	defer s.mu.Unlock()
	var maxSeq int64
	if len(s.inbox) > 0 {
		maxSeq = s.inbox[len(s.inbox)-1].Seq
	}
	return &frame.AuthResponse{
		UserId: "u1", SessionId: fmt.Sprintf("s%d", n), ServerTimeMs: time.Now().UnixMilli(),
		HeartbeatIntervalMs: s.heartbeatMs, MaxSeq: maxSeq, AckedSeq: s.ackedSeq,
	}
}

func (s *testServer) close() {
	s.mu.Lock()
	s.closed = true
	open := s.open
	s.mu.Unlock()
	_ = s.ln.Close()
	for _, sc := range open {
		_ = sc.nc.Close()
	}
	s.wg.Wait()
}

func (s *testServer) acceptLoop() {
	defer s.wg.Done()
	for n := 1; ; n++ {
		nc, err := s.ln.Accept()
		if err != nil {
			return
		}
		sc := &serverConn{s: s, n: n, nc: nc, frames: make(chan protocol.Frame, 64), done: make(chan struct{})}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			_ = nc.Close()
			return
		}
		s.open = append(s.open, sc)
		s.mu.Unlock()
		s.wg.Add(1)
		go sc.serve()
	}
}

// update changes the recorded state under the lock and wakes waiters.
func (s *testServer) update(f func()) {
	s.mu.Lock()
	f()
	close(s.changed)
	s.changed = make(chan struct{})
	s.mu.Unlock()
}

// waitFor waits until cond, evaluated under the lock, holds.
func (s *testServer) waitFor(what string, cond func() bool) {
	s.t.Helper()
	deadline := time.NewTimer(waitTimeout)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		ok, ch := cond(), s.changed
		s.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-ch:
		case <-deadline.C:
			s.t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// store appends messages to the inbox that SYNC answers from.
func (s *testServer) store(msgs ...*common.Message) {
	s.update(func() { s.inbox = append(s.inbox, msgs...) })
}

// accept returns the next authenticated connection.
func (s *testServer) accept() *serverConn {
	s.t.Helper()
	select {
	case sc := <-s.conns:
		return sc
	case <-time.After(waitTimeout):
		s.t.Fatal("timed out waiting for a connection")
		return nil
	}
}

func (s *testServer) authCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.auths)
}

func (sc *serverConn) serve() {
	s := sc.s
	defer s.wg.Done()
	defer close(sc.done)
	defer close(sc.frames)
	defer sc.nc.Close()
	rd := protocol.NewReader(sc.nc, 0)
	f, err := rd.Next()
	if err != nil || f.Op != protocol.OpAuth {
		return
	}
	var req frame.AuthRequest
	if err := protocol.DecodeBody(f.Body, &req); err != nil {
		return
	}
	s.update(func() { s.auths = append(s.auths, &req) })
	switch resp := s.onAuth(sc.n, &req).(type) {
	case *frame.AuthResponse:
		if sc.write(protocol.OpAuthOK, f.Seq, resp) != nil {
			return
		}
	default:
		_ = sc.write(protocol.OpError, f.Seq, resp)
		return
	}
	s.conns <- sc
	for {
		f, err := rd.Next()
		if err != nil {
			return
		}
		switch f.Op {
		case protocol.OpSync:
			var req frame.SyncRequest
			if protocol.DecodeBody(f.Body, &req) != nil {
				return
			}
			s.update(func() { s.syncs = append(s.syncs, syncCall{conn: sc.n, after: req.AfterSeq}) })
			if s.onSync != nil {
				s.onSync(sc, &req)
			}
			if sc.write(protocol.OpSyncResp, f.Seq, s.page(&req)) != nil {
				return
			}
		case protocol.OpDeliverAck:
			var ack frame.DeliverAck
			if protocol.DecodeBody(f.Body, &ack) != nil {
				return
			}
			s.update(func() { s.acks = append(s.acks, ack.Seq) })
		case protocol.OpHeartbeat:
			s.update(func() { s.heartbeats++ })
		default:
			f.Body = append([]byte(nil), f.Body...)
			sc.frames <- f
		}
	}
}

func (s *testServer) page(req *frame.SyncRequest) *frame.SyncResponse {
	s.mu.Lock()
	defer s.mu.Unlock()
	limit := min(int(req.Limit), s.pageSize)
	resp := &frame.SyncResponse{}
	for _, m := range s.inbox {
		if m.Seq <= req.AfterSeq {
			continue
		}
		if len(resp.Messages) == limit {
			resp.HasMore = true
			break
		}
		resp.Messages = append(resp.Messages, m)
	}
	if len(s.inbox) > 0 {
		resp.MaxSeq = s.inbox[len(s.inbox)-1].Seq
	}
	return resp
}

func (sc *serverConn) write(op protocol.Op, seq uint32, body protocol.Body) error {
	sc.wmu.Lock()
	defer sc.wmu.Unlock()
	_, err := sc.nc.Write(protocol.AppendMessage(nil, op, seq, nil, body))
	return err
}

func (sc *serverConn) push(msgs ...*common.Message) {
	sc.s.t.Helper()
	if err := sc.write(protocol.OpPush, 0, &frame.Push{Messages: msgs}); err != nil {
		sc.s.t.Fatalf("push: %v", err)
	}
}

// next returns the next frame the server did not handle by itself.
func (sc *serverConn) next() protocol.Frame {
	sc.s.t.Helper()
	select {
	case f, ok := <-sc.frames:
		if !ok {
			sc.s.t.Fatal("connection closed while waiting for a frame")
		}
		return f
	case <-time.After(waitTimeout):
		sc.s.t.Fatal("timed out waiting for a frame")
	}
	return protocol.Frame{}
}

// expect returns the next unhandled frame, decoded into body, failing unless its op is op.
func (sc *serverConn) expect(op protocol.Op, body protocol.Body) protocol.Frame {
	sc.s.t.Helper()
	f := sc.next()
	if f.Op != op {
		sc.s.t.Fatalf("got %s, want %s", f.Op, op)
	}
	if err := protocol.DecodeBody(f.Body, body); err != nil {
		sc.s.t.Fatalf("decode %s: %v", op, err)
	}
	return f
}

// drop closes the connection from the server side and waits until its reader has stopped.
func (sc *serverConn) drop() {
	sc.s.t.Helper()
	_ = sc.nc.Close()
	sc.waitClosed()
}

// waitClosed waits until the client has closed the connection.
func (sc *serverConn) waitClosed() {
	sc.s.t.Helper()
	select {
	case <-sc.done:
	case <-time.After(waitTimeout):
		sc.s.t.Fatal("timed out waiting for the connection to close")
	}
}
