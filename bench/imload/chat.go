package main

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/bangbang-im/bangbang/bench/latency"
)

// chatConfig configures the chat mode.
type chatConfig struct {
	target
	Pairs    int           // sender/receiver user pairs: m100i sends to c100i
	Devices  int           // sending connections per sender user (distinct device ids)
	Rate     float64       // messages per second over all senders; 0: as fast as allowed
	ConnRate float64       // cap per sending connection; 0: none
	Window   int           // unanswered SENDs per connection
	Size     int           // body bytes, at least 16
	Warmup   time.Duration // sent but not measured
	Duration time.Duration // measured
	Drain    time.Duration // bound on waiting for answers and deliveries after sending
	Timeout  time.Duration // per dial and AUTH
	Sources  string        // source addresses (see newSourcePlan); "none" dials from the kernel's choice
	PerSrc   int           // connections per source address; 0 means 3/4 of the ephemeral range
	AckDelay time.Duration // receivers ack after this long…
	AckBatch int           // …or this many messages; AckDelay 0: only at the end
}

// chatResult is what the chat mode reports; the JSON line carries it whole.
type chatResult struct {
	Mode            string          `json:"mode"`
	Pairs           int             `json:"pairs"`
	SenderConns     int             `json:"sender_conns"`
	ReceiverConns   int             `json:"receiver_conns"`
	Rate            float64         `json:"rate_asked"`
	PerConnRate     float64         `json:"per_conn_rate"`
	Window          int             `json:"window"`
	BodyBytes       int             `json:"body_bytes"`
	Seconds         float64         `json:"seconds"`
	Sent            int64           `json:"sent"`
	Stored          int64           `json:"stored"`
	Delivered       int64           `json:"delivered"`
	Undelivered     int64           `json:"undelivered"` // stored, not received when the drain ended
	StoredPerSec    float64         `json:"stored_per_sec"`
	DeliveredPerSec float64         `json:"delivered_per_sec"`
	Store           latency.Summary `json:"send_to_stored"`
	Deliver         latency.Summary `json:"send_to_delivered"`
	Errors          map[string]int  `json:"errors,omitempty"`
	ConnErrors      int             `json:"conn_errors"`
	FirstError      string          `json:"first_error,omitempty"`
	SelfPushes      int64           `json:"self_pushes"`
	Acks            int64           `json:"deliver_acks"`
	ServerPID       int             `json:"server_pid"`
	ServerCPU       float64         `json:"server_cpu_cores"`
	ClientCPU       float64         `json:"client_cpu_cores"`
	ServerAfter     memSample       `json:"server_after"`
}

// runChat drives 1:1 traffic and measures it. Every goroutine it starts has stopped, and
// every connection is closed, when it returns.
func runChat(ctx context.Context, cfg chatConfig, log *slog.Logger) (chatResult, error) {
	res := chatResult{Mode: "chat", Pairs: cfg.Pairs, Rate: cfg.Rate, Window: cfg.Window,
		BodyBytes: max(cfg.Size, bodyHeader), Seconds: cfg.Duration.Seconds(), ServerPID: cfg.ServerPID}
	switch {
	case cfg.Pairs <= 0 || cfg.Pairs > cfg.DemoUsers:
		return res, fmt.Errorf("chat: --pairs must be 1..%d (the demo users)", cfg.DemoUsers)
	case cfg.Devices <= 0 || cfg.Window <= 0 || cfg.Duration <= 0:
		return res, fmt.Errorf("chat: --devices, --window and --duration must be positive")
	}
	nSend := cfg.Pairs * cfg.Devices
	res.SenderConns, res.ReceiverConns = nSend, cfg.Pairs
	if _, err := raiseNoFile(nSend + cfg.Pairs); err != nil {
		return res, fmt.Errorf("chat: %w", err)
	}
	merchants, customers := demoUsersFrom(cfg.UserOffset, cfg.Pairs)
	tokens, addr, err := cfg.tokensFor(ctx, append(merchants, customers...))
	if err != nil {
		return res, fmt.Errorf("chat: %w", err)
	}
	res.PerConnRate = perConnRate(cfg, nSend, log)
	interval := time.Duration(0)
	if res.PerConnRate > 0 {
		interval = time.Duration(float64(time.Second) / res.PerConnRate)
	}

	rx, tx, err := dialChat(ctx, cfg, addr, tokens, merchants, customers)
	defer func() {
		for _, c := range append(rx, tx...) {
			c.Close()
		}
	}()
	if err != nil {
		return res, err
	}

	run := newChatRun(cfg.Warmup, cfg.Duration)
	receivers := make([]*receiver, len(rx))
	for i, c := range rx {
		receivers[i] = newReceiver(run, c, cfg.AckDelay, max(cfg.AckBatch, 1))
	}
	senders := make([]*sender, len(tx))
	for i, c := range tx {
		pair := i / cfg.Devices
		// Phases spread over the interval: senders starting in step would reach the server
		// as one burst per interval and measure the burst, not the rate.
		phase := interval * time.Duration(i) / time.Duration(len(tx))
		senders[i] = newSender(run, c, fmt.Sprintf("%s-%d-", run.name(), i), customers[pair], interval, phase, cfg.Window, cfg.Size)
	}

	var readers, writers sync.WaitGroup
	stopSend := make(chan struct{})
	// A writer stuck in Write on a server that stopped reading is released by a deadline.
	stopWriters := sync.OnceFunc(func() {
		close(stopSend)
		unstick := time.Now().Add(cfg.Timeout)
		for _, c := range tx {
			_ = c.SetWriteDeadline(unstick)
		}
		writers.Wait()
	})
	// stop ends every goroutine: the writers first, then the readers, woken by a read
	// deadline in the past (a receiver then acks what it holds). Deferred for early returns.
	stop := sync.OnceFunc(func() {
		stopWriters()
		run.stopping.Store(true)
		now := time.Now()
		for _, c := range append(rx, tx...) {
			_ = c.SetReadDeadline(now)
		}
		readers.Wait()
	})
	defer stop()
	for _, r := range receivers {
		readers.Go(r.read)
	}
	for _, s := range senders {
		readers.Go(s.read)
		writers.Go(func() { s.write(stopSend) })
	}

	log.Info("sending", "senders", len(senders), "per_conn_rate", res.PerConnRate, "warmup", cfg.Warmup, "duration", cfg.Duration)
	if err := sleepUntil(ctx, run.epoch.Add(cfg.Warmup)); err != nil {
		return res, err
	}
	cpu0 := sampleCPU(cfg.ServerPID)
	if err := sleepUntil(ctx, run.epoch.Add(cfg.Warmup+cfg.Duration)); err != nil {
		return res, err
	}
	cpu1 := sampleCPU(cfg.ServerPID)
	stopWriters()
	res.ServerCPU = cpu1.server.Seconds() - cpu0.server.Seconds()
	res.ClientCPU = cpu1.client.Seconds() - cpu0.client.Seconds()
	res.ServerCPU /= cfg.Duration.Seconds()
	res.ClientCPU /= cfg.Duration.Seconds()

	// Answers and pushes still on their way belong to the measured messages: wait for them,
	// within the drain bound, before stopping the readers.
	drainBy := time.Now().Add(cfg.Drain)
	if err := waitFor(ctx, drainBy, func() bool { return run.inflight.Load() == 0 }); err != nil {
		log.Warn("sends still unanswered at the end of the drain", "inflight", run.inflight.Load())
	}
	if err := waitFor(ctx, drainBy, func() bool { return run.delivered.Load() >= run.stored.Load() }); err != nil {
		log.Warn("messages still undelivered at the end of the drain", "stored", run.stored.Load(), "delivered", run.delivered.Load())
	}
	if cfg.ServerPID > 0 {
		res.ServerAfter, _ = readMem(cfg.ServerPID)
	}
	stop()
	collect(&res, senders, receivers, cfg.Duration)
	return res, nil
}
