package client

import (
	"context"
	"errors"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/bangbang-im/bangbang/core-im/protocol"
	"github.com/bangbang-im/bangbang/gen/frame"
)

// RECONNECT makes the client leave the draining gateway after the delay and come back.
func TestReconnectFrame(t *testing.T) {
	s := newTestServer(t)
	c := dial(t, testConfig(t, s))
	first := s.accept()
	waitEvent(t, c, EventConnected)

	_ = first.write(protocol.OpReconnect, 0, &frame.Reconnect{AfterMs: 10, Reason: "draining"})
	first.waitClosed() // the client closes it, not the server
	s.accept()
	ev := waitEvent(t, c, EventDisconnected)
	if !errors.Is(ev.Err, errDraining) {
		t.Errorf("disconnect cause = %v, want errDraining", ev.Err)
	}
	if ev := waitEvent(t, c, EventReconnecting); ev.Delay > 10*time.Millisecond {
		t.Errorf("reconnect delay %v beyond the 10ms asked for", ev.Delay)
	}
	waitEvent(t, c, EventConnected)
}

// KICK REPLACED stops the client: no reconnect, channels closed, calls fail with ErrKicked.
func TestKickReplacedStops(t *testing.T) {
	for _, reason := range []frame.KickReason{frame.KickReason_REPLACED, frame.KickReason_AUTH_REVOKED} {
		t.Run(reason.String(), func(t *testing.T) {
			s := newTestServer(t)
			cfg := testConfig(t, s)
			var dials atomic.Int32
			cfg.Dial = func(ctx context.Context, network, addr string) (net.Conn, error) {
				dials.Add(1)
				var d net.Dialer
				return d.DialContext(ctx, network, addr)
			}
			c := dial(t, cfg)
			sc := s.accept()
			_ = sc.write(protocol.OpKick, 0, &frame.Kick{Reason: int32(reason), Message: "elsewhere"})

			ev := waitEvent(t, c, EventKicked)
			if ev.Reason != reason || ev.Message != "elsewhere" {
				t.Errorf("kicked event = %+v", ev)
			}
			select {
			case <-c.Done():
			case <-time.After(waitTimeout):
				t.Fatal("client still running after the kick")
			}
			if _, ok := <-c.Messages(); ok {
				t.Error("Messages not closed")
			}
			if !errors.Is(c.Err(), ErrKicked) {
				t.Errorf("Err = %v, want ErrKicked", c.Err())
			}
			if _, err := c.Send(t.Context(), "u2", "text/plain", nil); !errors.Is(err, ErrKicked) {
				t.Errorf("Send after kick = %v, want ErrKicked", err)
			}
			// The supervisor has returned, so no attempt can still be under way.
			if n := dials.Load(); n != 1 {
				t.Errorf("%d dials, want 1", n)
			}
		})
	}
}

// Other kicks (here: the server found the client too slow) end only the connection.
func TestKickSlowConsumerReconnects(t *testing.T) {
	s := newTestServer(t)
	s.store(msgs(1, 2)...)
	c := dial(t, testConfig(t, s))
	sc := s.accept()
	wantSeqs(t, receive(t, c, 2), 1, 2)
	s.store(msg(3)) // dropped by the slow client: it syncs it on the next connection
	_ = sc.write(protocol.OpKick, 0, &frame.Kick{Reason: int32(frame.KickReason_SLOW_CONSUMER)})
	if ev := waitEvent(t, c, EventKicked); ev.Reason != frame.KickReason_SLOW_CONSUMER {
		t.Errorf("kicked event = %+v", ev)
	}
	second := s.accept()
	wantSeqs(t, receive(t, c, 1), 3, 3)
	noMore(t, c, second, 4)
}

// A connection that stays silent for 3 heartbeat intervals is dropped and replaced.
func TestSilentConnectionReplaced(t *testing.T) {
	s := newTestServer(t)
	s.heartbeatMs = 10 // and the server never answers them
	c := dial(t, testConfig(t, s))
	first := s.accept()
	s.waitFor("a heartbeat", func() bool { return s.heartbeats > 0 })
	first.waitClosed()
	s.accept()
	if ev := waitEvent(t, c, EventDisconnected); !errors.Is(ev.Err, errSilent) {
		t.Errorf("disconnect cause = %v, want errSilent", ev.Err)
	}
}

// Close stops every goroutine, fails calls in flight with ErrClosed and closes the channels.
func TestCloseLeaksNothing(t *testing.T) {
	s := newTestServer(t)
	s.store(msgs(1, 5)...)
	cfg := testConfig(t, s)
	cfg.Buffer = 1 // the delivery goroutine is blocked on the app when Close comes
	c, err := Dial(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	sc := s.accept()
	out := sendAsync(t.Context(), c, "never acked")
	sc.expect(protocol.OpSend, new(frame.SendRequest))

	if err := c.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if o := await(t, out); !errors.Is(o.err, ErrClosed) {
		t.Errorf("Send in flight = %v, want ErrClosed", o.err)
	}
	if err := c.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	for range c.Messages() { // drains what was buffered, then ends: closed
	}
	for range c.Events() {
	}
	if _, ok := <-c.Receipts(); ok {
		t.Error("Receipts not closed")
	}
	if _, err := c.MarkRead(t.Context(), "p:u0|u1", 1); !errors.Is(err, ErrClosed) {
		t.Errorf("MarkRead after Close = %v, want ErrClosed", err)
	}
	sc.waitClosed()
	s.close()
	goleak.VerifyNone(t)
}
