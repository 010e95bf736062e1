package main

import (
	"fmt"
	"io"
	"sort"

	"github.com/bangbang-im/bangbang/bench/latency"
)

func kib(b float64) float64 { return b / 1024 }
func mib(b int64) float64   { return float64(b) / (1 << 20) }

func printIdle(w io.Writer, r idleResult) {
	fmt.Fprintf(w, "idle: %d/%d connections authenticated in %.1fs (%.0f/s) by %d workers from %d source address(es)\n",
		r.Authenticated, r.Conns, r.OpenSeconds, r.ConnectsPerSec, r.Workers, r.SourceAddrs)
	fmt.Fprintf(w, "  dial -> AUTH_OK (%d pipelined per worker): p50 %.2f  p99 %.2f  max %.2f ms\n",
		authBatch, r.Login.P50, r.Login.P99, r.Login.Max)
	if r.Failed > 0 {
		fmt.Fprintf(w, "  failed: %d, first: %s\n", r.Failed, r.FirstError)
	}
	if r.ServerPID > 0 {
		fmt.Fprintf(w, "  server RSS: %.1f MiB -> %.1f MiB: %.2f KiB per idle connection (anonymous: %.2f KiB)\n",
			mib(r.ServerBefore.RSS), mib(r.ServerAfter.RSS), kib(r.ServerRSSPerConn), kib(r.ServerAnonPer))
		if r.Unsettled {
			fmt.Fprintln(w, "  warning: the server's RSS had not settled; the figure is the last sample")
		}
	} else {
		fmt.Fprintln(w, "  server memory not measured: pass --server-pid")
	}
	fmt.Fprintf(w, "  kernel TCP buffers (whole machine, both ends): %.2f KiB per connection\n", kib(r.KernelTCPPerConn))
	fmt.Fprintf(w, "  this program's RSS: %.1f MiB -> %.1f MiB: %.2f KiB per connection\n",
		mib(r.ClientBefore.RSS), mib(r.ClientAfter.RSS), kib(r.ClientRSSPerConn))
	if r.Alive >= 0 {
		fmt.Fprintf(w, "  still authenticated after measuring: %d/%d\n", r.Alive, r.Authenticated)
	}
}

func printChat(w io.Writer, r chatResult) {
	fmt.Fprintf(w, "chat: %d pairs, %d sending and %d receiving connections, %.1f msg/s per sending connection (0: unpaced), window %d, %d-byte bodies, %.0fs measured\n",
		r.Pairs, r.SenderConns, r.ReceiverConns, r.PerConnRate, r.Window, r.BodyBytes, r.Seconds)
	fmt.Fprintf(w, "  stored:    %8.0f msg/s   (%d sent, %d stored in the whole run)\n", r.StoredPerSec, r.Sent, r.Stored)
	fmt.Fprintf(w, "  delivered: %8.0f msg/s   (%d delivered, %d undelivered after the drain, %d DELIVER_ACKs)\n",
		r.DeliveredPerSec, r.Delivered, r.Undelivered, r.Acks)
	lat := func(name string, l latency.Summary) {
		fmt.Fprintf(w, "  %-18s p50 %7.2f  p90 %7.2f  p99 %7.2f  p99.9 %7.2f  max %7.2f  ms  (%d samples)\n",
			name, l.P50, l.P90, l.P99, l.P999, l.Max, l.Count)
	}
	lat("send -> stored", r.Store)
	lat("send -> delivered", r.Deliver)
	if r.ServerPID > 0 {
		fmt.Fprintf(w, "  server CPU %.2f cores, RSS %.1f MiB; this program's CPU %.2f cores\n", r.ServerCPU, mib(r.ServerAfter.RSS), r.ClientCPU)
	} else {
		fmt.Fprintf(w, "  this program's CPU %.2f cores (pass --server-pid for the server's)\n", r.ClientCPU)
	}
	if r.SelfPushes > 0 {
		fmt.Fprintf(w, "  pushes to the senders' other devices: %d\n", r.SelfPushes)
	}
	if len(r.Errors) > 0 {
		codes := make([]string, 0, len(r.Errors))
		for c := range r.Errors {
			codes = append(codes, c)
		}
		sort.Strings(codes)
		for _, c := range codes {
			fmt.Fprintf(w, "  ERROR %s: %d\n", c, r.Errors[c])
		}
	}
	if r.ConnErrors > 0 {
		fmt.Fprintf(w, "  connections failed: %d, first: %s\n", r.ConnErrors, r.FirstError)
	}
}

func printPush(w io.Writer, r *pushResult) {
	fmt.Fprintf(w, "push: %d/%d connections authenticated in %.1fs (%.0f/s) from %d source address(es)\n",
		r.Authenticated, r.Conns, r.OpenSeconds, r.ConnectsPerSec, r.SourceAddrs)
	fmt.Fprintf(w, "  %d rounds, %s %d-byte bodies: %d of %d frames read in %.2fs: %.0f frames/s\n",
		r.Rounds, r.Bodies, r.Size, r.Received, r.Expected, r.Seconds, r.FramesPerSec)
	fmt.Fprintf(w, "  %d Deliver calls: p50 %.2f  p99 %.2f  max %.2f ms; missing %d, dropped %d\n",
		r.DeliverCalls, r.DeliverLatency.P50, r.DeliverLatency.P99, r.DeliverLatency.Max, r.Missing, r.Dropped)
	if r.ServerPID > 0 {
		fmt.Fprintf(w, "  server CPU: %.2f cores, %.2f µs per frame\n", r.ServerCPUCores, r.ServerCPUFrame)
	}
	fmt.Fprintf(w, "  this program's CPU: %.2f cores\n", r.ClientCPUCores)
	if r.ConnErrors > 0 {
		fmt.Fprintf(w, "  %d connections failed, first: %s\n", r.ConnErrors, r.FirstError)
	}
}
