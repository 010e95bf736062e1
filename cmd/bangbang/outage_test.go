package main

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bangbang-im/bangbang/core-im/client"
	"github.com/bangbang-im/bangbang/core-im/protocol"
	"github.com/bangbang-im/bangbang/gen/common"
	"github.com/bangbang-im/bangbang/gen/frame"
	"github.com/bangbang-im/bangbang/internal/netfault"
)

// The outage drills of docs/operations.md, on the separate-process topology (logic,
// gateway, edge as processes, PostgreSQL, a Redis of the test's own): each dependency goes
// away while a sender keeps sending and a receiver stays connected.
//
//   - Redis down 30s, restarted without its data: no send fails, a new login is refused
//     as UNAVAILABLE (temporary), and every message acked meanwhile reaches the receiver
//     within redisDeliveryBound of Redis returning (or of its ack, if later).
//   - PostgreSQL cut off for pgOutage (a relay the test cuts): no send fails (the SDK
//     retries UNAVAILABLE with its backoff), every message arrives once, in order.
//   - logic killed (kill -9) and restarted after logicOutage: the same.
const (
	redisOutage        = 30 * time.Second
	redisDeliveryBound = 10 * time.Second
	pgOutage           = 10 * time.Second
	logicOutage        = 5 * time.Second
)

func TestOutageDrills(t *testing.T) {
	if testing.Short() {
		t.Skip("drills take over a minute")
	}
	t.Parallel()
	redisSrv := startRedis(t)
	pgURL, err := url.Parse(pgSchema(t))
	if err != nil {
		t.Fatal(err)
	}
	pgLink := netfault.New(t, pgURL.Host)
	pgURL.Host = pgLink.Addr()
	env := []string{"DATABASE_URL=" + pgURL.String(), "REDIS_ADDR=" + redisSrv.addr}
	dataDir := t.TempDir()
	logicAddr, pushAddr, tcp, edgeAddr := freeAddr(t), freeAddr(t), freeAddr(t), freeAddr(t)
	logicArgs := []string{"logic", "--metrics-addr", "-", "--demo", "--log-level", "debug", "--data-dir", dataDir, "--logic-addr", logicAddr}
	logic := start(t, "logic", env, []string{logicAddr}, logicArgs...)
	start(t, "gateway", nil, []string{tcp, pushAddr}, "gateway", "--metrics-addr", "-", "--log-level", "debug", "--data-dir", dataDir,
		"--logic-addr", logicAddr, "--push-addr", pushAddr, "--tcp-addr", tcp, "--ws-addr", "-")
	start(t, "edge", nil, []string{edgeAddr}, "edge", "--metrics-addr", "-", "--data-dir", dataDir, "--logic-addr", logicAddr,
		"--edge-addr", edgeAddr, "--tcp-addr", tcp)
	s := system{edge: "http://" + edgeAddr, imAddr: tcp}

	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	sender, receiver := dialUser(t, ctx, s, "m1018", "phone"), dialUser(t, ctx, s, "c1018", "phone")
	inbox := collect(receiver, "m1018")
	lateLogin, err := login(ctx, s.edge, "m1019", "demo")
	if err != nil {
		t.Fatal(err)
	}
	d := &drill{t: t, ctx: ctx, sender: sender, to: "c1018", inbox: inbox}
	d.send("warm-up")
	d.waitDelivered(time.Now(), redisDeliveryBound)

	t.Run("redis down 30s", func(t *testing.T) {
		d.t = t
		redisSrv.kill()
		sends := d.sendEvery("redis", 500*time.Millisecond, redisOutage)
		// A new IM login needs the route table: refused as temporary, not INTERNAL.
		wantAuthRefusedTemporary(t, tcp, lateLogin.Token)
		sends.wait()
		redisSrv.restart()
		back := time.Now()
		worst := d.waitDelivered(back, redisDeliveryBound)
		t.Logf("redis down %v: %d sends, 0 failed; worst delay to delivery after Redis returned: %v", redisOutage, sends.n, worst.Round(time.Millisecond))
	})

	t.Run("postgres cut off", func(t *testing.T) {
		d.t = t
		pgLink.Cut()
		sends := d.sendEvery("pg", time.Second, pgOutage)
		time.Sleep(pgOutage) // the outage itself: the drill's scenario, not a synchronisation
		pgLink.Restore()
		sends.wait()
		worst := d.waitDelivered(time.Now(), redisDeliveryBound)
		t.Logf("postgres cut off %v: %d sends, 0 failed; worst delay after it returned: %v", pgOutage, sends.n, worst.Round(time.Millisecond))
	})

	t.Run("logic killed", func(t *testing.T) {
		d.t = t
		logic.kill()
		sends := d.sendEvery("logic", 500*time.Millisecond, logicOutage)
		time.Sleep(logicOutage) // the outage itself
		logic = start(t, "logic-2", env, []string{logicAddr}, logicArgs...)
		sends.wait()
		worst := d.waitDelivered(time.Now(), redisDeliveryBound)
		t.Logf("logic down %v: %d sends, 0 failed; worst delay after it returned: %v", logicOutage, sends.n, worst.Round(time.Millisecond))
	})
	d.t = t
	d.noDuplicates()
}

// drill sends numbered messages and checks each arrives once, in order, in time.
type drill struct {
	t      *testing.T
	ctx    context.Context
	sender *client.Client
	to     string
	inbox  *arrivals

	mu    sync.Mutex
	sent  []string             // in ack order
	acked map[string]time.Time // text -> ack time
}

// send sends text; the SDK retries temporary errors until the drill's context ends, so
// any error is a failed send.
func (d *drill) send(text string) {
	if _, err := d.sender.Send(d.ctx, d.to, "text/plain", []byte(text)); err != nil {
		d.t.Errorf("send %q failed: %v", text, err)
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.acked == nil {
		d.acked = map[string]time.Time{}
	}
	d.sent = append(d.sent, text)
	d.acked[text] = time.Now()
}

type sending struct {
	n  int
	wg sync.WaitGroup
}

func (s *sending) wait() { s.wg.Wait() }

// sendEvery sends one message per period for span, one after another (a user does not
// type the next before the last was sent).
func (d *drill) sendEvery(prefix string, period, span time.Duration) *sending {
	s := &sending{n: int(span / period)}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		tick := time.NewTicker(period)
		defer tick.Stop()
		for i := 1; i <= s.n; i++ {
			d.send(fmt.Sprintf("%s %d", prefix, i))
			<-tick.C
		}
	}()
	return s
}

// waitDelivered waits until every acked message has arrived, and fails if one arrived
// later than bound after max(its ack, since). It returns the worst such delay.
func (d *drill) waitDelivered(since time.Time, bound time.Duration) time.Duration {
	d.t.Helper()
	d.mu.Lock()
	sent := append([]string(nil), d.sent...)
	acked := make(map[string]time.Time, len(d.acked))
	for k, v := range d.acked {
		acked[k] = v
	}
	d.mu.Unlock()
	got := d.inbox.waitFor(d.t, sent, bound+20*time.Second)
	var worst time.Duration
	for _, text := range sent {
		from := acked[text]
		if since.After(from) {
			from = since
		}
		delay := max(got[text].Sub(from), 0)
		if delay > worst {
			worst = delay
		}
		if delay > bound {
			d.t.Errorf("%q delivered %v after it could be (ack or dependency back), bound %v", text, delay.Round(time.Millisecond), bound)
		}
	}
	return worst
}

// noDuplicates checks the receiver got each message once, in send order.
func (d *drill) noDuplicates() {
	d.t.Helper()
	texts := d.inbox.texts()
	d.mu.Lock()
	defer d.mu.Unlock()
	if strings.Join(texts, ",") != strings.Join(d.sent, ",") {
		d.t.Fatalf("receiver got [%s]\nwant exactly [%s]", strings.Join(texts, ","), strings.Join(d.sent, ","))
	}
}

// arrivals records when each message from one sender reached the app.
type arrivals struct {
	mu      sync.Mutex
	order   []string
	at      map[string]time.Time
	changed chan struct{}
}

func collect(c *client.Client, from string) *arrivals {
	a := &arrivals{at: map[string]time.Time{}, changed: make(chan struct{}, 1)}
	go func() {
		for m := range c.Messages() {
			if m.From != from {
				continue
			}
			a.mu.Lock()
			a.order = append(a.order, string(m.Body))
			if _, dup := a.at[string(m.Body)]; !dup {
				a.at[string(m.Body)] = time.Now()
			}
			a.mu.Unlock()
			select {
			case a.changed <- struct{}{}:
			default:
			}
		}
	}()
	return a
}

func (a *arrivals) texts() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.order...)
}

// waitFor waits until every text has arrived and returns their arrival times.
func (a *arrivals) waitFor(t *testing.T, texts []string, within time.Duration) map[string]time.Time {
	t.Helper()
	deadline := time.NewTimer(within)
	defer deadline.Stop()
	for {
		a.mu.Lock()
		var missing []string
		for _, text := range texts {
			if _, ok := a.at[text]; !ok {
				missing = append(missing, text)
			}
		}
		out := make(map[string]time.Time, len(a.at))
		for k, v := range a.at {
			out[k] = v
		}
		a.mu.Unlock()
		if len(missing) == 0 {
			return out
		}
		select {
		case <-a.changed:
		case <-deadline.C:
			t.Fatalf("%d messages not delivered after %v: %v", len(missing), within, missing)
		}
	}
}

// wantAuthRefusedTemporary logs in on a new connection and wants ERROR UNAVAILABLE with
// temporary set, then the close: the SDK reconnects with backoff after it.
func wantAuthRefusedTemporary(t *testing.T, addr, token string) {
	t.Helper()
	r := dialRaw(t, addr)
	r.write(protocol.AppendMessage(nil, protocol.OpAuth, 1, nil, &frame.AuthRequest{Token: token, DeviceId: "late", Platform: "cli"}))
	f, err := r.rd.Next()
	if err != nil {
		t.Fatalf("AUTH during the outage: %v", err)
	}
	var e frame.Error
	if f.Op != protocol.OpError || protocol.DecodeBody(f.Body, &e) != nil || e.Code != int32(common.ErrorCode_UNAVAILABLE) || !e.Temporary {
		t.Fatalf("AUTH during the outage answered op %s %+v, want ERROR UNAVAILABLE temporary", f.Op, &e)
	}
	r.expectClosed()
}

// redisServer is a redis-server of the test's own, which it can kill and start again on
// the same port (without its data, as a restart without persistence does).
type redisServer struct {
	t    *testing.T
	addr string
	cmd  *exec.Cmd
	done chan struct{}
}

func startRedis(t *testing.T) *redisServer {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Fatalf("redis-server not installed (.ci/run installs it): %v", err)
	}
	r := &redisServer{t: t, addr: freeAddr(t)}
	r.restart()
	t.Cleanup(r.kill)
	return r
}

func (r *redisServer) restart() {
	r.t.Helper()
	_, port, _ := net.SplitHostPort(r.addr)
	r.cmd = exec.Command("redis-server", "--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--dir", r.t.TempDir(), "--logfile", "")
	r.done = make(chan struct{})
	if err := r.cmd.Start(); err != nil {
		r.t.Fatalf("start redis-server: %v", err)
	}
	go func(cmd *exec.Cmd, done chan struct{}) { _ = cmd.Wait(); close(done) }(r.cmd, r.done)
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", r.addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("redis-server not listening on %s: %v", r.addr, err)
		}
		time.Sleep(20 * time.Millisecond) // polling the listener
	}
}

func (r *redisServer) kill() {
	if r.cmd == nil || r.cmd.Process == nil {
		return
	}
	_ = r.cmd.Process.Kill()
	<-r.done
}
