package main

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"
)

// link is a TCP relay to a dependency (PostgreSQL, Redis) that a test cuts, as a network
// partition or a restart would: open connections drop, new ones are refused until
// restored. The shared servers behind it are never touched.
type link struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	down   bool
	conns  []net.Conn
	wg     sync.WaitGroup
}

func newLink(t *testing.T, target string) *link {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := &link{ln: ln, target: target}
	l.wg.Add(1)
	go l.accept()
	t.Cleanup(func() {
		ln.Close()
		l.cut()
		l.wg.Wait()
	})
	return l
}

func (l *link) addr() string { return l.ln.Addr().String() }

func (l *link) accept() {
	defer l.wg.Done()
	for {
		c, err := l.ln.Accept()
		if err != nil {
			return
		}
		l.mu.Lock()
		if l.down {
			l.mu.Unlock()
			c.Close()
			continue
		}
		up, err := net.DialTimeout("tcp", l.target, time.Second)
		if err != nil {
			l.mu.Unlock()
			c.Close()
			continue
		}
		l.conns = append(l.conns, c, up)
		l.wg.Add(2)
		l.mu.Unlock()
		go l.pipe(up, c)
		go l.pipe(c, up)
	}
}

func (l *link) pipe(dst, src net.Conn) {
	defer l.wg.Done()
	_, _ = io.Copy(dst, src)
	dst.Close()
	src.Close()
}

func (l *link) cut() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.down = true
	for _, c := range l.conns {
		c.Close()
	}
	l.conns = nil
}

func (l *link) restore() {
	l.mu.Lock()
	l.down = false
	l.mu.Unlock()
}

type readiness struct {
	Status string            `json:"status"`
	Checks map[string]string `json:"checks"`
}

// waitReady polls url until it answers status with the dependency check in state
// (any state but "ok" when state is "down").
func waitReady(t *testing.T, url string, status int, check, state string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	var last string
	for time.Now().Before(deadline) {
		resp, err := http.Get(url)
		if err == nil {
			var r readiness
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			last = string(b)
			_ = json.Unmarshal(b, &r)
			got := r.Checks[check]
			if resp.StatusCode == status && (got == state || state == "down" && got != "" && got != "ok") {
				return
			}
		}
		time.Sleep(50 * time.Millisecond) // polling a condition, not synchronising on time
	}
	t.Fatalf("%s: want %d with %s %s; last answer %s", url, status, check, state, last)
}

// logic's /readyz follows its store and its route table: 503 naming the store while
// PostgreSQL is cut off, 503 naming the routes while Redis is, 200 again once each is
// back; /healthz (liveness) stays 200 throughout. A gateway's /readyz follows logic.
func TestReadyzFollowsDependencies(t *testing.T) {
	t.Parallel()
	u, err := url.Parse(pgSchema(t))
	if err != nil {
		t.Fatal(err)
	}
	pg := newLink(t, u.Host)
	u.Host = pg.addr()
	redisTarget := os.Getenv("BANGBANG_TEST_REDIS_ADDR")
	if redisTarget == "" {
		redisTarget = "127.0.0.1:6379"
	}
	rd := newLink(t, redisTarget)

	logicAddr, logicMetrics := freeAddr(t), freeAddr(t)
	lp := start(t, "logic", []string{"DATABASE_URL=" + u.String(), "REDIS_ADDR=" + rd.addr()}, []string{logicAddr, logicMetrics},
		"logic", "--data-dir", t.TempDir(), "--logic-addr", logicAddr, "--metrics-addr", logicMetrics)
	ready, live := "http://"+logicMetrics+"/readyz", "http://"+logicMetrics+"/healthz"
	waitReady(t, ready, 200, "store", "ok")
	waitReady(t, ready, 200, "routes", "ok")

	gwMetrics := freeAddr(t)
	start(t, "gateway", nil, []string{gwMetrics}, "gateway", "--data-dir", t.TempDir(), "--token-secret", testTokenSecret,
		"--logic-addr", logicAddr, "--tcp-addr", freeAddr(t), "--ws-addr", "-", "--push-addr", freeAddr(t), "--metrics-addr", gwMetrics)
	gwReady := "http://" + gwMetrics + "/readyz"
	waitReady(t, gwReady, 200, "logic", "ok")

	pg.cut()
	waitReady(t, ready, 503, "store", "down")
	if code := httpGet(t, live); code != 200 {
		t.Fatalf("healthz %d while PostgreSQL is down", code)
	}
	pg.restore()
	waitReady(t, ready, 200, "store", "ok")

	rd.cut()
	waitReady(t, ready, 503, "routes", "down")
	rd.restore()
	waitReady(t, ready, 200, "routes", "ok")

	lp.kill()
	waitReady(t, gwReady, 503, "logic", "down")
}
