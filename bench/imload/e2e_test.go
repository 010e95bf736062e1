package main

import (
	"errors"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/bangbang-im/bangbang/core-im/gateway"
)

func TestIdleAgainstServer(t *testing.T) {
	srv := startServer(t, 2, gateway.Config{IOModel: gateway.IOModelNetpoll})
	res, err := runIdle(t.Context(), idleConfig{
		target: target{Edge: srv.edge, Password: "demo", DemoUsers: 2, ServerPID: os.Getpid()},
		Conns:  300, Sources: "127.0.0.2-127.0.0.4", PerSource: 120,
		Timeout: 10 * time.Second, Settle: 2 * time.Second, Verify: true,
	}, testLogger(t))
	if err != nil {
		t.Fatalf("runIdle: %v", err)
	}
	if res.Authenticated != 300 || res.Failed != 0 || res.Alive != 300 {
		t.Fatalf("authenticated %d, failed %d (%s), alive %d: want 300, 0, 300", res.Authenticated, res.Failed, res.FirstError, res.Alive)
	}
	if res.SourceAddrs != 3 {
		t.Errorf("source addresses %d, want 3 (300 connections at 120 per address)", res.SourceAddrs)
	}
	if res.ServerBefore.RSS <= 0 || res.ServerAfter.RSS <= 0 || res.ClientAfter.RSS <= 0 {
		t.Errorf("memory not read: server %+v -> %+v, client %+v", res.ServerBefore, res.ServerAfter, res.ClientAfter)
	}
	// runIdle closed every connection on return: the gateway sees them go.
	err = waitFor(t.Context(), time.Now().Add(10*time.Second), func() bool { return srv.gw.Stats().Open == 0 })
	if err != nil {
		t.Errorf("gateway still holds %d connections after runIdle returned", srv.gw.Stats().Open)
	}
}

func TestIdleRefusedLogin(t *testing.T) {
	srv := startServer(t, 1, gateway.Config{IOModel: gateway.IOModelGoroutine})
	_, err := runIdle(t.Context(), idleConfig{
		target: target{Edge: srv.edge, Password: "wrong", DemoUsers: 1},
		Conns:  1, Timeout: time.Second, Settle: time.Second,
	}, testLogger(t))
	var le *LoginError
	if !errors.As(err, &le) || le.Status != http.StatusUnauthorized {
		t.Fatalf("runIdle with a wrong password: %v, want a LoginError with HTTP 401", err)
	}
}

func TestIdleOverCapacity(t *testing.T) {
	srv := startServer(t, 1, gateway.Config{IOModel: gateway.IOModelNetpoll})
	_, err := runIdle(t.Context(), idleConfig{
		target: target{Edge: srv.edge, Password: "demo", DemoUsers: 1},
		Conns:  5, Sources: "127.0.0.2", PerSource: 4, Timeout: time.Second, Settle: time.Second,
	}, testLogger(t))
	if !errors.Is(err, ErrCapacity) {
		t.Fatalf("5 connections on one address at 4 per address: %v, want ErrCapacity", err)
	}
}

func TestChatAgainstServer(t *testing.T) {
	// A gateway that takes at most 2 connections per address: the 6 connections must come
	// from 3 source addresses, 2 each, or some are refused.
	srv := startServer(t, 2, gateway.Config{IOModel: gateway.IOModelGoroutine, MaxConnsPerAddr: 2})
	res, err := runChat(t.Context(), chatConfig{
		target: target{Edge: srv.edge, Password: "demo", DemoUsers: 2, ServerPID: os.Getpid()},
		Pairs:  2, Devices: 2, Rate: 80, ConnRate: 45, Window: 4, Size: 32,
		Warmup: 200 * time.Millisecond, Duration: time.Second, Drain: 10 * time.Second,
		Timeout: 10 * time.Second, AckDelay: 50 * time.Millisecond, AckBatch: 64,
		Sources: "127.0.0.2-127.0.0.4", PerSrc: 2,
	}, testLogger(t))
	if err != nil {
		t.Fatalf("runChat: %v", err)
	}
	if res.ConnErrors != 0 || len(res.Errors) != 0 {
		t.Fatalf("errors: %d connections (%s), %v", res.ConnErrors, res.FirstError, res.Errors)
	}
	if res.SenderConns != 4 || res.ReceiverConns != 2 || res.PerConnRate != 20 {
		t.Errorf("connections %d+%d at %.1f msg/s each, want 4+2 at 20", res.SenderConns, res.ReceiverConns, res.PerConnRate)
	}
	// 80 msg/s for 1.2 s: the exact count depends on scheduling, not its order of magnitude.
	if res.Sent < 40 || res.Stored != res.Sent || res.Delivered != res.Stored || res.Undelivered != 0 {
		t.Fatalf("sent %d, stored %d, delivered %d, undelivered %d: want every sent message stored and delivered",
			res.Sent, res.Stored, res.Delivered, res.Undelivered)
	}
	if res.Store.Count == 0 || res.Store.Count != res.Deliver.Count || res.Store.Count >= uint64(res.Stored) {
		t.Errorf("latency samples: stored %d, delivered %d of %d messages: want the measured window only, equal",
			res.Store.Count, res.Deliver.Count, res.Stored)
	}
	if res.Store.P50 <= 0 || res.Deliver.P50 < res.Store.P50/2 || res.Store.Max < res.Store.P99 {
		t.Errorf("implausible latencies: stored %+v, delivered %+v", res.Store, res.Deliver)
	}
	// Each sender user has two devices: every message is pushed to the other one.
	if res.SelfPushes != res.Stored {
		t.Errorf("pushes to the senders' other devices %d, want one per message (%d)", res.SelfPushes, res.Stored)
	}
	if res.Acks == 0 {
		t.Error("receivers sent no DELIVER_ACK")
	}
	if res.StoredPerSec <= 0 || res.DeliveredPerSec <= 0 {
		t.Errorf("rates stored %.1f, delivered %.1f", res.StoredPerSec, res.DeliveredPerSec)
	}
}

func TestChatRejectsBadConfig(t *testing.T) {
	for _, cfg := range []chatConfig{
		{target: target{DemoUsers: 20}, Pairs: 21, Devices: 1, Window: 1, Duration: time.Second},
		{target: target{DemoUsers: 20}, Pairs: 1, Devices: 0, Window: 1, Duration: time.Second},
		{target: target{DemoUsers: 20}, Pairs: 1, Devices: 1, Window: 0, Duration: time.Second},
	} {
		if _, err := runChat(t.Context(), cfg, testLogger(t)); err == nil {
			t.Errorf("runChat(%+v) succeeded, want a configuration error", cfg)
		}
	}
}

func TestChatHonoursRateLimits(t *testing.T) {
	// A gateway allowing 20 frames/s per connection against unpaced senders: they are
	// refused, back off as told, and are never disconnected for flooding.
	srv := startServer(t, 1, gateway.Config{FrameRate: 20, FrameBurst: 5})
	res, err := runChat(t.Context(), chatConfig{
		target: target{Edge: srv.edge, Password: "demo", DemoUsers: 1},
		Pairs:  1, Devices: 1, Window: 8, Size: 16, Duration: 1500 * time.Millisecond, Drain: 10 * time.Second,
		Timeout: 10 * time.Second, AckDelay: 50 * time.Millisecond, AckBatch: 64,
	}, testLogger(t))
	if err != nil {
		t.Fatalf("runChat: %v", err)
	}
	if res.Errors["RATE_LIMITED"] == 0 {
		t.Fatalf("no RATE_LIMITED answer at 20 frames/s unpaced: %+v", res)
	}
	if res.ConnErrors != 0 {
		t.Fatalf("a connection failed (%s): the sender did not back off: %+v", res.FirstError, res)
	}
	// 5 frames of burst then 20/s for 1.5 s, shared with the receiver's acks on its own
	// connection: the sender stores at most about 35.
	if res.Stored == 0 || res.Stored > 40 || res.Delivered != res.Stored {
		t.Fatalf("stored %d, delivered %d: want a rate-limited trickle, all delivered", res.Stored, res.Delivered)
	}
}
