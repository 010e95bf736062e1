package client

import (
	"errors"
	"net"
	"testing"
	"time"

	"github.com/bangbang-im/bangbang/core-im/protocol"
	"github.com/bangbang-im/bangbang/gen/common"
	"github.com/bangbang-im/bangbang/gen/frame"
)

// deadAddr is a loopback address nothing listens on.
func deadAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	a := ln.Addr().String()
	ln.Close()
	return a
}

// A gateway that cannot be reached is passed over within the same attempt.
func TestDialGoesOnToTheNextGateway(t *testing.T) {
	s := newTestServer(t)
	cfg := testConfig(t, s)
	cfg.Addr, cfg.Addrs = deadAddr(t), []string{s.addr()}
	c := dial(t, cfg)
	s.accept()
	if got := c.addr(); got != s.addr() {
		t.Errorf("connected to %s, want %s", got, s.addr())
	}
}

// A gateway that cannot log the device in right now (UNAVAILABLE, temporary) is passed
// over; one that refuses the token for good is not: every gateway would refuse it.
func TestTemporaryRefusalGoesOnToTheNextGateway(t *testing.T) {
	busy, ok := newTestServer(t), newTestServer(t)
	busy.onAuth = func(int, *frame.AuthRequest) protocol.Body {
		return &frame.Error{Code: int32(common.ErrorCode_UNAVAILABLE), Message: "logic away", Temporary: true}
	}
	cfg := testConfig(t, busy)
	cfg.Addrs = []string{ok.addr()}
	dial(t, cfg)
	ok.accept()

	refusing, never := newTestServer(t), newTestServer(t)
	refusing.onAuth = func(int, *frame.AuthRequest) protocol.Body {
		return &frame.Error{Code: int32(common.ErrorCode_UNAUTHENTICATED), Message: "bad token"}
	}
	cfg = testConfig(t, refusing)
	cfg.Addrs = []string{never.addr()}
	_, err := Dial(t.Context(), cfg)
	if !errors.Is(err, &Error{Code: common.ErrorCode_UNAUTHENTICATED}) {
		t.Fatalf("Dial with a refused token: %v, want ErrUnauthenticated", err)
	}
	if n := never.authCount(); n != 0 {
		t.Errorf("the second gateway was asked %d times after a refusal for good", n)
	}
}

// When its gateway goes away the client reconnects to the next one; asked by a gateway to
// leave (a deploy), it goes on to the next one rather than back to the same.
func TestGatewayLostOrDrainingMovesToTheNext(t *testing.T) {
	a, b, x := newTestServer(t), newTestServer(t), newTestServer(t)
	cfg := testConfig(t, a)
	cfg.Addrs = []string{b.addr(), x.addr()}
	c := dial(t, cfg)
	a.accept()
	waitEvent(t, c, EventConnected)

	a.close() // the gateway dies
	onB := b.accept()
	waitEvent(t, c, EventConnected)

	_ = onB.write(protocol.OpReconnect, 0, &frame.Reconnect{AfterMs: 1, Reason: "draining"})
	onB.waitClosed()
	x.accept()
	waitEvent(t, c, EventConnected)
	if n := b.authCount(); n != 1 {
		t.Errorf("the draining gateway was logged in to %d times, want once", n)
	}
}

// A login refused for a moment with a retry-after (a gateway shedding a reconnect storm)
// makes the next attempt wait at least that long, whatever the backoff says.
func TestRefusedLoginWaitsItsRetryAfter(t *testing.T) {
	s := newTestServer(t)
	s.onAuth = func(n int, req *frame.AuthRequest) protocol.Body {
		if n == 2 { // the first reconnect
			return &frame.Error{Code: int32(common.ErrorCode_UNAVAILABLE), Message: "too many logins", Temporary: true, RetryAfterMs: 300}
		}
		return s.acceptAuth(n, req)
	}
	c := dial(t, testConfig(t, s)) // backoff 2..20 ms
	s.accept().drop()
	waitEvent(t, c, EventReconnecting)
	waitEvent(t, c, EventDisconnected) // the refused login
	if ev := waitEvent(t, c, EventReconnecting); ev.Delay < 300*time.Millisecond {
		t.Errorf("next attempt after %v, want at least the 300 ms asked", ev.Delay)
	}
	waitEvent(t, c, EventConnected)
}
