package main

import (
	"context"
	"fmt"
	"log/slog"
	"os/exec"
	"slices"
	"testing"
	"time"

	kitexdiscovery "github.com/cloudwego/kitex/pkg/discovery"
	"github.com/cloudwego/kitex/pkg/rpcinfo"

	"github.com/bangbang-im/bangbang/core-im/client"
	"github.com/bangbang-im/bangbang/internal/discovery"
)

// startEtcd runs a one-member etcd (Debian's etcd-server package, which .ci/run installs)
// for the test and returns its client address. Without the package the test is skipped.
func startEtcd(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("etcd")
	if err != nil {
		t.Skip("etcd is not installed (apt-get install etcd-server; .ci/run installs it): the cluster test needs it")
	}
	clientAddr, peer := freeAddr(t), freeAddr(t)
	cmd := exec.Command(bin, "--name", "test", "--data-dir", t.TempDir(),
		"--listen-client-urls", "http://"+clientAddr, "--advertise-client-urls", "http://"+clientAddr,
		"--listen-peer-urls", "http://"+peer, "--initial-advertise-peer-urls", "http://"+peer,
		"--initial-cluster", "test=http://"+peer, "--log-level", "warn")
	startCmd(t, "etcd", cmd, []string{clientAddr})
	return clientAddr
}

// dialAt logs user in through the edge and connects the SDK to the gateway at addr, with
// more gateways to go to when that one is lost.
func dialAt(t *testing.T, ctx context.Context, s system, addr string, more []string, user, device string) *client.Client {
	t.Helper()
	lr, err := login(ctx, s.edge, user, "demo")
	if err != nil {
		t.Fatalf("login %s: %v", user, err)
	}
	c, err := client.Dial(ctx, client.Config{
		Addr: addr, Addrs: more, DeviceID: device,
		Token:        func(ctx context.Context) (string, error) { return lr.Token, nil },
		ReconnectMin: 50 * time.Millisecond, ReconnectMax: 500 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug})).With("client", user+"/"+device),
	})
	if err != nil {
		t.Fatalf("dial %s/%s at %s: %v", user, device, addr, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// registeredNodes lists the addresses etcd holds for service, sorted.
func registeredNodes(ctx context.Context, r kitexdiscovery.Resolver, service string) []string {
	res, err := r.Resolve(ctx, r.Target(ctx, rpcinfo.NewEndpointInfo(service, "", nil, nil)))
	if err != nil {
		return nil // "no instance remains"
	}
	var out []string
	for _, in := range res.Instances {
		out = append(out, in.Address().String())
	}
	slices.Sort(out)
	return out
}

// waitNodes waits until etcd lists exactly want for service.
func waitNodes(ctx context.Context, t *testing.T, r kitexdiscovery.Resolver, service string, want []string, within time.Duration) {
	t.Helper()
	slices.Sort(want)
	deadline := time.Now().Add(within)
	for {
		got := registeredNodes(ctx, r, service)
		if slices.Equal(got, want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("etcd lists %s at %v after %v, want %v", service, got, within, want)
		}
		time.Sleep(100 * time.Millisecond) // polling etcd for a condition, not synchronising on time
	}
}

// TestClusterOnEtcd runs two logic nodes and two gateways as separate processes that find
// each other only through etcd (their --logic-addr points nowhere), on PostgreSQL and
// Redis: users on different gateways chat; a logic node killed with -9 leaves the chat
// going through the other, and a gateway killed with -9 moves its clients to the other
// one, without a lost or doubled message; each dead node drops out of etcd (and out of the
// edge's login answer) when its lease runs out.
func TestClusterOnEtcd(t *testing.T) {
	t.Parallel()
	etcd := startEtcd(t)
	env := []string{"DATABASE_URL=" + pgSchema(t), "REDIS_ADDR=127.0.0.1:6379", "ETCD_ENDPOINTS=" + etcd}
	dataDir := t.TempDir() // shared: the token secret lives there
	nowhere := freeAddr(t) // nothing listens: every logic client must go through etcd
	logicA, logicB := freeAddr(t), freeAddr(t)
	logicArgs := func(addr string) []string {
		return []string{"logic", "--metrics-addr", "-", "--log-level", "debug", "--data-dir", dataDir, "--logic-addr", addr}
	}
	la := start(t, "logic-a", env, []string{logicA}, append(logicArgs(logicA), "--demo")...)
	start(t, "logic-b", env, []string{logicB}, logicArgs(logicB)...)
	var tcp, push [2]string
	var gw [2]*proc
	for i := range 2 {
		tcp[i], push[i] = freeAddr(t), freeAddr(t)
		gw[i] = start(t, fmt.Sprintf("gateway-%d", i+1), env, []string{tcp[i], push[i]}, "gateway", "--metrics-addr", "-", "--log-level", "debug",
			"--data-dir", dataDir, "--logic-addr", nowhere, "--push-addr", push[i], "--tcp-addr", tcp[i], "--ws-addr", "-")
	}
	edgeAddr := freeAddr(t)
	start(t, "edge", env, []string{edgeAddr}, "edge", "--metrics-addr", "-", "--data-dir", dataDir, "--logic-addr", nowhere,
		"--edge-addr", edgeAddr, "--tcp-addr", tcp[0])
	s := system{edge: "http://" + edgeAddr}

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	r, err := discovery.NewResolver(discovery.Config{Endpoints: []string{etcd}})
	if err != nil {
		t.Fatal(err)
	}
	waitNodes(ctx, t, r, discovery.ServiceLogic, []string{logicA, logicB}, 10*time.Second)
	waitNodes(ctx, t, r, discovery.ServiceGateway, []string{push[0], push[1]}, 10*time.Second)

	// The edge names both gateways, from etcd.
	lr, err := login(ctx, s.edge, "m1020", "demo")
	if err != nil {
		t.Fatal(err)
	}
	if got := lr.gateways(); !slices.Equal(slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(tcp[:]))) || lr.IM.TCP != got[0] {
		t.Fatalf("login names gateways %v (first %s), want both of %v", got, lr.IM.TCP, tcp)
	}

	// Users of their own: the Redis route table is shared with any other run on this host.
	// Each knows both gateways, starting on a different one.
	sender := dialAt(t, ctx, s, tcp[0], []string{tcp[1]}, "m1020", "phone")
	receiver := dialAt(t, ctx, s, tcp[1], []string{tcp[0]}, "c1020", "phone")
	send := func(prefix string, n int) []string {
		t.Helper()
		var texts []string
		for i := 1; i <= n; i++ {
			text := fmt.Sprintf("%s %d", prefix, i)
			if _, err := sender.Send(ctx, "c1020", "text/plain", []byte(text)); err != nil {
				t.Fatalf("send %q: %v", text, err)
			}
			texts = append(texts, text)
		}
		return texts
	}
	sent := send("before", 10)
	wantTexts(t, receiveFrom(t, receiver, "m1020", 10), sent...)

	la.kill()
	// The gateways still find logic-a in etcd until its lease runs out; a call that cannot
	// reach it is retried on logic-b.
	sent = send("after", 10)
	wantTexts(t, receiveFrom(t, receiver, "m1020", 10), sent...)
	waitNodes(ctx, t, r, discovery.ServiceLogic, []string{logicB}, discovery.DefaultLeaseTTL+15*time.Second)

	// The sender's gateway dies: the SDK moves to the other one and carries on; what it
	// had acked is there, nothing twice.
	gw[0].kill()
	sent = send("moved", 10)
	wantTexts(t, receiveFrom(t, receiver, "m1020", 10), sent...)
	waitNodes(ctx, t, r, discovery.ServiceGateway, []string{push[1]}, discovery.DefaultLeaseTTL+15*time.Second)
	// The edge reads etcd again once its list is gatewayListTTL old.
	for deadline := time.Now().Add(gatewayListTTL + 5*time.Second); ; {
		lr, err := login(ctx, s.edge, "m1020", "demo")
		if err == nil && slices.Equal(lr.gateways(), []string{tcp[1]}) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("login after the gateway died names %v (%v), want only %s", lr.gateways(), err, tcp[1])
		}
		time.Sleep(200 * time.Millisecond) // polling the edge for a condition, not synchronising on time
	}

	// Nothing more arrives: no message was stored twice.
	sent = send("last", 1)
	wantTexts(t, receiveFrom(t, receiver, "m1020", 1), sent...)
}
