// Command bangbang runs the IM and marketing components: each alone (gateway, logic, edge)
// or all of them in one process (all), plus `im` for people to log in and chat.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/cloudwego/hertz/pkg/common/hlog"
	"github.com/cloudwego/kitex/pkg/klog"
)

const usage = `bangbang: IM and marketing for a life-services platform

usage: bangbang <command> [flags]

commands:
  all       every component in one process (embedded SQLite and in-process route table
            unless DATABASE_URL / REDIS_ADDR are set); --demo seeds demo users
  logic     the IM logic layer, serving Kitex on --logic-addr (:8900)
  gateway   an IM gateway (TCP :8800, WebSocket :8801), calling logic over Kitex and serving
            pushes on --push-addr (:8901)
  edge      the merchant HTTP API (:8700): /v1/login, marketing actions, /healthz
  admin     the staff API (127.0.0.1:8701) alone: campaigns, merchants, keys, audit, traces (the
            store other processes export to over OTLP), /metrics, /healthz;
            admin key create --role ROLE --name NAME: a staff key, shown once
  campaign  the campaign worker alone; campaign ls | show | start | pause | resume |
            cancel | watch ID: a terminal client of the staff API
  sim       the third parties' SOAP services, simulated (:8600 housing, :8601
            recruitment, :8602 account), with fault injection at /_sim/faults
  im        a terminal IM client: im login | im send | im listen | im chat
  trace     print one trace from the admin API as a tree: bangbang trace TRACE_ID

logic, gateway, edge and campaign serve GET /metrics, /healthz (liveness) and /readyz
(dependencies reachable) on --metrics-addr (127.0.0.1:8902, :8903, :8702, :8904); the
staff API listens on 127.0.0.1 too. Bind them elsewhere (--metrics-addr :8902,
--admin-addr :8701) to reach them from other hosts. Every process traces as the OTEL_*
variables say (docs/operations.md).

Run 'bangbang <command> -h' for its flags. Every flag can also be set by a BANGBANG_*
variable (for example --data-dir by BANGBANG_DATA_DIR).
`

func main() {
	// Hertz and Kitex log through their own global loggers; keep them to what needs a look,
	// on stderr beside our JSON lines.
	hlog.SetOutput(os.Stderr)
	hlog.SetLevel(hlog.LevelWarn)
	klog.SetOutput(os.Stderr)
	klog.SetLevel(klog.LevelWarn)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "bangbang:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("no command")
	}
	switch cmd, rest := args[0], args[1:]; cmd {
	case "all":
		return runAll(ctx, rest, stdout, stderr)
	case "logic":
		return runLogic(ctx, rest, stderr)
	case "admin":
		return runAdmin(ctx, rest, stdout, stderr)
	case "gateway":
		return runGateway(ctx, rest, stderr)
	case "edge":
		return runEdge(ctx, rest, stderr)
	case "sim":
		return runSim(ctx, rest, stderr)
	case "campaign":
		return runCampaign(ctx, rest, stdout, stderr)
	case "trace":
		return runTrace(ctx, rest, stdout, stderr)
	case "im":
		return runIM(ctx, rest, os.Stdin, stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("unknown command %q", cmd)
	}
}
