package main

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"
)

// TestSeparateProcessesSurviveGatewayCrash runs logic, a gateway and the edge as three
// processes talking Kitex, on PostgreSQL and Redis, then kills the gateway mid-conversation
// and starts a new one: every message the sender had acked reaches the receiver, in order,
// once.
func TestSeparateProcessesSurviveGatewayCrash(t *testing.T) {
	t.Parallel()
	env := []string{"DATABASE_URL=" + pgSchema(t), "REDIS_ADDR=127.0.0.1:6379"}
	dataDir := t.TempDir() // shared: the token secret lives there
	logicAddr, pushAddr, tcp, edgeAddr := freeAddr(t), freeAddr(t), freeAddr(t), freeAddr(t)

	start(t, "logic", env, []string{logicAddr}, "logic", "--metrics-addr", "-", "--demo", "--log-level", "debug", "--data-dir", dataDir, "--logic-addr", logicAddr)
	gatewayArgs := []string{"gateway", "--metrics-addr", "-", "--log-level", "debug", "--data-dir", dataDir, "--logic-addr", logicAddr, "--push-addr", pushAddr,
		"--tcp-addr", tcp, "--ws-addr", "-"}
	gw := start(t, "gateway", nil, []string{tcp, pushAddr}, gatewayArgs...)
	start(t, "edge", nil, []string{edgeAddr}, "edge", "--metrics-addr", "-", "--data-dir", dataDir, "--logic-addr", logicAddr,
		"--edge-addr", edgeAddr, "--tcp-addr", tcp)
	s := system{edge: "http://" + edgeAddr, imAddr: tcp}

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	// Users of their own: the Redis route table is shared with any other run on this host.
	sender, receiver := dialUser(t, ctx, s, "m1017", "phone"), dialUser(t, ctx, s, "c1017", "phone")

	var want []string
	for i := 1; i <= 5; i++ {
		text := fmt.Sprintf("before %d", i)
		if _, err := sender.Send(ctx, "c1017", "text/plain", []byte(text)); err != nil {
			t.Fatal(err)
		}
		want = append(want, text)
	}
	wantTexts(t, receiveFrom(t, receiver, "m1017", 5), want...)

	gw.kill()
	// While the gateway is down the sender keeps sending; the SDK retries each message with
	// its client id until a gateway acks it.
	var wg sync.WaitGroup
	errs := make(chan error, 5)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 1; i <= 5; i++ {
			if _, err := sender.Send(ctx, "c1017", "text/plain", []byte(fmt.Sprintf("during %d", i))); err != nil {
				errs <- err
				return
			}
		}
	}()
	start(t, "gateway-2", nil, []string{tcp, pushAddr}, gatewayArgs...)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("send across the crash: %v", err)
	}
	var after []string
	for i := 1; i <= 5; i++ {
		after = append(after, fmt.Sprintf("during %d", i))
	}
	wantTexts(t, receiveFrom(t, receiver, "m1017", 5), after...)

	// Nothing more arrives: no message was stored twice.
	if _, err := sender.Send(ctx, "c1017", "text/plain", []byte("last")); err != nil {
		t.Fatal(err)
	}
	wantTexts(t, receiveFrom(t, receiver, "m1017", 1), "last")
}
