package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/bangbang-im/bangbang/core-im/client"
	"github.com/bangbang-im/bangbang/core-im/protocol"
	"github.com/bangbang-im/bangbang/gen/common"
	"github.com/bangbang-im/bangbang/gen/frame"
)

// rawConn is a hand-driven protocol connection, for what the SDK would never send.
type rawConn struct {
	t  *testing.T
	nc net.Conn
	rd *protocol.Reader
}

func dialRaw(t *testing.T, addr string) *rawConn {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	_ = nc.SetDeadline(time.Now().Add(15 * time.Second))
	return &rawConn{t: t, nc: nc, rd: protocol.NewReader(nc, 0)}
}

func (r *rawConn) write(b []byte) {
	r.t.Helper()
	if _, err := r.nc.Write(b); err != nil {
		r.t.Fatal(err)
	}
}

// expectError reads the next frame, which must be an ERROR with code.
func (r *rawConn) expectError(code common.ErrorCode) {
	r.t.Helper()
	f, err := r.rd.Next()
	if err != nil {
		r.t.Fatalf("want ERROR %s, read failed: %v", code, err)
	}
	var e frame.Error
	if f.Op != protocol.OpError || protocol.DecodeBody(f.Body, &e) != nil || e.Code != int32(code) {
		r.t.Fatalf("want ERROR %s, got op %s code %d", code, f.Op, e.Code)
	}
}

// expectClosed reads until the server closes the connection.
func (r *rawConn) expectClosed() {
	r.t.Helper()
	for {
		if _, err := r.rd.Next(); err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) {
				return
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				r.t.Fatal("server did not close the connection")
			}
			return // reset by peer
		}
	}
}

// TestBadInputNeverHurtsTheServer throws garbage at a real `bangbang all` and checks each
// gets its typed answer, then that chat still works and stored data is intact.
func TestBadInputNeverHurtsTheServer(t *testing.T) {
	t.Parallel()
	s := startAllProc(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	m := dialUser(t, ctx, s, "m1012", "phone")
	if _, err := m.Send(ctx, "c1012", "text/plain", []byte("before")); err != nil {
		t.Fatal(err)
	}

	t.Run("garbage bytes", func(t *testing.T) {
		c := dialRaw(t, s.imAddr)
		c.write([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"))
		c.expectError(common.ErrorCode_BAD_FRAME)
		c.expectClosed()
	})
	t.Run("oversized frame", func(t *testing.T) {
		c := dialRaw(t, s.imAddr)
		hdr := protocol.AppendFrame(nil, &protocol.Frame{Op: protocol.OpAuth, Seq: 1})
		hdr[10], hdr[11], hdr[12], hdr[13] = 0x7f, 0xff, 0xff, 0xff
		c.write(hdr)
		c.expectError(common.ErrorCode_FRAME_TOO_LARGE)
		c.expectClosed()
	})
	t.Run("request before login", func(t *testing.T) {
		c := dialRaw(t, s.imAddr)
		c.write(protocol.AppendMessage(nil, protocol.OpSend, 1, nil, &frame.SendRequest{ClientMsgId: "x", ToUser: "c1012", Body: []byte("sneaky")}))
		c.expectError(common.ErrorCode_UNAUTHENTICATED)
		c.expectClosed()
	})
	t.Run("forged token", func(t *testing.T) {
		c := dialRaw(t, s.imAddr)
		c.write(protocol.AppendMessage(nil, protocol.OpAuth, 1, nil, &frame.AuthRequest{Token: "eyJhbGciOiJIUzI1NiJ9.e30.x", DeviceId: "d"}))
		c.expectError(common.ErrorCode_TOKEN_INVALID)
		c.expectClosed()
	})
	t.Run("truncated frame then hang up", func(t *testing.T) {
		c := dialRaw(t, s.imAddr)
		full := protocol.AppendMessage(nil, protocol.OpAuth, 1, nil, &frame.AuthRequest{Token: "t", DeviceId: "d"})
		c.write(full[:len(full)-3])
		c.nc.Close()
	})
	t.Run("unknown operation keeps the connection", func(t *testing.T) {
		lr, err := login(ctx, s.edge, "m1012", "demo")
		if err != nil {
			t.Fatal(err)
		}
		c := dialRaw(t, s.imAddr)
		c.write(protocol.AppendMessage(nil, protocol.OpAuth, 1, nil, &frame.AuthRequest{Token: lr.Token, DeviceId: "raw", Platform: "cli"}))
		if f, err := c.rd.Next(); err != nil || f.Op != protocol.OpAuthOK {
			t.Fatalf("auth: op %v, %v", f.Op, err)
		}
		c.write(protocol.AppendFrame(nil, &protocol.Frame{Op: 99, Seq: 2, Body: []byte{0}}))
		c.expectError(common.ErrorCode_UNKNOWN_OPERATION)
		c.write(protocol.AppendFrame(nil, &protocol.Frame{Op: protocol.OpSend, Seq: 3, Body: []byte{0xff, 0xff}}))
		c.expectError(common.ErrorCode_BAD_REQUEST)
		c.write(protocol.AppendMessage(nil, protocol.OpHeartbeat, 4, nil, &frame.Heartbeat{ClientTimeMs: 1}))
		if f, err := c.rd.Next(); err != nil || f.Op != protocol.OpHeartbeatAck || f.Seq != 4 {
			t.Fatalf("heartbeat after bad frames: op %v seq %d, %v", f.Op, f.Seq, err)
		}
	})

	// The server is unharmed and stored nothing from any of it.
	if _, err := m.Send(ctx, "c1012", "text/plain", []byte("after")); err != nil {
		t.Fatal(err)
	}
	wantTexts(t, receiveFrom(t, dialUser(t, ctx, s, "c1012", "phone"), "m1012", 2), "before", "after")
}

// TestSecondLoginOnTheSameDeviceKicksTheFirst: one session per (user, device).
func TestSecondLoginOnTheSameDeviceKicksTheFirst(t *testing.T) {
	t.Parallel()
	s := startAllProc(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	first := dialUser(t, ctx, s, "c1013", "phone")
	other := dialUser(t, ctx, s, "c1013", "tablet")
	second := dialUser(t, ctx, s, "c1013", "phone")
	select {
	case <-first.Done():
	case <-ctx.Done():
		t.Fatal("first session still running after a second login on the same device")
	}
	if !errors.Is(first.Err(), client.ErrKicked) {
		t.Fatalf("first session ended with %v, want ErrKicked", first.Err())
	}
	m := dialUser(t, ctx, s, "m1013", "phone")
	if _, err := m.Send(ctx, "c1013", "text/plain", []byte("still here")); err != nil {
		t.Fatal(err)
	}
	wantTexts(t, receive(t, second, 1), "still here")
	wantTexts(t, receive(t, other, 1), "still here")
}

// Guessing a merchant's password on the real binary with the default limits: ten wrong
// passwords are 401, the eleventh attempt is 429 with Retry-After, and so is the right
// password right after; another merchant still logs in.
func TestLoginGuessingIsThrottled(t *testing.T) {
	t.Parallel()
	s := startAllProc(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for i := 1; i <= 10; i++ {
		if _, err := login(ctx, s.edge, "m1013", fmt.Sprintf("guess-%d", i)); err == nil || !strings.Contains(err.Error(), "401") {
			t.Fatalf("guess %d: %v, want 401", i, err)
		}
	}
	for _, pw := range []string{"guess-11", "demo"} {
		body := strings.NewReader(fmt.Sprintf(`{"user_id":"m1013","password":%q}`, pw))
		resp, err := http.Post(s.edge+"/v1/login", "application/json", body)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
			t.Fatalf("password %q after ten guesses: %d (Retry-After %q), want 429 with Retry-After", pw, resp.StatusCode, resp.Header.Get("Retry-After"))
		}
	}
	if _, err := login(ctx, s.edge, "m1014", "demo"); err != nil {
		t.Fatalf("another merchant: %v", err)
	}
}
