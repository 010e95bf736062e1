package gateway

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/bangbang-im/bangbang/core-im/protocol"
	"github.com/bangbang-im/bangbang/gen/frame"
)

func TestIdleTimeout(t *testing.T) {
	for _, via := range transports {
		t.Run(via, func(t *testing.T) {
			e := start(t, via, func(c *Config) {
				c.HeartbeatInterval = 100 * time.Millisecond
				c.IdleTimeout = 300 * time.Millisecond
			})
			c := e.dial(t)
			ok := c.login(e, "m1001", "phone")
			if ok.HeartbeatIntervalMs != 100 {
				t.Fatalf("heartbeat %d", ok.HeartbeatIntervalMs)
			}
			var k frame.Kick
			c.expect(protocol.OpKick, 0, &k)
			if k.Reason != int32(frame.KickReason_IDLE) {
				t.Fatalf("kick %+v", k)
			}
			c.expectClosed()
			e.eventually(t, "disconnect", func() bool { return slices.Equal(e.logic.disconnected(), []string{ok.SessionId}) })
		})
	}
}

func TestRenewClosesLostRoutes(t *testing.T) {
	for _, via := range transports {
		t.Run(via, func(t *testing.T) {
			e := start(t, via, func(c *Config) { c.RenewInterval = 30 * time.Millisecond })
			keep, lose := e.dial(t), e.dial(t)
			keepID := keep.login(e, "m1001", "phone").SessionId
			loseID := lose.login(e, "m1002", "phone").SessionId
			// Unauthenticated connections have no route to renew.
			e.dial(t)

			e.eventually(t, "a renewal with both routes", func() bool {
				e.logic.mu.Lock()
				defer e.logic.mu.Unlock()
				for _, r := range e.logic.renews {
					var ids []string
					for _, route := range r.Routes {
						ids = append(ids, route.ConnId)
						if r.Node != "gw-test" || route.UserId == "" || route.DeviceId != "phone" {
							t.Errorf("renew %+v", r)
						}
					}
					slices.Sort(ids)
					want := []string{keepID, loseID}
					slices.Sort(want)
					if slices.Equal(ids, want) {
						return true
					}
				}
				return false
			})
			e.logic.set(func(f *fakeLogic) { f.lost[loseID] = true })
			var r frame.Reconnect
			lose.expect(protocol.OpReconnect, 0, &r)
			lose.expectClosed()
			keep.heartbeat()
			e.eventually(t, "disconnect", func() bool { return slices.Equal(e.logic.disconnected(), []string{loseID}) })
		})
	}
}

// A failed renewal (logic or its route table away) is tried again after RenewRetry, not a
// whole RenewInterval later, so routes lost in the outage are found and their connections
// sent back to register within seconds of the table's return.
func TestFailedRenewIsRetriedSooner(t *testing.T) {
	const interval, retry = 2 * time.Second, 50 * time.Millisecond
	e := start(t, viaGoroutine, func(c *Config) { c.RenewInterval, c.RenewRetry = interval, retry })
	lose := e.dial(t)
	loseID := lose.login(e, "m1002", "phone").SessionId
	e.logic.set(func(f *fakeLogic) {
		f.renewErr = errors.New("route table unreachable")
		f.lost[loseID] = true
	})
	e.eventually(t, "two failed renewals", func() bool {
		e.logic.mu.Lock()
		defer e.logic.mu.Unlock()
		return len(e.logic.renewedAt) >= 2
	})
	e.logic.set(func(f *fakeLogic) { f.renewErr = nil })
	var r frame.Reconnect
	lose.expect(protocol.OpReconnect, 0, &r)
	lose.expectClosed()

	e.logic.mu.Lock()
	at := slices.Clone(e.logic.renewedAt)
	e.logic.mu.Unlock()
	if gap := at[1].Sub(at[0]); gap >= interval {
		t.Fatalf("a failed renewal was retried %v later, not sooner than the %v interval", gap, interval)
	}
	if r.Reason != "route lost" || r.AfterMs != 0 {
		t.Fatalf("reconnect %+v: one lost route comes back at once", r)
	}
}

func TestShutdownDrains(t *testing.T) {
	tokensEnv := start(t, viaNetpoll, nil) // only for its token issuer and fake logic
	g, err := New(Config{
		TCPAddr: "127.0.0.1:0", WSAddr: "127.0.0.1:0", Node: "gw-drain",
		DrainMaxDelay: 2 * time.Second,
	}, tokensEnv.logic, tokensEnv.tokens, testLogger())
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Start(); err != nil {
		t.Fatal(err)
	}
	tcpEnv := &env{t: t, g: g, logic: tokensEnv.logic, tokens: tokensEnv.tokens, via: viaNetpoll}
	wsEnv := &env{t: t, g: g, logic: tokensEnv.logic, tokens: tokensEnv.tokens, via: viaWS}
	var clients []*client
	var ids []string
	for i, e := range []*env{tcpEnv, tcpEnv, wsEnv} {
		c := e.dial(t)
		ids = append(ids, c.login(e, "m100"+string(rune('1'+i)), "phone").SessionId)
		clients = append(clients, c)
	}
	pending := tcpEnv.dial(t) // not authenticated: told to reconnect too, no Disconnect
	// Held by the gateway, not still in the kernel's accept queue (closing a listener
	// resets those).
	tcpEnv.eventually(t, "pending connection accepted", func() bool { return g.Stats().Open == 4 })

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := g.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	for _, c := range append(clients, pending) {
		var r frame.Reconnect
		c.expect(protocol.OpReconnect, 0, &r)
		if r.AfterMs < 0 || r.AfterMs >= 2000 {
			t.Fatalf("after_ms %d", r.AfterMs)
		}
		c.expectClosed()
	}
	got := tokensEnv.logic.disconnected()
	slices.Sort(got)
	slices.Sort(ids)
	if !slices.Equal(got, ids) {
		t.Fatalf("disconnected %v, want %v", got, ids)
	}
	if s := g.Stats(); s.Open != 0 || s.Authenticated != 0 {
		t.Fatalf("stats %+v", s)
	}
	if err := g.Start(); err == nil {
		t.Fatal("Start after Shutdown succeeded")
	}
	if err := g.Shutdown(ctx); err != nil {
		t.Fatalf("second Shutdown: %v", err)
	}
}

func TestShutdownWithoutStart(t *testing.T) {
	e := start(t, viaNetpoll, nil)
	g, err := New(Config{}, e.logic, e.tokens, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
}
