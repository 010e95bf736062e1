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
)

const usage = `edgeload: what the marketing edge costs next to a bare SOAP call

usage: edgeload [flags]

Against a running system (an edge, the simulators, and logic for the edge's logins), it
drives one read action in phases of the same concurrency and duration:
  edge        through the edge (--edge): HTTP + token + rate limit + SOAP client + JSON
  bare        the generated gowsdl port straight to the simulator (--housing-url/--account-url)
  edge-redis  through a second edge whose limiter is on Redis (--edge-redis), if given
and reports actions/s, latency percentiles, CPU per action (--edge-pid, --sim-pid,
this program's own) and the ratios of the targets. A human-readable summary, then one
JSON line with every figure.

`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "edgeload:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parseConfig(args, stderr)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	rep, err := bench(ctx, cfg, log)
	if err != nil {
		return err
	}
	printReport(stdout, rep)
	b, err := json.Marshal(rep)
	if err != nil {
		return fmt.Errorf("encode report: %w", err)
	}
	_, err = fmt.Fprintf(stdout, "%s\n", b)
	return err
}
