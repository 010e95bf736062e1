package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	kitexdiscovery "github.com/cloudwego/kitex/pkg/discovery"
	"github.com/cloudwego/kitex/pkg/rpcinfo"
	"github.com/redis/go-redis/v9"

	"github.com/bangbang-im/bangbang/core-im/auth"
	"github.com/bangbang-im/bangbang/core-im/client"
	"github.com/bangbang-im/bangbang/core-im/router"
	"github.com/bangbang-im/bangbang/internal/discovery"
	"github.com/bangbang-im/bangbang/internal/netfault"
	"github.com/bangbang-im/bangbang/marketing/campaign"
)

// etcdNode is a one-member etcd (Debian's etcd-server package, which .ci/run installs) run
// for a test; it can be killed and started again at the same address.
type etcdNode struct {
	t                 *testing.T
	bin, client, peer string
	dataDir           string
	p                 *proc
}

// startEtcd starts an etcd for the test on dataDir ("" for a new one). Without the package
// the test is skipped.
func startEtcd(t *testing.T) *etcdNode {
	t.Helper()
	bin, err := exec.LookPath("etcd")
	if err != nil {
		t.Skip("etcd is not installed (apt-get install etcd-server; .ci/run installs it): the cluster test needs it")
	}
	e := &etcdNode{t: t, bin: bin, client: freeAddr(t), peer: freeAddr(t)}
	e.start("")
	return e
}

// start runs etcd on dataDir, or on a new, empty one when dataDir is "".
func (e *etcdNode) start(dataDir string) string {
	e.t.Helper()
	if dataDir == "" {
		dataDir = e.t.TempDir()
	}
	e.dataDir = dataDir
	cmd := exec.Command(e.bin, "--name", "test", "--data-dir", dataDir,
		"--listen-client-urls", "http://"+e.client, "--advertise-client-urls", "http://"+e.client,
		"--listen-peer-urls", "http://"+e.peer, "--initial-advertise-peer-urls", "http://"+e.peer,
		"--initial-cluster", "test=http://"+e.peer, "--log-level", "warn")
	e.p = startCmd(e.t, "etcd", cmd, []string{e.client})
	return dataDir
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
	want = slices.Sorted(slices.Values(want))
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

// cluster is two logic nodes, two gateways and an edge as processes that find each other
// only through etcd (their --logic-addr points nowhere), on PostgreSQL and Redis, with
// demo users up to m1030 and c1030.
type cluster struct {
	etcd      *etcdNode
	redis     *redisServer            // with ownDeps: a Redis of the test's own, to kill
	pg        *netfault.Link          // with ownDeps: the relay to PostgreSQL, to cut
	r         kitexdiscovery.Resolver // reads etcd as the nodes do
	logic     [2]*proc
	logicAddr [2]string
	gw        [2]*proc
	gwArgs    [2][]string
	tcp, push [2]string
	s         system
}

// clusterHeartbeat is the cluster's --heartbeat-interval: routes live 3 of them, so a dead
// gateway's routes expire within a test's patience.
const clusterHeartbeat = time.Second

// startCluster starts it on the shared Redis and PostgreSQL, or, with ownDeps, on a Redis
// of its own and through a relay to PostgreSQL that the test can cut.
func startCluster(t *testing.T, ownDeps bool) *cluster {
	t.Helper()
	c := &cluster{etcd: startEtcd(t)}
	db, redisAddr := pgSchema(t), "127.0.0.1:6379"
	if ownDeps {
		c.redis = startRedis(t)
		redisAddr = c.redis.addr
		u, err := url.Parse(db)
		if err != nil {
			t.Fatal(err)
		}
		c.pg = netfault.New(t, u.Host)
		u.Host = c.pg.Addr()
		db = u.String()
	}
	env := []string{"DATABASE_URL=" + db, "REDIS_ADDR=" + redisAddr, "ETCD_ENDPOINTS=" + c.etcd.client}
	dataDir := t.TempDir() // shared: the token secret lives there
	nowhere := freeAddr(t) // nothing listens: every logic client must go through etcd
	for i := range 2 {
		c.logicAddr[i] = freeAddr(t)
		args := []string{"logic", "--metrics-addr", "-", "--log-level", "debug", "--data-dir", dataDir, "--logic-addr", c.logicAddr[i],
			"--heartbeat-interval", clusterHeartbeat.String()}
		if i == 0 {
			args = append(args, "--demo", "--demo-users", "30")
		}
		c.logic[i] = start(t, fmt.Sprintf("logic-%d", i+1), env, []string{c.logicAddr[i]}, args...)
	}
	for i := range 2 {
		c.tcp[i], c.push[i] = freeAddr(t), freeAddr(t)
		c.gwArgs[i] = []string{"gateway", "--metrics-addr", "-", "--log-level", "debug", "--heartbeat-interval", clusterHeartbeat.String(),
			"--data-dir", dataDir, "--logic-addr", nowhere, "--push-addr", c.push[i], "--tcp-addr", c.tcp[i], "--ws-addr", "-"}
		c.gw[i] = start(t, fmt.Sprintf("gateway-%d", i+1), env, []string{c.tcp[i], c.push[i]}, c.gwArgs[i]...)
	}
	edgeAddr := freeAddr(t)
	start(t, "edge", env, []string{edgeAddr}, "edge", "--metrics-addr", "-", "--data-dir", dataDir, "--logic-addr", nowhere,
		"--edge-addr", edgeAddr, "--tcp-addr", c.tcp[0])
	c.s = system{edge: "http://" + edgeAddr}
	var err error
	if c.r, err = discovery.NewResolver(discovery.Config{Endpoints: []string{c.etcd.client}}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	waitNodes(ctx, t, c.r, discovery.ServiceLogic, c.logicAddr[:], 10*time.Second)
	waitNodes(ctx, t, c.r, discovery.ServiceGateway, c.push[:], 10*time.Second)
	return c
}

// chat sends n messages from sender to receiver (user to) and checks they arrive once,
// in order.
func chat(t *testing.T, ctx context.Context, sender, receiver *client.Client, from, to, prefix string, n int) {
	t.Helper()
	sent := sendTexts(t, ctx, sender, to, prefix, n) // before receiving: arguments run in order
	wantTexts(t, receiveFrom(t, receiver, from, n), sent...)
}

// sendTexts sends n messages "prefix i" to user to, each acked (stored) before the next.
func sendTexts(t *testing.T, ctx context.Context, sender *client.Client, to, prefix string, n int) []string {
	t.Helper()
	var texts []string
	for i := 1; i <= n; i++ {
		text := fmt.Sprintf("%s %d", prefix, i)
		if _, err := sender.Send(ctx, to, "text/plain", []byte(text)); err != nil {
			t.Fatalf("send %q: %v", text, err)
		}
		texts = append(texts, text)
	}
	return texts
}

// TestClusterOnEtcd runs two logic nodes and two gateways as separate processes that find
// each other only through etcd (their --logic-addr points nowhere), on PostgreSQL and
// Redis: users on different gateways chat; a logic node killed with -9 leaves the chat
// going through the other, and a gateway killed with -9 moves its clients to the other
// one, without a lost or doubled message; each dead node drops out of etcd (and out of the
// edge's login answer) when its lease runs out.
func TestClusterOnEtcd(t *testing.T) {
	t.Parallel()
	c := startCluster(t, false)
	s, tcp := c.s, c.tcp
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

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
	chat(t, ctx, sender, receiver, "m1020", "c1020", "before", 10)

	c.logic[0].kill()
	// The gateways still find logic-1 in etcd until its lease runs out; a call that cannot
	// reach it is made again, on whichever node the balancer picks.
	chat(t, ctx, sender, receiver, "m1020", "c1020", "after", 10)
	waitNodes(ctx, t, c.r, discovery.ServiceLogic, c.logicAddr[1:], discovery.DefaultLeaseTTL+15*time.Second)

	// The sender's gateway dies: the SDK moves to the other one and carries on; what it
	// had acked is there, nothing twice. A second device of the sender that knew only that
	// gateway does not come back: its route expires (3 heartbeat intervals).
	stale := dialAt(t, ctx, s, tcp[0], nil, "m1020", "tablet")
	c.gw[0].kill()
	stale.Close()
	chat(t, ctx, sender, receiver, "m1020", "c1020", "moved", 10)
	routes := router.NewRedis(redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"}), router.RedisOptions{})
	defer routes.Close()
	for deadline := time.Now().Add(3*clusterHeartbeat + 10*time.Second); ; {
		found, err := routes.Lookup(ctx, []string{"m1020"})
		if err != nil {
			t.Fatal(err)
		}
		if rs := found["m1020"]; len(rs) == 1 && rs[0].DeviceID == "phone" && rs[0].Node == c.push[1] {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("m1020's routes %+v after the gateway died, want only the phone's on %s (the tablet's expired)", rs, c.push[1])
		}
		time.Sleep(100 * time.Millisecond) // polling the route table for a condition, not synchronising on time
	}
	waitNodes(ctx, t, c.r, discovery.ServiceGateway, c.push[1:], discovery.DefaultLeaseTTL+15*time.Second)
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
	chat(t, ctx, sender, receiver, "m1020", "c1020", "last", 1)
}

// TestClusterDrills performs, on the etcd cluster, what an operator's day brings: the
// same device logging in on the other gateway (the first session is kicked there), a
// gateway drained for a deploy (its clients move to the other gateway, nothing lost),
// etcd killed, then back with its data, then back empty (the chat never stops, logins
// keep naming the gateways, and every node is registered again), Redis killed and back
// empty, and PostgreSQL cut off for 3 s: every message sent arrives once, in order.
func TestClusterDrills(t *testing.T) {
	t.Parallel()
	c := startCluster(t, true)
	s, tcp := c.s, c.tcp
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	// Same device, other gateway: the older session is kicked (REPLACED) by its gateway.
	first := dialAt(t, ctx, s, tcp[0], nil, "m1021", "tablet")
	dialAt(t, ctx, s, tcp[1], nil, "m1021", "tablet")
	select {
	case <-first.Done():
		if !errors.Is(first.Err(), client.ErrKicked) {
			t.Fatalf("first session ended with %v, want ErrKicked", first.Err())
		}
	case <-ctx.Done():
		t.Fatal("the first session of m1021/tablet was not kicked when the device logged in on the other gateway")
	}

	// A deploy: gateway-2 drains (SIGTERM) under its client, which moves to gateway-1.
	sender := dialAt(t, ctx, s, tcp[0], []string{tcp[1]}, "m1022", "phone")
	receiver := dialAt(t, ctx, s, tcp[1], []string{tcp[0]}, "c1022", "phone")
	chat(t, ctx, sender, receiver, "m1022", "c1022", "before drain", 5)
	c.gw[1].stop()
	chat(t, ctx, sender, receiver, "m1022", "c1022", "after drain", 5)
	c.gw[1] = start(t, "gateway-2b", []string{"ETCD_ENDPOINTS=" + c.etcd.client}, []string{tcp[1]}, c.gwArgs[1]...)
	waitNodes(ctx, t, c.r, discovery.ServiceGateway, c.push[:], 10*time.Second)

	// etcd dies: the nodes keep what they resolved, the chat goes on, logins still name
	// the gateways (the edge's last list).
	dataDir := c.etcd.dataDir
	c.etcd.p.kill()
	chat(t, ctx, sender, receiver, "m1022", "c1022", "etcd down", 5)
	if lr, err := login(ctx, s.edge, "m1022", "demo"); err != nil || len(lr.gateways()) != 2 {
		t.Fatalf("login with etcd down: %v (%v), want both gateways", lr.gateways(), err)
	}
	// Back with its data: the leases it kept are renewed.
	c.etcd.start(dataDir)
	waitNodes(ctx, t, c.r, discovery.ServiceLogic, c.logicAddr[:], 20*time.Second)
	waitNodes(ctx, t, c.r, discovery.ServiceGateway, c.push[:], 20*time.Second)
	chat(t, ctx, sender, receiver, "m1022", "c1022", "etcd back", 5)
	// Back empty (a lost member replaced): every node registers again by itself.
	c.etcd.p.kill()
	c.etcd.start("")
	waitNodes(ctx, t, c.r, discovery.ServiceLogic, c.logicAddr[:], 20*time.Second)
	waitNodes(ctx, t, c.r, discovery.ServiceGateway, c.push[:], 20*time.Second)
	chat(t, ctx, sender, receiver, "m1022", "c1022", "etcd empty", 5)

	// Redis (the route table) dies and comes back empty: sends are stored meanwhile, the
	// gateways register their connections again (or ask them to reconnect), and every
	// message reaches the receiver once, in order.
	c.redis.kill()
	during := sendTexts(t, ctx, sender, "c1022", "redis down", 3) // stored, not pushed yet
	c.redis.restart()
	wantTexts(t, receiveFrom(t, receiver, "m1022", 3), during...)
	chat(t, ctx, sender, receiver, "m1022", "c1022", "redis back", 3)

	// PostgreSQL cut off for a moment: sends answered UNAVAILABLE (temporary) are resent
	// by the SDK and stored once each.
	c.pg.Cut()
	cutOff := time.AfterFunc(3*time.Second, c.pg.Restore)
	defer cutOff.Stop()
	chat(t, ctx, sender, receiver, "m1022", "c1022", "postgres cut", 3)
	chat(t, ctx, sender, receiver, "m1022", "c1022", "last", 1)
}

// TestLocalClusterScript brings deploy/local/cluster.sh's cluster up on its own loopback
// addresses, checks what the script promises (every process ready, login naming both
// gateways, users on different gateways chatting), and brings it down again.
func TestLocalClusterScript(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("etcd"); err != nil {
		t.Skip("etcd is not installed (apt-get install etcd-server; .ci/run installs it): the cluster script needs it")
	}
	const net = "127.0.3"
	dir, db := t.TempDir(), pgSchema(t)
	script := func(args ...string) string {
		t.Helper()
		cmd := exec.Command("../../deploy/local/cluster.sh", args...)
		cmd.Env = append(cleanEnv(), "CLUSTER_NET="+net, "CLUSTER_DIR="+dir, "CLUSTER_BIN="+binary,
			"DATABASE_URL="+db, "REDIS_ADDR=127.0.0.1:6379", "BANGBANG_ADMIN_KEY="+testAdminKey)
		out, err := cmd.CombinedOutput()
		if err != nil {
			logs, _ := exec.Command("sh", "-c", "tail -n 20 "+dir+"/*.log").CombinedOutput()
			t.Fatalf("cluster.sh %v: %v\n%s\n%s", args, err, out, logs)
		}
		return string(out)
	}
	t.Cleanup(func() { script("down") })
	script("up")
	status := script("status")
	for _, name := range []string{"etcd", "sim", "logic-1", "logic-2", "gateway-1", "gateway-2", "edge", "admin", "campaign"} {
		if !strings.Contains(status, name+": ready") && !strings.Contains(status, name+": running (") {
			t.Errorf("status does not show %s up:\n%s", name, status)
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s := system{edge: "http://" + net + ".1:8700"}
	gws := []string{net + ".21:8800", net + ".22:8800"}
	lr, err := login(ctx, s.edge, "m1015", "demo")
	if err != nil {
		t.Fatal(err)
	}
	if got := lr.gateways(); !slices.Equal(slices.Sorted(slices.Values(got)), gws) {
		t.Fatalf("login names gateways %v, want %v", got, gws)
	}
	sender := dialAt(t, ctx, s, gws[0], gws[1:], "m1015", "phone")
	receiver := dialAt(t, ctx, s, gws[1], gws[:1], "c1015", "phone")
	if _, err := sender.Send(ctx, "c1015", "text/plain", []byte("across the cluster")); err != nil {
		t.Fatal(err)
	}
	wantTexts(t, receiveFrom(t, receiver, "m1015", 1), "across the cluster")

	// A campaign, run by the campaign worker (which finds logic through etcd), reaches
	// merchants on both gateways once each.
	api := staffAPI{t, "http://" + net + ".1:8701"}
	var rep campaign.ImportReport
	if st := api.call("POST", "/admin/v1/merchants/import", "text/csv", strings.NewReader("id,name,tags\nk0001,Shop 1,cluster\nk0002,Shop 2,cluster\n"), &rep); st != 200 || rep.Created != 2 {
		t.Fatalf("import: %d %+v", st, rep)
	}
	secret, err := os.ReadFile(filepath.Join(dir, "data", "token.secret"))
	if err != nil {
		t.Fatal(err)
	}
	tk, err := auth.NewTokens([]byte(strings.TrimSpace(string(secret))), time.Hour, nil)
	if err != nil {
		t.Fatal(err)
	}
	var camp campaign.Campaign
	spec := campaign.Spec{Name: "both gateways", Rate: 100, Audience: campaign.Audience{Segment: &campaign.Segment{Tags: []string{"cluster"}}},
		Message: campaign.Message{Title: "Hi {{.Name}}", Body: "From the cluster"}}
	if st := api.json("POST", "/admin/v1/campaigns", spec, &camp); st != 201 {
		t.Fatalf("create: %d", st)
	}
	inboxes := []*campaignInbox{
		watchInbox(dialMerchant(t, system{imAddr: gws[0]}, tk, "k0001"), camp.ID),
		watchInbox(dialMerchant(t, system{imAddr: gws[1]}, tk, "k0002"), camp.ID),
	}
	if st := api.json("POST", "/admin/v1/campaigns/"+camp.ID+"/start", nil, &camp); st != 200 {
		t.Fatalf("start: %d", st)
	}
	for i, in := range inboxes {
		if m := in.first(t); !strings.Contains(string(m.Body), fmt.Sprintf(`"title":"Hi Shop %d"`, i+1)) {
			t.Fatalf("k000%d got %s", i+1, m.Body)
		}
	}
	done := api.waitCampaign(camp.ID, "finished and delivered to both", func(c campaign.Campaign) bool {
		return c.State == campaign.StateFinished && c.Stats.Delivered == 2
	})
	if done.Stats.Sent != 2 || inboxes[0].count() != 1 || inboxes[1].count() != 1 {
		t.Fatalf("stats %+v; shown %d and %d times", done.Stats, inboxes[0].count(), inboxes[1].count())
	}

	sender.Close()
	receiver.Close()
	script("down")
	if status := script("status"); strings.Count(status, ": stopped") != 9 {
		t.Errorf("after down:\n%s", status)
	}
}
