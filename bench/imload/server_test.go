package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bangbang-im/bangbang/core-im/auth"
	"github.com/bangbang-im/bangbang/core-im/gateway"
	"github.com/bangbang-im/bangbang/core-im/logic"
	"github.com/bangbang-im/bangbang/core-im/router"
	"github.com/bangbang-im/bangbang/core-im/store"
	gatewaygen "github.com/bangbang-im/bangbang/gen/gateway"
	"github.com/bangbang-im/bangbang/marketing/edge"
)

// testServer is the real IM path the load program measures: edge, gateway and logic over
// a SQLite store, wired in this process as `bangbang all` wires them.
type testServer struct {
	edge string // base URL
	addr string // IM TCP
	gw   *gateway.Gateway
}

// lateGateway resolves the one node to the gateway, which exists only after logic.
type lateGateway struct {
	gw atomic.Pointer[gateway.Gateway]
}

func (l *lateGateway) Gateway(node string) (gatewaygen.GatewayService, error) {
	gw := l.gw.Load()
	if gw == nil || node != "local" {
		return nil, fmt.Errorf("no gateway %q", node)
	}
	return gw, nil
}

// startServer runs a server with demo users m1001…, c1001… (n of each, password demo)
// until the test ends. gc sets the gateway's tuning; its addresses are chosen here.
func startServer(t testing.TB, users int, gc gateway.Config) testServer {
	t.Helper()
	ctx := t.Context()
	log := slog.New(slog.DiscardHandler)
	st, err := store.OpenSQLite(ctx, filepath.Join(t.TempDir(), "im.db"), store.Options{})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	hash, err := auth.HashPassword("demo")
	if err != nil {
		t.Fatal(err)
	}
	merchants, customers := demoUsers(users)
	for i := range merchants {
		for _, u := range []store.User{{ID: merchants[i], Kind: "merchant", PasswordHash: hash}, {ID: customers[i], Kind: "customer", PasswordHash: hash}} {
			if _, err := st.PutUserIfAbsent(ctx, u); err != nil {
				t.Fatalf("seed %s: %v", u.ID, err)
			}
		}
	}
	rt := router.NewMemory(router.MemoryOptions{})
	t.Cleanup(func() { rt.Close() })
	tk, err := auth.NewTokens([]byte("0123456789abcdef0123456789abcdef"), time.Hour, nil)
	if err != nil {
		t.Fatal(err)
	}
	gws := &lateGateway{}
	svc := logic.New(logic.Config{}, st, rt, gws, log)
	t.Cleanup(svc.Close)
	gc.TCPAddr, gc.WSAddr, gc.Node = "127.0.0.1:0", gateway.Disabled, "local"
	gw, err := gateway.New(gc, svc, tk, log)
	if err != nil {
		t.Fatal(err)
	}
	gws.gw.Store(gw)
	if err := gw.Start(); err != nil {
		t.Fatalf("start gateway: %v", err)
	}
	t.Cleanup(func() { shutdown(t, gw.Shutdown) })
	ed := edge.New(edge.Config{Addr: "127.0.0.1:0", IMTCP: gw.TCPAddr().String()}, edge.Deps{Logic: svc, Tokens: tk, Logger: log})
	if err := ed.Start(); err != nil {
		t.Fatalf("start edge: %v", err)
	}
	t.Cleanup(func() { shutdown(t, ed.Shutdown) })
	srv := testServer{edge: "http://" + ed.Addr().String(), addr: gw.TCPAddr().String(), gw: gw}
	waitHealthy(t, srv.edge)
	return srv
}

func shutdown(t testing.TB, stop func(context.Context) error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := stop(ctx); err != nil {
		t.Errorf("shutdown: %v", err)
	}
}

// waitHealthy waits until the edge answers, within a deadline.
func waitHealthy(t testing.TB, edgeURL string) {
	t.Helper()
	hc := &http.Client{Timeout: time.Second}
	defer hc.CloseIdleConnections()
	err := waitFor(t.Context(), time.Now().Add(10*time.Second), func() bool {
		resp, err := hc.Get(edgeURL + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	if err != nil {
		t.Fatalf("edge not healthy: %v", err)
	}
}

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
}
