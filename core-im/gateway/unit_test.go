package gateway

import (
	"bytes"
	"context"
	"errors"
	"io"
	"sync"
	"testing"
	"testing/iotest"
	"time"

	"github.com/bangbang-im/bangbang/core-im/auth"
	"github.com/bangbang-im/bangbang/core-im/protocol"
	"github.com/bangbang-im/bangbang/gen/common"
	"github.com/bangbang-im/bangbang/gen/frame"
)

func TestBucket(t *testing.T) {
	const sec = int64(time.Second)
	var b bucket
	now := int64(1)
	for i := range 3 {
		if ok, _, _ := b.allow(now, 2, 3); !ok {
			t.Fatalf("frame %d of the burst refused", i)
		}
	}
	// Refused frames get turns, first come first served: one token every 500 ms.
	for i, want := range []time.Duration{500 * time.Millisecond, time.Second, 1500 * time.Millisecond} {
		ok, wait, owed := b.allow(now, 2, 3)
		if ok || wait != want || owed != i+1 {
			t.Fatalf("refusal %d: ok=%v wait=%v owed=%d; want %v, %d", i, ok, wait, owed, want, i+1)
		}
	}
	// Each resent when told finds its token.
	for i, at := range []int64{sec / 2, sec, 3 * sec / 2} {
		if ok, _, _ := b.allow(now+at, 2, 3); !ok {
			t.Fatalf("resend %d at its turn refused", i)
		}
	}
	now += 3 * sec / 2
	// No turn owed any more: the next refusal owes one.
	if ok, wait, owed := b.allow(now, 2, 3); ok || wait != 500*time.Millisecond || owed != 1 {
		t.Fatalf("after the turns: ok=%v wait=%v owed=%d", ok, wait, owed)
	}
	now += 10 * sec // full again, and capped at the burst
	if ok, _, _ := b.allow(now, 2, 3); !ok || b.tokens != 2 {
		t.Fatalf("after calm: tokens=%v", b.tokens)
	}
}

// TestBucketRoundsUp: retry_after is whole milliseconds rounded up, so a client waiting
// exactly that long finds its token (333.3 ms at 3/s is told 334).
func TestBucketRoundsUp(t *testing.T) {
	var b bucket
	now := int64(1)
	for range 1000 {
		ok, wait, owed := b.allow(now, 3, 1)
		if ok {
			continue
		}
		if owed != 1 || wait%time.Millisecond != 0 {
			t.Fatalf("wait %v owed %d", wait, owed)
		}
		now += int64(wait)
		if ok, _, _ := b.allow(now, 3, 1); !ok {
			t.Fatalf("resent after exactly %v: refused", wait)
		}
	}
}

func TestConfigDefaults(t *testing.T) {
	c, err := Config{HeartbeatInterval: 10 * time.Second}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	if c.TCPAddr != ":8800" || c.WSAddr != ":8801" || c.Node != "local" || c.IOModel != IOModelEventLoop || c.SendWindow != 32 ||
		c.AuthTimeout != 10*time.Second || c.IdleTimeout != 30*time.Second || c.RenewInterval != 10*time.Second ||
		c.SendQueue != 256 || c.MaxBody != protocol.DefaultMaxBody || c.Shards != 256 ||
		c.FrameRate != 50 || c.FrameBurst != 100 || c.DrainMaxDelay != 5*time.Second {
		t.Fatalf("defaults %+v", c)
	}
	if _, err := (Config{IOModel: "epoll"}).withDefaults(); err == nil {
		t.Fatal("unknown io model accepted")
	}
	if _, err := New(Config{}, nil, nil, nil); err == nil {
		t.Fatal("New without logic accepted")
	}
}

func frames(t *testing.T, n int, bodySize int) []byte {
	t.Helper()
	var b []byte
	for i := range n {
		b = protocol.AppendMessage(b, protocol.OpSend, uint32(i+1), nil, &frame.SendRequest{ClientMsgId: "c", Body: make([]byte, bodySize)})
	}
	return b
}

func TestLazyReader(t *testing.T) {
	pool := &sync.Pool{}
	for _, tc := range []struct {
		name string
		wrap func(io.Reader) io.Reader
		size int
	}{
		{"small frames whole", func(r io.Reader) io.Reader { return r }, 10},
		{"small frames byte by byte", iotest.OneByteReader, 10},
		{"pooled size", iotest.HalfReader, 3000},
		{"large frames", iotest.DataErrReader, 20000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := frames(t, 5, tc.size)
			lr := newLazyReader(tc.wrap(bytes.NewReader(data)), 32<<10, pool)
			for i := range 5 {
				f, err := lr.next()
				if err != nil {
					t.Fatalf("frame %d: %v", i, err)
				}
				var req frame.SendRequest
				if f.Seq != uint32(i+1) || protocol.DecodeBody(f.Body, &req) != nil || len(req.Body) != tc.size {
					t.Fatalf("frame %d: seq %d", i, f.Seq)
				}
			}
			if _, err := lr.next(); !errors.Is(err, io.EOF) {
				t.Fatalf("end: %v", err)
			}
			if lr.pooled != nil || len(lr.cur) != len(lr.small) {
				t.Fatal("buffer held after the stream was consumed")
			}
		})
	}
	t.Run("truncated", func(t *testing.T) {
		data := frames(t, 1, 100)
		lr := newLazyReader(bytes.NewReader(data[:len(data)-1]), 0, pool)
		if _, err := lr.next(); !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("garbage", func(t *testing.T) {
		lr := newLazyReader(bytes.NewReader([]byte("hello")), 0, pool)
		if _, err := lr.next(); !errors.Is(err, protocol.ErrBadFrame) {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("too large", func(t *testing.T) {
		lr := newLazyReader(bytes.NewReader(frames(t, 1, 2000)), 1000, pool)
		if _, err := lr.next(); !errors.Is(err, protocol.ErrTooLarge) {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("idle between frames holds no buffer", func(t *testing.T) {
		pr, pw := io.Pipe()
		lr := newLazyReader(pr, 0, pool)
		go func() {
			_, _ = pw.Write(frames(t, 1, 2000))
			_, _ = pw.Write(frames(t, 1, 10))
			_ = pw.Close()
		}()
		if _, err := lr.next(); err != nil {
			t.Fatal(err)
		}
		if _, err := lr.next(); err != nil {
			t.Fatal(err)
		}
		if _, err := lr.next(); !errors.Is(err, io.EOF) {
			t.Fatal(err)
		}
		if lr.pooled != nil {
			t.Fatal("pooled buffer kept")
		}
	})
}

func TestTable(t *testing.T) {
	tb := newTable(4)
	a := &session{id: "a"}
	b := &session{id: "b"}
	tb.add(a)
	tb.add(b)
	a.ident.Store(&identity{user: "u", device: "d"})
	tb.bindDevice(a, deviceKey{"u", "d"})
	b.ident.Store(&identity{user: "u", device: "d"})
	tb.bindDevice(b, deviceKey{"u", "d"}) // b replaces a on the same device
	tb.remove(a)                          // a's late removal must not unbind b
	if tb.get("a") != nil || tb.get("b") != b || tb.byDevice("u", "d") != b {
		t.Fatal("late removal of a replaced session unbound its successor")
	}
	if n := len(tb.snapshot()); n != 1 {
		t.Fatalf("snapshot of %d", n)
	}
	tb.remove(b)
	if tb.get("b") != nil || tb.byDevice("u", "d") != nil {
		t.Fatal("b still present")
	}
}

func TestConnIDsUnique(t *testing.T) {
	a, b := newConnIDs(), newConnIDs()
	seen := map[string]bool{}
	for range 1000 {
		for _, id := range []string{a.next(), b.next()} {
			if seen[id] {
				t.Fatalf("duplicate %s", id)
			}
			seen[id] = true
		}
	}
}

// recordingConn is a transport that records each write call.
type recordingConn struct {
	mu     sync.Mutex
	writes [][][]byte
	closed bool
	wrote  chan struct{}
}

func (c *recordingConn) writeFrames(frames [][]byte) error {
	c.mu.Lock()
	c.writes = append(c.writes, frames)
	c.mu.Unlock()
	c.wrote <- struct{}{}
	return nil
}

func (c *recordingConn) close() error {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	return nil
}

func newUnstarted(t testing.TB, cfg Config) *Gateway {
	t.Helper()
	tokens, err := auth.NewTokens(testSecret, time.Hour, nil)
	if err != nil {
		t.Fatal(err)
	}
	g, err := New(cfg, newFakeLogic(), tokens, testLogger())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = g.Shutdown(context.Background()) })
	return g
}

// Frames queued while the flush worker is busy elsewhere go out in one write call.
func TestQueuedFramesGoOutInOneWrite(t *testing.T) {
	g := newUnstarted(t, Config{SendQueue: 8})
	rc := &recordingConn{wrote: make(chan struct{}, 4)}
	s := g.newSession(rc)
	for i := range 5 {
		if err := s.enqueue([]byte{byte(i)}); err != nil {
			t.Fatal(err)
		}
	}
	g.flush.start(1)
	defer g.flush.stop()
	<-rc.wrote
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if len(rc.writes) != 1 || len(rc.writes[0]) != 5 {
		t.Fatalf("writes %v, want one call with 5 frames", rc.writes)
	}
}

func TestSendQueueOverflow(t *testing.T) {
	g := newUnstarted(t, Config{SendQueue: 3})
	rc := &recordingConn{wrote: make(chan struct{}, 4)}
	s := g.newSession(rc)
	for range 3 {
		if err := s.enqueue([]byte{1}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.enqueue([]byte{1}); !errors.Is(err, ErrSendQueueFull) {
		t.Fatalf("4th frame: %v", err)
	}
	if err := s.enqueue([]byte{1}); !errors.Is(err, ErrConnClosed) {
		t.Fatalf("after overflow: %v", err)
	}
	g.flush.start(1)
	defer g.flush.stop()
	<-rc.wrote
	// Only the KICK went out, then the connection was closed.
	g2 := g.Stats()
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if len(rc.writes) != 1 || len(rc.writes[0]) != 1 || !bytes.Equal(rc.writes[0][0], g.kickSlow) {
		t.Fatalf("writes %v", rc.writes)
	}
	if g2.Dropped != 1 {
		t.Fatalf("stats %+v", g2)
	}
}

// A rate-limit refusal that finds the send queue full closes the connection as a flood
// (ERROR RATE_LIMITED seq 0 in place of the queue), never as a slow consumer: the server's
// own refusals are not the client being slow to read.
func TestRefusalIntoAFullQueueIsAFlood(t *testing.T) {
	g := newUnstarted(t, Config{SendQueue: 3, FrameRate: 0.001, FrameBurst: 50})
	rc := &recordingConn{wrote: make(chan struct{}, 4)}
	s := g.newSession(rc)
	for range 3 {
		if err := s.enqueue([]byte{1}); err != nil {
			t.Fatal(err)
		}
	}
	s.limit.tokens, s.limit.last = 0, g.now() // the bucket is empty
	if s.handle(&protocol.Frame{Op: protocol.OpHeartbeat, Seq: 7}) {
		t.Fatal("the connection goes on after a refusal it has no room for")
	}
	g.flush.start(1)
	defer g.flush.stop()
	<-rc.wrote
	st := g.Stats()
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if len(rc.writes) != 1 || len(rc.writes[0]) != 1 {
		t.Fatalf("writes %v, want the flood's ERROR alone", rc.writes)
	}
	f, _, err := protocol.Parse(rc.writes[0][0], 0)
	var e frame.Error
	if err != nil || f.Op != protocol.OpError || f.Seq != 0 || protocol.DecodeBody(f.Body, &e) != nil ||
		e.Code != int32(common.ErrorCode_RATE_LIMITED) || e.Message != floodMessage {
		t.Fatalf("wrote %s [%d] %+v (%v), want ERROR RATE_LIMITED [0]", f.Op, f.Seq, &e, err)
	}
	if st.Floods != 1 || st.Dropped != 0 || st.RateLimited != 1 {
		t.Fatalf("floods %d, slow consumers %d, rate limited %d; want 1, 0, 1", st.Floods, st.Dropped, st.RateLimited)
	}
}
