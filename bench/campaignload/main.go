// Command campaignload measures campaign delivery against a running bangbang: it imports
// an audience through the staff API (streamed CSV), launches a capped campaign to it and
// reports the time to fix the audience, the achieved rate against the cap, and the
// server's CPU and peak memory; then, with --devices, connects that many merchants over
// TCP with the Go SDK and sends uncapped campaigns to them, reporting the pushed frames/s
// the apps received. Results and method: BENCHMARKS.md, section 6.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/bangbang-im/bangbang/bench/procstat"
	"github.com/bangbang-im/bangbang/core-im/auth"
	"github.com/bangbang-im/bangbang/core-im/client"
	"github.com/bangbang-im/bangbang/marketing/campaign"
)

type config struct {
	admin, key   string
	merchants    int
	rate         int
	serverPID    int
	devices      int
	imAddr       string
	tokenSecret  string
	pushRounds   int
	skipImport   bool
	sampleEvery  time.Duration
	prefix       string
	skipCapped   bool
	deviceBuffer int
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout)
	stop()
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "campaignload:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, out io.Writer) error {
	var c config
	fs := flag.NewFlagSet("campaignload", flag.ContinueOnError)
	fs.StringVar(&c.admin, "admin", "http://127.0.0.1:8701", "staff API base URL")
	fs.StringVar(&c.key, "admin-key", os.Getenv("BANGBANG_ADMIN_KEY"), "staff key, role admin (BANGBANG_ADMIN_KEY)")
	fs.IntVar(&c.merchants, "merchants", 1_000_000, "audience size of the capped campaign")
	fs.IntVar(&c.rate, "rate", 20_000, "the capped campaign's rate, messages/s")
	fs.IntVar(&c.serverPID, "server-pid", 0, "server process, for CPU and memory from /proc (0: not measured)")
	fs.IntVar(&c.devices, "devices", 0, "merchants to connect over TCP for the uncapped push phase (0: skip it)")
	fs.StringVar(&c.imAddr, "im", "127.0.0.1:8800", "gateway TCP address")
	fs.StringVar(&c.tokenSecret, "token-secret", "", "the server's --token-secret, to sign the devices' tokens")
	fs.IntVar(&c.pushRounds, "push-rounds", 4, "uncapped campaigns sent to the devices, one after another")
	fs.BoolVar(&c.skipImport, "skip-import", false, "the audience is already imported")
	fs.BoolVar(&c.skipCapped, "skip-capped", false, "skip the capped campaign")
	fs.DurationVar(&c.sampleEvery, "sample", 250*time.Millisecond, "how often the campaign's stats are read")
	fs.StringVar(&c.prefix, "prefix", "b", "merchant id prefix (tag bench-<prefix>)")
	fs.IntVar(&c.deviceBuffer, "device-buffer", 64, "each device's message buffer")
	if err := fs.Parse(args); err != nil {
		return err
	}
	api := &staff{base: strings.TrimRight(c.admin, "/"), key: c.key, http: &http.Client{}}
	res := map[string]any{"merchants": c.merchants, "rate_cap": c.rate}
	if !c.skipImport {
		n := max(c.merchants, c.devices)
		start := time.Now()
		cpu0 := cpu(c.serverPID)
		rep, err := api.importMerchants(ctx, c.prefix, n, c.devices)
		if err != nil {
			return err
		}
		took := time.Since(start)
		fmt.Fprintf(out, "import: %d rows in %v (%.0f rows/s), created %d updated %d rejected %d, server CPU %.1f s\n",
			rep.Rows, took.Round(time.Millisecond), float64(rep.Rows)/took.Seconds(), rep.Created, rep.Updated, rep.Rejected,
			(cpu(c.serverPID) - cpu0).Seconds())
		res["import_seconds"], res["import_rows_per_second"] = took.Seconds(), float64(rep.Rows)/took.Seconds()
	}
	if !c.skipCapped {
		if err := capped(ctx, c, api, out, res); err != nil {
			return err
		}
	}
	if c.devices > 0 {
		if err := uncapped(ctx, c, api, out, res); err != nil {
			return err
		}
	}
	b, _ := json.Marshal(res)
	fmt.Fprintln(out, string(b))
	return nil
}

// capped runs one campaign to the first c.merchants merchants at c.rate.
func capped(ctx context.Context, c config, api *staff, out io.Writer, res map[string]any) error {
	spec := campaign.Spec{Name: "bench capped", Rate: c.rate,
		Audience: campaign.Audience{Segment: &campaign.Segment{Tags: []string{"bench-" + c.prefix}}},
		Message:  campaign.Message{Title: "Hello {{.Name}}", Body: "Offers in {{.City}} this week."}}
	var cp campaign.Campaign
	if err := api.do(ctx, "POST", "/admin/v1/campaigns", spec, &cp); err != nil {
		return err
	}
	cpu0, rss0 := cpu(c.serverPID), hwm(c.serverPID)
	start := time.Now()
	if err := api.do(ctx, "POST", "/admin/v1/campaigns/"+cp.ID+"/start", nil, &cp); err != nil {
		return err
	}
	type sample struct {
		at   time.Duration
		sent int64
	}
	var samples []sample
	var fixedAt time.Duration
	t := time.NewTicker(c.sampleEvery)
	defer t.Stop()
	for {
		if err := api.do(ctx, "GET", "/admin/v1/campaigns/"+cp.ID, nil, &cp); err != nil {
			return err
		}
		at := time.Since(start)
		if fixedAt == 0 && cp.Stats.Targeted > 0 {
			fixedAt = at
		}
		done := cp.Stats.Sent + cp.Stats.Failed + cp.Stats.Skipped
		samples = append(samples, sample{at, done})
		if cp.State == campaign.StateFinished || cp.State == campaign.StatePaused || cp.State == campaign.StateCancelled {
			break
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
	total := time.Since(start)
	if cp.State != campaign.StateFinished {
		return fmt.Errorf("campaign %s ended %s: %s (%+v)", cp.ID, cp.State, cp.PauseReason, cp.Stats)
	}
	// The achieved rate: from the first sample with anything sent to the end, and over the
	// middle 80% of recipients (ramp-up and tail left out).
	var first, lo, hi sample
	n := cp.Stats.Targeted
	for _, s := range samples {
		if first.at == 0 && s.sent > 0 {
			first = s
		}
		if lo.at == 0 && s.sent >= n/10 {
			lo = s
		}
		if hi.at == 0 && s.sent >= n*9/10 {
			hi = s
		}
	}
	sending := cp.FinishedAt.Sub(*cp.StartedAt) - fixedAt
	overall := float64(n) / sending.Seconds()
	middle := float64(hi.sent-lo.sent) / (hi.at - lo.at).Seconds()
	serverCPU := (cpu(c.serverPID) - cpu0).Seconds()
	fmt.Fprintf(out, "capped campaign %s: %d recipients at a %d/s cap\n", cp.ID, n, c.rate)
	fmt.Fprintf(out, "  audience fixed after %v (polled every %v)\n", fixedAt.Round(time.Millisecond), c.sampleEvery)
	fmt.Fprintf(out, "  sent in %v: %.0f/s overall (%.1f%% of the cap), %.0f/s over the middle 80%% (%.1f%%)\n",
		sending.Round(time.Millisecond), overall, 100*overall/float64(c.rate), middle, 100*middle/float64(c.rate))
	fmt.Fprintf(out, "  server CPU %.1f s (%.2f cores, %.1f µs/recipient), peak RSS %d MiB (was %d)\n",
		serverCPU, serverCPU/total.Seconds(), serverCPU*1e6/float64(n), hwm(c.serverPID)>>20, rss0>>20)
	fmt.Fprintf(out, "  stats %+v\n", cp.Stats)
	res["campaign"] = cp.ID
	res["fix_audience_seconds"] = fixedAt.Seconds()
	res["send_seconds"] = sending.Seconds()
	res["rate_overall"], res["rate_middle80"] = overall, middle
	res["server_cpu_seconds"], res["server_peak_rss_bytes"] = serverCPU, hwm(c.serverPID)
	return nil
}

// uncapped connects c.devices merchants and sends c.pushRounds campaigns to them at the
// highest rate allowed, counting what the apps receive.
func uncapped(ctx context.Context, c config, api *staff, out io.Writer, res map[string]any) error {
	tk, err := auth.NewTokens([]byte(c.tokenSecret), 24*time.Hour, nil)
	if err != nil {
		return fmt.Errorf("--token-secret: %w", err)
	}
	var received atomic.Int64
	var mu sync.Mutex
	var firstAt, lastAt time.Time
	clients := make([]*client.Client, 0, c.devices)
	defer func() {
		for _, cl := range clients {
			cl.Close()
		}
	}()
	ids := make([]string, c.devices)
	dialStart := time.Now()
	sem := make(chan struct{}, 64)
	var dialErr atomic.Value
	var wg sync.WaitGroup
	var cmu sync.Mutex
	for i := range ids {
		ids[i] = merchantID(c.prefix, i)
		sem <- struct{}{}
		wg.Add(1)
		go func(id string) {
			defer func() { <-sem; wg.Done() }()
			cl, err := client.Dial(ctx, client.Config{Addr: c.imAddr, DeviceID: "bench", Buffer: c.deviceBuffer,
				Token: func(context.Context) (string, error) { tok, _, err := tk.Issue(id, "merchant"); return tok, err }})
			if err != nil {
				dialErr.Store(fmt.Errorf("dial %s: %w", id, err))
				return
			}
			cmu.Lock()
			clients = append(clients, cl)
			cmu.Unlock()
			go func() {
				for range cl.Messages() {
					now := time.Now()
					received.Add(1)
					mu.Lock()
					if firstAt.IsZero() {
						firstAt = now
					}
					lastAt = now
					mu.Unlock()
				}
			}()
		}(ids[i])
	}
	wg.Wait()
	if e := dialErr.Load(); e != nil {
		return e.(error)
	}
	fmt.Fprintf(out, "uncapped: %d devices connected in %v\n", len(clients), time.Since(dialStart).Round(time.Millisecond))
	// Whatever the devices synced on connecting is not this phase's.
	base := received.Load()
	mu.Lock()
	firstAt = time.Time{}
	mu.Unlock()

	cpu0 := cpu(c.serverPID)
	start := time.Now()
	want := base + int64(c.pushRounds*c.devices)
	for r := range c.pushRounds {
		spec := campaign.Spec{Name: fmt.Sprintf("bench uncapped %d", r), Rate: campaign.MaxRate,
			Audience: campaign.Audience{Segment: &campaign.Segment{Tags: []string{"bench-" + c.prefix + "-online"}}},
			Message:  campaign.Message{Title: "Round " + strconv.Itoa(r), Body: "Hello {{.Name}}"}}
		var cp campaign.Campaign
		if err := api.do(ctx, "POST", "/admin/v1/campaigns", spec, &cp); err != nil {
			return err
		}
		if err := api.do(ctx, "POST", "/admin/v1/campaigns/"+cp.ID+"/start", nil, &cp); err != nil {
			return err
		}
	}
	deadline := time.Now().Add(10 * time.Minute)
	for received.Load() < want && time.Now().Before(deadline) && ctx.Err() == nil {
		time.Sleep(50 * time.Millisecond) // polling a counter; the figures come from the receive times
	}
	got := received.Load() - base
	mu.Lock()
	span := lastAt.Sub(firstAt)
	mu.Unlock()
	serverCPU := (cpu(c.serverPID) - cpu0).Seconds()
	fps := float64(got) / span.Seconds()
	fmt.Fprintf(out, "  %d campaigns × %d devices: %d frames received (want %d) in %v from the first to the last: %.0f frames/s; "+
		"%v from the first start; server CPU %.1f s\n", c.pushRounds, c.devices, got, c.pushRounds*c.devices,
		span.Round(time.Millisecond), fps, time.Since(start).Round(time.Millisecond), serverCPU)
	res["devices"], res["push_frames"], res["push_frames_per_second"] = c.devices, got, fps
	res["push_server_cpu_seconds"] = serverCPU
	return nil
}

func merchantID(prefix string, i int) string { return fmt.Sprintf("%s%07d", prefix, i) }

// staff calls the staff API.
type staff struct {
	base, key string
	http      *http.Client
}

func (s *staff) do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, _ := json.Marshal(in)
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, s.base+path, body)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+s.key)
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return s.send(req, out)
}

func (s *staff) send(req *http.Request, out any) error {
	resp, err := s.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s: %d %s", req.Method, req.URL.Path, resp.StatusCode, b)
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}

// importMerchants streams n merchants as CSV, generated while sent: tagged bench-PREFIX,
// and the first --devices also bench-PREFIX-online.
func (s *staff) importMerchants(ctx context.Context, prefix string, n, online int) (campaign.ImportReport, error) {
	pr, pw := io.Pipe()
	go func() {
		w := bufio.NewWriterSize(pw, 64<<10)
		cities := []string{"Shanghai", "Beijing", "Shenzhen", "Hangzhou", "Chengdu"}
		fmt.Fprintln(w, "id,name,city,category,tags")
		for i := range n {
			tags := "bench-" + prefix
			if i < online {
				tags += ";bench-" + prefix + "-online"
			}
			fmt.Fprintf(w, "%s,Shop %d,%s,housing,%s\n", merchantID(prefix, i), i, cities[i%len(cities)], tags)
		}
		_ = w.Flush()
		_ = pw.Close()
	}()
	req, err := http.NewRequestWithContext(ctx, "POST", s.base+"/admin/v1/merchants/import", pr)
	if err != nil {
		return campaign.ImportReport{}, err
	}
	req.Header.Set("Authorization", "Bearer "+s.key)
	req.Header.Set("Content-Type", "text/csv")
	var rep campaign.ImportReport
	err = s.send(req, &rep)
	return rep, err
}

func cpu(pid int) time.Duration {
	if pid == 0 {
		return 0
	}
	d, _ := procstat.CPU(pid)
	return d
}

// hwm is the process's peak resident memory (VmHWM), in bytes.
func hwm(pid int) int64 {
	if pid == 0 {
		return 0
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}
