package gateway

import (
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/bangbang-im/bangbang/tracing/metricstest"
)

// peerClosed reads nc until the server closes it; it fails if nc is still open at the
// deadline.
func peerClosed(nc net.Conn, deadline time.Time) error {
	_ = nc.SetReadDeadline(deadline)
	buf := make([]byte, 512)
	for {
		_, err := nc.Read(buf)
		if err == nil {
			continue
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return errors.New("connection still open at the deadline")
		}
		return nil // EOF or reset: closed by the server
	}
}

// A client that starts an upgrade request and never finishes it (sending a header byte now
// and then) is counted as upgrading, then closed once UpgradeTimeout has passed since its
// accept, however it trickles.
func TestWSSlowUpgradeIsClosedAtTheDeadline(t *testing.T) {
	const timeout = 500 * time.Millisecond
	reg := prometheus.NewRegistry()
	e := start(t, viaWS, func(c *Config) { c.UpgradeTimeout = timeout; c.Metrics = reg })
	nc, err := net.DialTimeout("tcp", e.g.WSAddr().String(), waitTimeout)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	dialed := time.Now()
	if _, err := io.WriteString(nc, "GET /ws HTTP/1.1\r\nHost: gw\r\nUpgrade: websocket\r\n"); err != nil {
		t.Fatal(err)
	}
	e.eventually(t, "the connection counted as upgrading", func() bool { return e.g.Stats().Upgrading == 1 })
	metricstest.Want(t, reg, map[string]float64{
		`bangbang_gateway_connections{state="open"}`:          0,
		`bangbang_gateway_connections{state="authenticated"}`: 0,
		`bangbang_gateway_connections{state="upgrading"}`:     1,
	})
	// Trickle a header byte every 100ms: each read makes progress, none ends the request.
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	closed := make(chan error, 1)
	go func() { closed <- peerClosed(nc, dialed.Add(timeout+3*time.Second)) }()
	for trickling := true; trickling; {
		select {
		case err := <-closed:
			if err != nil {
				t.Fatal(err)
			}
			trickling = false
		case <-tick.C:
			_, _ = nc.Write([]byte("X"))
		}
	}
	if took := time.Since(dialed); took > timeout+time.Second {
		t.Fatalf("closed %v after the dial, want about %v", took, timeout)
	}
	e.eventually(t, "the upgrading gauge back to 0", func() bool { return e.g.Stats().Upgrading == 0 })
	metricstest.Want(t, reg, map[string]float64{
		`bangbang_gateway_connections_refused_total{reason="per_address_cap"}`:  0,
		`bangbang_gateway_connections_refused_total{reason="upgrade_timeout"}`:  1,
		`bangbang_gateway_connections_refused_total{reason="logins_in_flight"}`: 0,
	})
	// An upgrade that completes in time still works, and leaves the gauge.
	c := e.dial(t)
	c.login(e, "m1001", "web")
	if s := e.g.Stats(); s.Upgrading != 0 || s.Open != 1 {
		t.Fatalf("after an upgrade: %+v", s)
	}
}

// N connections from one address are served; the next is closed at accept and counted;
// closing one frees its slot.
func TestPerAddressConnectionCap(t *testing.T) {
	const max = 3
	for _, via := range transports {
		t.Run(via, func(t *testing.T) {
			reg := prometheus.NewRegistry()
			e := start(t, via, func(c *Config) { c.MaxConnsPerAddr = max; c.Metrics = reg })
			var held []*client
			for range max {
				held = append(held, e.dial(t))
			}
			e.eventually(t, "every connection counted", func() bool { return e.g.Stats().Open == max })

			// One more: accepted by the kernel, closed by the gateway without a word.
			e.refused(t)
			e.eventually(t, "the refusal counted", func() bool { return e.g.Stats().RefusedAddrCap == 1 })
			metricstest.Want(t, reg, map[string]float64{
				`bangbang_gateway_connections_refused_total{reason="per_address_cap"}`:  1,
				`bangbang_gateway_connections_refused_total{reason="upgrade_timeout"}`:  0,
				`bangbang_gateway_connections_refused_total{reason="logins_in_flight"}`: 0,
			})
			// Those within the cap are served.
			held[0].login(e, "m1001", "phone")

			// A closed connection gives its slot back.
			held[1].close()
			e.eventually(t, "the closed connection's slot freed", func() bool {
				return e.g.addrs.open(&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)}) == max-1
			})
			c := e.dial(t)
			c.login(e, "m1002", "phone")
			if s := e.g.Stats(); s.RefusedAddrCap != 1 {
				t.Fatalf("refused %d, want 1", s.RefusedAddrCap)
			}
		})
	}
}

// refused dials one connection that the gateway must close at once.
func (e *env) refused(t *testing.T) {
	t.Helper()
	if e.via == viaWS {
		ws, err := dialWSClient(e.g.WSAddr().String(), WSPath)
		if err == nil {
			ws.close()
			t.Fatal("upgrade past the per-address cap succeeded")
		}
		return
	}
	nc, err := net.DialTimeout("tcp", e.g.TCPAddr().String(), waitTimeout)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	if err := peerClosed(nc, time.Now().Add(waitTimeout)); err != nil {
		t.Fatal(err)
	}
}

func TestAddrKey(t *testing.T) {
	for _, tc := range []struct {
		addr net.Addr
		want string
	}{
		{&net.TCPAddr{IP: net.ParseIP("192.0.2.7"), Port: 1}, "192.0.2.7"},
		{&net.TCPAddr{IP: net.ParseIP("::ffff:192.0.2.7"), Port: 1}, "192.0.2.7"},
		{&net.TCPAddr{IP: net.ParseIP("2001:db8:1:2:3:4:5:6"), Port: 1}, "2001:db8:1:2::"},
		{&net.TCPAddr{IP: net.ParseIP("2001:db8:1:2:ffff::1"), Port: 9}, "2001:db8:1:2::"},
	} {
		got, ok := addrKey(tc.addr)
		if !ok || got.String() != tc.want {
			t.Errorf("addrKey(%v) = %v %v, want %s", tc.addr, got, ok, tc.want)
		}
	}
	if _, ok := addrKey(&net.UnixAddr{Name: "/tmp/s", Net: "unix"}); ok {
		t.Error("a Unix address has a key")
	}
}
