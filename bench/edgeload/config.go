package main

import (
	"flag"
	"fmt"
	"io"
	"runtime"
	"strings"
	"time"
)

// Simulator credentials, as soap-clients/sim's DefaultPartnerID and DefaultPartnerKey:
// written out rather than imported, so the program depends on the wire contract only.
const (
	simPartnerID  = "bangbang"
	simPartnerKey = "bangbang-sim-key"
)

// config is every flag; each says its default and unit.
type config struct {
	Edge       string // base URL of the edge with the in-process rate limiter
	EdgeRedis  string // base URL of a second edge with the Redis limiter; "": no edge-redis phase
	HousingURL string
	AccountURL string
	PartnerID  string
	PartnerKey string
	Password   string
	Merchants  int // m1001… used, 1..20
	Action     string
	// Concurrency is the goroutines of every phase, each with its own connection.
	Concurrency int
	Rate        float64 // actions/s per phase; 0: closed loop, as fast as answers come
	Warmup      time.Duration
	Duration    time.Duration // measured, per phase and round
	Rounds      int           // each round runs every phase once, alternating the order
	Timeout     time.Duration // bound on one action
	BareConns   int           // the bare client's pool: the same as the edge's SOAP pool
	EdgePID     int
	RedisPID    int // pid of the edge-redis process
	SimPID      int
	RedisAddr   string // Redis whose script counters to read in the edge-redis phase; "": not read
	Cores       int    // cores the capacity estimate divides
}

func parseConfig(args []string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("edgeload", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usage)
		fs.PrintDefaults()
	}
	fs.StringVar(&c.Edge, "edge", "http://127.0.0.1:8700", "edge base URL (in-process rate limiter)")
	fs.StringVar(&c.EdgeRedis, "edge-redis", "", "base URL of a second edge started with --redis-addr, for the edge-redis phase (empty: no such phase)")
	fs.StringVar(&c.HousingURL, "housing-url", "http://127.0.0.1:8600/soap/housing/v1", "housing simulator SOAP endpoint, for the bare phase")
	fs.StringVar(&c.AccountURL, "account-url", "http://127.0.0.1:8602/soap/account/v1", "account simulator SOAP endpoint, for the bare phase")
	fs.StringVar(&c.PartnerID, "partner-id", simPartnerID, "HTTP Basic user of the simulators")
	fs.StringVar(&c.PartnerKey, "partner-key", simPartnerKey, "HTTP Basic password of the simulators")
	fs.StringVar(&c.Password, "password", "demo", "password of the demo merchants")
	fs.IntVar(&c.Merchants, "merchants", 20, "demo merchants m1001… to act as (1..20), each logged in once per edge")
	fs.StringVar(&c.Action, "action", "GetCreditBalance", "read action: "+strings.Join(actionNames(), " or "))
	fs.IntVar(&c.Concurrency, "concurrency", 32, "goroutines per phase, each on its own keep-alive connection")
	fs.Float64Var(&c.Rate, "rate", 0, "actions/s per phase, paced (0: closed loop, for throughput; set it below both phases' capacity to compare latency)")
	fs.DurationVar(&c.Warmup, "warmup", time.Second, "run first in every phase and not measured")
	fs.DurationVar(&c.Duration, "duration", 5*time.Second, "measured time of every phase in every round")
	fs.IntVar(&c.Rounds, "rounds", 2, "rounds of all phases, the order reversed every other round")
	fs.DurationVar(&c.Timeout, "timeout", 5*time.Second, "bound on one action")
	fs.IntVar(&c.BareConns, "bare-conns", 64, "connections of the bare client's pool (the edge's SOAP client pools 64)")
	fs.IntVar(&c.EdgePID, "edge-pid", 0, "pid of the edge process, for its CPU (/proc/PID/stat; 0: not measured)")
	fs.IntVar(&c.RedisPID, "edge-redis-pid", 0, "pid of the edge-redis process (0: not measured)")
	fs.IntVar(&c.SimPID, "sim-pid", 0, "pid of the simulator process (0: not measured)")
	fs.StringVar(&c.RedisAddr, "redis-addr", "", "Redis the edge-redis process uses, to count its script calls (empty: not read)")
	fs.IntVar(&c.Cores, "cores", runtime.NumCPU(), "cores of the machine, for the edge's capacity estimate")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments %v: %w", fs.Args(), ErrConfig)
	}
	return c, c.validate()
}

func (c config) validate() error {
	var bad []string
	if _, ok := actions(time.Now())[c.Action]; !ok {
		bad = append(bad, fmt.Sprintf("--action %q is not one of %v", c.Action, actionNames()))
	}
	if c.Merchants < 1 || c.Merchants > 20 {
		bad = append(bad, fmt.Sprintf("--merchants %d is not 1..20", c.Merchants))
	}
	if c.Concurrency < 1 || c.BareConns < 1 || c.Rounds < 1 || c.Cores < 1 {
		bad = append(bad, "--concurrency, --bare-conns, --rounds and --cores must be at least 1")
	}
	if c.Duration <= 0 || c.Warmup < 0 || c.Timeout <= 0 || c.Rate < 0 {
		bad = append(bad, "--duration and --timeout must be positive, --warmup and --rate not negative")
	}
	if c.Edge == "" {
		bad = append(bad, "--edge is required")
	}
	if len(bad) > 0 {
		return fmt.Errorf("%s: %w", strings.Join(bad, "; "), ErrConfig)
	}
	return nil
}
