package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"
)

const usage = `imload: load program for the bangbang IM core

usage: imload <idle|chat|push> [flags]

  idle   open --conns authenticated connections that stay quiet; report the server's
         resident memory per connection (--server-pid) and this program's own
  chat   --pairs senders (m1001…) send to as many receivers (c1001…) for --duration;
         report messages/s stored and delivered, and latency percentiles of both
  push   open --conns authenticated connections, then have the gateway push --rounds
         frames to each through its Deliver RPC (--gateway: what logic calls); report
         the frames/s the connections read and the server's CPU per frame

Each prints a human-readable summary, then one JSON line with every figure.
Run 'imload <mode> -h' for the flags.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "imload:", err)
		os.Exit(1)
	}
}

// target is the server under load and the users to log in as.
type target struct {
	Addr      string // IM TCP host:port; "" means the address the edge's login advertises
	Edge      string // base URL of the edge, for POST /v1/login
	Password  string
	DemoUsers int // merchants m1001… and customers c1001… that exist
	ServerPID int // the server process, for /proc; 0: not measured
	// TokenSecret, when set, is the server's --token-secret: tokens are issued here instead
	// of logging every user in through the edge (thousands of bcrypt checks, and the
	// edge's per-address login limit). --addr is then required.
	TokenSecret string
	// UserOffset skips the first demo users: chat and idle then use m(1001+offset)… and
	// c(1001+offset)…, so runs held at once (idle connections and a chat beside them) use
	// users of their own.
	UserOffset int
}

func (t *target) register(fs *flag.FlagSet) {
	fs.StringVar(&t.Addr, "addr", "", "IM TCP address host:port (default: the one /v1/login advertises)")
	fs.StringVar(&t.Edge, "edge", "http://127.0.0.1:8700", "edge base URL, for POST /v1/login")
	fs.StringVar(&t.Password, "password", "demo", "password of the demo users")
	fs.IntVar(&t.DemoUsers, "demo-users", 20, "merchants m1001… and customers c1001… seeded on the server")
	fs.IntVar(&t.ServerPID, "server-pid", 0, "server process id, to read its memory and CPU from /proc (0: not measured)")
	fs.StringVar(&t.TokenSecret, "token-secret", "", "the server's --token-secret: issue tokens here instead of logging in through the edge (needs --addr)")
	fs.IntVar(&t.UserOffset, "user-offset", 0, "skip this many demo users: use m(1001+offset)… and c(1001+offset)…, so runs held at once use users of their own")
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("no mode")
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	switch mode, rest := args[0], args[1:]; mode {
	case "idle":
		cfg, err := parseIdle(rest, stderr)
		if err != nil {
			return err
		}
		res, err := runIdle(ctx, cfg, log)
		if err != nil {
			return err
		}
		printIdle(stdout, res)
		return printJSON(stdout, res)
	case "chat":
		cfg, err := parseChat(rest, stderr)
		if err != nil {
			return err
		}
		res, err := runChat(ctx, cfg, log)
		if err != nil {
			return err
		}
		printChat(stdout, res)
		return printJSON(stdout, res)
	case "push":
		cfg, err := parsePush(rest, stderr)
		if err != nil {
			return err
		}
		res, err := runPush(ctx, cfg, log)
		printPush(stdout, res)
		if err != nil {
			return err
		}
		return printJSON(stdout, res)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("unknown mode %q", mode)
	}
}

func parseIdle(args []string, stderr io.Writer) (idleConfig, error) {
	var c idleConfig
	fs := flag.NewFlagSet("idle", flag.ContinueOnError)
	fs.SetOutput(stderr)
	c.register(fs)
	fs.IntVar(&c.Conns, "conns", 10000, "connections to open")
	sourceFlags(fs, &c.Sources, &c.PerSource, 0)
	fs.DurationVar(&c.Timeout, "timeout", 30*time.Second, "bound on each dial and each awaited answer")
	fs.DurationVar(&c.Settle, "settle", 30*time.Second, "how long to wait for the server's RSS to settle")
	fs.DurationVar(&c.Hold, "hold", 0, "keep the connections open this long after measuring")
	fs.BoolVar(&c.Verify, "verify", true, "after measuring, check every connection still answers")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	return c, noArgs(fs)
}

func parseChat(args []string, stderr io.Writer) (chatConfig, error) {
	var c chatConfig
	fs := flag.NewFlagSet("chat", flag.ContinueOnError)
	fs.SetOutput(stderr)
	c.register(fs)
	fs.IntVar(&c.Pairs, "pairs", 20, "sender/receiver pairs (m100i sends to c100i)")
	fs.IntVar(&c.Devices, "devices", 1, "sending connections per sender user; each extra one also receives its own user's messages (multi-device)")
	fs.Float64Var(&c.Rate, "rate", 0, "messages/s over all senders (0: as fast as --window and --conn-rate allow)")
	fs.Float64Var(&c.ConnRate, "conn-rate", 45, "cap in messages/s per sending connection, under the gateway's per-connection frame limit (0: none)")
	fs.IntVar(&c.Window, "window", 8, "unanswered SENDs per connection")
	fs.IntVar(&c.Size, "size", 64, "body bytes (at least 16)")
	fs.DurationVar(&c.Warmup, "warmup", 2*time.Second, "sent first and not measured")
	fs.DurationVar(&c.Duration, "duration", 20*time.Second, "measured sending time")
	fs.DurationVar(&c.Drain, "drain", 10*time.Second, "bound on waiting for answers and deliveries after sending")
	fs.DurationVar(&c.Timeout, "timeout", 10*time.Second, "bound on each dial and AUTH")
	sourceFlags(fs, &c.Sources, &c.PerSrc, 200)
	fs.DurationVar(&c.AckDelay, "ack-delay", 50*time.Millisecond, "receivers send DELIVER_ACK this long after the last one, as the SDK does (0: only at the end)")
	fs.IntVar(&c.AckBatch, "ack-batch", 64, "…or after this many messages, as the SDK does")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	return c, noArgs(fs)
}

func parsePush(args []string, stderr io.Writer) (pushConfig, error) {
	var c pushConfig
	fs := flag.NewFlagSet("push", flag.ContinueOnError)
	fs.SetOutput(stderr)
	c.register(fs)
	fs.IntVar(&c.Conns, "conns", 10000, "connections to open (merchants m1001… of --demo-users, several devices each when fewer)")
	sourceFlags(fs, &c.Sources, &c.PerSource, 0)
	fs.StringVar(&c.Gateway, "gateway", "127.0.0.1:8901", "the gateway's push RPC address (bangbang gateway --push-addr)")
	fs.IntVar(&c.Rounds, "rounds", 100, "PUSH frames each connection receives")
	fs.IntVar(&c.Size, "size", 200, "bytes of each pushed message's body")
	fs.StringVar(&c.Bodies, "bodies", "shared", `"shared": one frame body for every connection (a broadcast); "each": a body per connection (a campaign: one Delivery each)`)
	fs.IntVar(&c.Batch, "batch", 1000, "connection ids per Deliver call")
	fs.IntVar(&c.Lead, "lead", 16, "rounds the pushes may run ahead of what the clients have read (under the gateway's --send-queue)")
	fs.IntVar(&c.InFlight, "in-flight", 4, "Deliver calls in flight")
	fs.DurationVar(&c.Timeout, "timeout", 10*time.Second, "bound on each dial, AUTH and Deliver call")
	fs.DurationVar(&c.Drain, "drain", 30*time.Second, "bound on the clients reading every frame after the last Deliver call")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	return c, noArgs(fs)
}

// sourceFlags registers where many connections dial from; perSource is the default of
// --per-source (0: 3/4 of the ephemeral port range).
func sourceFlags(fs *flag.FlagSet, sources *string, perSource *int, perSourceDefault int) {
	fs.StringVar(sources, "sources", "auto", `source addresses: "auto" (127.0.0.2-127.0.0.254 for a loopback server), "none", or a list like 127.0.0.2-127.0.0.9,127.0.1.1`)
	fs.IntVar(perSource, "per-source", perSourceDefault, "connections per source address (0: 3/4 of the ephemeral port range; keep it under the gateway's --max-conns-per-addr)")
}

func noArgs(fs *flag.FlagSet) error {
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	return nil
}

func printJSON(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode result: %w", err)
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}
