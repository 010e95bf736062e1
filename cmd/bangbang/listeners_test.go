package main

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"regexp"
	"testing"
	"time"
)

// waitMetric polls the /metrics page at addr until series has the value want.
func waitMetric(t *testing.T, addr, series string, want float64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	var got float64
	for time.Now().Before(deadline) {
		if got = metricValue(t, addr, series); got == want {
			return
		}
		time.Sleep(20 * time.Millisecond) // polling a condition, not synchronising on time
	}
	t.Fatalf("%s = %v, want %v", series, got, want)
}

// closedBy reads nc until the server closes it, failing at the deadline.
func closedBy(t *testing.T, nc net.Conn, deadline time.Time) {
	t.Helper()
	_ = nc.SetReadDeadline(deadline)
	_, err := io.Copy(io.Discard, nc)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatal("connection still open at the deadline")
	}
}

// The listener drills against the real binary: a WebSocket upgrade request left
// unfinished is closed at --ws-upgrade-timeout and shows in the gauge meanwhile; the
// connection one past --max-conns-per-addr is closed at accept and counted, and a closed
// connection frees its slot.
func TestListenersCannotBeHeldOpen(t *testing.T) {
	t.Parallel()
	tcp, ws, edgeAddr, adminAddr := freeAddr(t), freeAddr(t), freeAddr(t), freeAddr(t)
	start(t, "all", []string{"BANGBANG_ADMIN_KEY=" + testAdminKey}, []string{tcp, ws, edgeAddr, adminAddr},
		"all", "--demo", "--data-dir", t.TempDir(), "--tcp-addr", tcp, "--ws-addr", ws, "--edge-addr", edgeAddr, "--admin-addr", adminAddr,
		"--sim-housing-addr", freeAddr(t), "--sim-recruitment-addr", freeAddr(t), "--sim-account-addr", freeAddr(t),
		"--ws-upgrade-timeout", "500ms", "--max-conns-per-addr", "4")
	metrics := adminAddr
	s := system{edge: "http://" + edgeAddr, imAddr: tcp, admin: "http://" + adminAddr}

	t.Run("build info", func(t *testing.T) {
		resp, err := http.Get("http://" + metrics + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		line := regexp.MustCompile(`(?m)^bangbang_build_info\{go_version="go[^"]+",revision="[0-9a-f]*",version="[^"]+"\} 1$`).Find(body)
		if line == nil {
			t.Fatalf("no bangbang_build_info{go_version, revision, version} 1 in /metrics:\n%s", regexp.MustCompile(`(?m)^bangbang_build.*$`).FindAll(body, -1))
		}
	})

	t.Run("slow upgrade", func(t *testing.T) {
		nc, err := net.DialTimeout("tcp", ws, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		dialed := time.Now()
		if _, err := io.WriteString(nc, "GET /ws HTTP/1.1\r\nHost: im\r\nUpgrade: websocket\r\n"); err != nil {
			t.Fatal(err)
		}
		waitMetric(t, metrics, `bangbang_gateway_connections{state="upgrading"}`, 1)
		closedBy(t, nc, dialed.Add(3*time.Second))
		if took := time.Since(dialed); took > 1500*time.Millisecond {
			t.Fatalf("closed after %v, want about 500ms", took)
		}
		waitMetric(t, metrics, `bangbang_gateway_connections{state="upgrading"}`, 0)
		waitMetric(t, metrics, `bangbang_gateway_connections_refused_total{reason="upgrade_timeout"}`, 1)
	})

	t.Run("per-address cap", func(t *testing.T) {
		var held []net.Conn
		for range 4 {
			nc, err := net.DialTimeout("tcp", tcp, 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			defer nc.Close()
			held = append(held, nc)
		}
		waitMetric(t, metrics, `bangbang_gateway_connections{state="open"}`, 4)
		over, err := net.DialTimeout("tcp", tcp, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer over.Close()
		closedBy(t, over, time.Now().Add(5*time.Second))
		waitMetric(t, metrics, `bangbang_gateway_connections_refused_total{reason="per_address_cap"}`, 1)

		// One closed: a real client gets in again.
		held[0].Close()
		waitMetric(t, metrics, `bangbang_gateway_connections{state="open"}`, 3)
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		m := dialUser(t, ctx, s, "m1001", "phone")
		if _, err := m.Send(ctx, "c1001", "text/plain", []byte("in under the cap")); err != nil {
			t.Fatal(err)
		}
	})
}
