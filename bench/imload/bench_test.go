package main

import (
	"log/slog"
	"runtime"
	"testing"
	"time"

	"github.com/bangbang-im/bangbang/core-im/gateway"
)

// BenchmarkIdleConnMemory attributes what an idle authenticated connection costs the real
// gateway, per I/O model: live heap and goroutine stack per connection after a GC, which
// the server's RSS (imload idle) cannot tell apart from garbage awaiting collection. The
// connections' client side lives in this process too and is included in heap-B/conn (a
// socket and a few words, about 0.4 KB); it has no goroutine per connection, so
// stack-B/conn is the server's alone.
//
//	go test -run '^$' -bench IdleConnMemory -benchtime 1x ./bench/imload/
func BenchmarkIdleConnMemory(b *testing.B) {
	// Both ends of every connection take a descriptor in this process.
	const conns = 4000
	if _, err := raiseNoFile(2 * conns); err != nil {
		b.Skip(err)
	}
	for _, io := range []string{gateway.IOModelEventLoop, gateway.IOModelNetpoll, gateway.IOModelGoroutine} {
		b.Run(io, func(b *testing.B) {
			srv := startServer(b, 20, gateway.Config{IOModel: io, MaxConnsPerAddr: -1}) // every connection comes from one address
			merchants, customers := demoUsers(20)
			byUser, _, err := loginAll(b.Context(), srv.edge, "demo", append(merchants, customers...), srv.addr)
			if err != nil {
				b.Fatal(err)
			}
			var tokens []string
			for _, t := range byUser {
				tokens = append(tokens, t)
			}
			plan, err := newSourcePlan("none", srv.addr, conns)
			if err != nil {
				b.Fatal(err)
			}
			spec := fleetSpec{conns: conns, addr: srv.addr, plan: plan, tokens: tokens, timeout: 30 * time.Second}
			var heap, stack, goroutines float64
			for b.Loop() {
				var m0, m1 runtime.MemStats
				runtime.GC()
				runtime.ReadMemStats(&m0)
				g0 := runtime.NumGoroutine()
				fleet, opened, err := openFleet(b.Context(), spec, slog.New(slog.DiscardHandler))
				if err != nil || opened.ok != conns {
					fleet.close()
					b.Fatalf("opened %d of %d: %v %s", opened.ok, conns, err, opened.firstErr)
				}
				runtime.GC()
				runtime.ReadMemStats(&m1)
				heap += float64(m1.HeapInuse) - float64(m0.HeapInuse)
				stack += float64(m1.StackInuse) - float64(m0.StackInuse)
				goroutines += float64(runtime.NumGoroutine() - g0)
				fleet.close()
				err = waitFor(b.Context(), time.Now().Add(30*time.Second), func() bool { return srv.gw.Stats().Open == 0 })
				if err != nil {
					b.Fatalf("%d connections still open on the gateway", srv.gw.Stats().Open)
				}
			}
			n := float64(b.N) * conns
			b.ReportMetric(heap/n, "heap-B/conn")
			b.ReportMetric(stack/n, "stack-B/conn")
			b.ReportMetric((heap+stack)/n, "live-B/conn")
			b.ReportMetric(goroutines/n, "goroutines/conn")
		})
	}
}
