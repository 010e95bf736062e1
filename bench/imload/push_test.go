package main

import (
	"errors"
	"net"
	"os"
	"testing"
	"time"

	"github.com/cloudwego/kitex/server"

	"github.com/bangbang-im/bangbang/core-im/gateway"
	"github.com/bangbang-im/bangbang/gen/gateway/gatewayservice"
)

// servePush serves the gateway's push RPC (what logic calls) on a loopback port, as
// `bangbang gateway --push-addr` does, and returns its address.
func servePush(t *testing.T, gw *gateway.Gateway) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := gatewayservice.NewServer(gw, server.WithListener(ln), server.WithExitWaitTime(0))
	done := make(chan error, 1)
	go func() { done <- srv.Run() }()
	t.Cleanup(func() {
		if err := srv.Stop(); err != nil {
			t.Errorf("stop push server: %v", err)
		}
		<-done
	})
	return ln.Addr().String()
}

func pushTestConfig(srv testServer, gw string, bodies string) pushConfig {
	return pushConfig{
		target: target{Edge: srv.edge, Password: "demo", DemoUsers: 3, ServerPID: os.Getpid()},
		Conns:  50, Sources: "127.0.0.2-127.0.0.3", PerSource: 30, Gateway: gw,
		Rounds: 20, Size: 64, Bodies: bodies, Batch: 16, Lead: 4, InFlight: 2,
		Timeout: 10 * time.Second, Drain: 20 * time.Second,
	}
}

// Every connection reads every frame pushed through the real gateway's Deliver RPC, in
// both shapes, and the run's accounting adds up.
func TestPushAgainstServer(t *testing.T) {
	for _, bodies := range []string{"shared", "each"} {
		t.Run(bodies, func(t *testing.T) {
			srv := startServer(t, 3, gateway.Config{IOModel: gateway.IOModelEventLoop})
			cfg := pushTestConfig(srv, servePush(t, srv.gw), bodies)
			res, err := runPush(t.Context(), cfg, testLogger(t))
			if err != nil {
				t.Fatalf("runPush: %v", err)
			}
			if res.Authenticated != 50 || res.Expected != 1000 || res.Received != 1000 {
				t.Fatalf("authenticated %d, frames %d of %d: want 50 connections and 1000 of 1000", res.Authenticated, res.Received, res.Expected)
			}
			// 50 connections in batches of 16 is 4 calls a round.
			if res.DeliverCalls != 80 || res.Missing != 0 || res.Dropped != 0 || res.ConnErrors != 0 || len(res.UnexpectedOps) != 0 {
				t.Errorf("calls %d (want 80), missing %d, dropped %d, failed connections %d (%s), unexpected frames %v",
					res.DeliverCalls, res.Missing, res.Dropped, res.ConnErrors, res.FirstError, res.UnexpectedOps)
			}
			if res.SourceAddrs != 2 || res.FramesPerSec <= 0 || res.ServerCPUFrame <= 0 {
				t.Errorf("source addresses %d (want 2), %.0f frames/s, %.2f µs per frame: want both measured", res.SourceAddrs, res.FramesPerSec, res.ServerCPUFrame)
			}
			// runPush closed every connection on return: the gateway sees them go.
			err = waitFor(t.Context(), time.Now().Add(10*time.Second), func() bool { return srv.gw.Stats().Open == 0 })
			if err != nil {
				t.Errorf("gateway still holds %d connections after runPush returned", srv.gw.Stats().Open)
			}
		})
	}
}

// Connections the gateway does not hold are lost frames, reported as such: the run
// fails instead of measuring a rate of frames nobody read.
func TestPushReportsLostConnections(t *testing.T) {
	srv := startServer(t, 3, gateway.Config{IOModel: gateway.IOModelEventLoop})
	other := startServer(t, 1, gateway.Config{IOModel: gateway.IOModelEventLoop})
	// The pushes go to another gateway, which holds none of these connections.
	cfg := pushTestConfig(srv, servePush(t, other.gw), "shared")
	res, err := runPush(t.Context(), cfg, testLogger(t))
	if !errors.Is(err, ErrFramesLost) {
		t.Fatalf("runPush through a gateway holding none of the connections: %v, want ErrFramesLost", err)
	}
	if res.Missing == 0 || res.Received != 0 {
		t.Errorf("missing %d, received %d: want the gateway's missing ids counted and nothing read", res.Missing, res.Received)
	}
}

func TestPushRefusesBadConfig(t *testing.T) {
	for name, cfg := range map[string]pushConfig{
		"no gateway": {Conns: 1, Rounds: 1, Batch: 1, Lead: 1, InFlight: 1, Bodies: "shared"},
		"bad bodies": {Conns: 1, Rounds: 1, Batch: 1, Lead: 1, InFlight: 1, Bodies: "some", Gateway: "127.0.0.1:1"},
		"no rounds":  {Conns: 1, Batch: 1, Lead: 1, InFlight: 1, Bodies: "shared", Gateway: "127.0.0.1:1"},
	} {
		if _, err := runPush(t.Context(), cfg, testLogger(t)); err == nil {
			t.Errorf("%s: runPush accepted %+v", name, cfg)
		}
	}
}
