package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/bangbang-im/bangbang/soap-clients/sim"
)

// runJSON runs the program with args and decodes the JSON line it ends with.
func runJSON(t *testing.T, args ...string) report {
	t.Helper()
	var out, errs bytes.Buffer
	if err := run(t.Context(), args, &out, &errs); err != nil {
		t.Fatalf("run %v: %v\n%s", args, err, errs.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	var rep report
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &rep); err != nil {
		t.Fatalf("last line is not the JSON report: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "edge vs bare:") {
		t.Errorf("no comparison in the summary:\n%s", out.String())
	}
	return rep
}

func phaseOf(t *testing.T, rep report, name string) *phaseSummary {
	t.Helper()
	p := rep.phase(name)
	if p == nil {
		t.Fatalf("no %s phase in %+v", name, rep.Phases)
	}
	return p
}

func TestRunAgainstSystem(t *testing.T) {
	sys := startSystem(t, 3, "read=100000/1s:10000", true)
	pid := strconv.Itoa(os.Getpid())
	for _, tc := range []struct{ action, line, op string }{
		{"GetCreditBalance", sim.Account, "GetCreditBalance"},
		{"GetListingStats", sim.Housing, "GetListingStats"},
	} {
		t.Run(tc.action, func(t *testing.T) {
			before := sys.sim.Calls(tc.line, tc.op)
			rep := runJSON(t, "--edge", sys.edge, "--edge-redis", sys.edgeRedis,
				"--housing-url", sys.sim.URL(sim.Housing), "--account-url", sys.sim.URL(sim.Account),
				"--action", tc.action, "--merchants", "3", "--concurrency", "4", "--rounds", "2",
				"--warmup", "100ms", "--duration", "300ms",
				"--edge-pid", pid, "--edge-redis-pid", pid, "--sim-pid", pid, "--redis-addr", testRedisAddr)
			var names []string
			var ok int64
			for _, p := range rep.Phases {
				names = append(names, p.Name)
				ok += p.OK
				if p.OK == 0 || p.Failed != 0 || p.Limited != 0 {
					t.Errorf("%s: ok %d, failed %d (%v, %s), limited %d", p.Name, p.OK, p.Failed, p.Errors, p.FirstError, p.Limited)
				}
				// Keep-alive: about one connection per goroutine and round, never one per
				// call. A few more happen: a call can start before the last one's
				// connection is back in the pool, and Go's transport then dials too.
				if p.Dials < 1 || p.Dials > 2*4*2 || p.Dials > p.OK/10 {
					t.Errorf("%s: %d connections for 4 goroutines in 2 rounds, %d actions", p.Name, p.Dials, p.OK)
				}
				if len(p.Rounds) != 2 || p.Latency.Count != uint64(p.OK) || p.Latency.P99 < p.Latency.P50 {
					t.Errorf("%s: %d rounds, latency %+v for %d ok", p.Name, len(p.Rounds), p.Latency, p.OK)
				}
				for _, role := range []string{roleSelf, roleSim} {
					if p.CPUPerAction[role] <= 0 {
						t.Errorf("%s: no %s CPU per action in %v", p.Name, role, p.CPUPerAction)
					}
				}
			}
			if strings.Join(names, ",") != "edge,edge-redis,bare" {
				t.Errorf("phases %v, want edge, edge-redis, bare", names)
			}
			// Every counted action reached the simulator (warmups and retries add more).
			if got := sys.sim.Calls(tc.line, tc.op) - before; got < ok {
				t.Errorf("the simulator served %d %s, fewer than the %d actions counted", got, tc.op, ok)
			}
			// The Redis edge's limiter ran one script per action on the real Redis (others
			// may share it, so at least one).
			if r := phaseOf(t, rep, phaseEdgeRedis); r.RedisScripts < 0.9 {
				t.Errorf("edge-redis: %.2f Redis scripts per action, want about one", r.RedisScripts)
			}
			if rep.Compare.CPURatio <= 0 || rep.Compare.ThroughputRatio <= 0 || len(rep.Verdicts) != 4 {
				t.Errorf("comparison %+v, verdicts %+v", rep.Compare, rep.Verdicts)
			}
		})
	}
}

func TestRefusedActionsCountedApart(t *testing.T) {
	// 5 reads a second per merchant against unpaced goroutines: the edge refuses most.
	sys := startSystem(t, 1, "read=5/1s:5", false)
	rep := runJSON(t, "--edge", sys.edge, "--account-url", sys.sim.URL(sim.Account), "--merchants", "1",
		"--concurrency", "2", "--rounds", "1", "--warmup", "0s", "--duration", "500ms")
	e := phaseOf(t, rep, phaseEdge)
	if e.Limited == 0 || e.Failed != 0 || e.OK == 0 || e.OK > 10 {
		t.Fatalf("edge: ok %d, limited %d, failed %d (%v): want a few ok, the rest refused, none failed", e.OK, e.Limited, e.Failed, e.Errors)
	}
	if e.CPUPerRequest[roleSelf] <= 0 || e.CPUPerRequest[roleSelf] >= e.CPUPerAction[roleSelf] {
		t.Errorf("CPU per request %v, per action %v: want the refusals counted in the first", e.CPUPerRequest, e.CPUPerAction)
	}
	if b := phaseOf(t, rep, phaseBare); b.OK <= e.OK || b.Limited != 0 {
		t.Errorf("bare: ok %d, limited %d: the simulator has no such limit", b.OK, b.Limited)
	}
	if v := rep.Verdicts[2]; !strings.Contains(v.Note, "refused") {
		t.Errorf("throughput verdict %+v does not mention the refusals", v)
	}
}

func TestBareFailuresReported(t *testing.T) {
	sys := startSystem(t, 1, "", false)
	rep := runJSON(t, "--edge", sys.edge, "--account-url", sys.sim.URL(sim.Account), "--merchants", "1",
		"--partner-key", "wrong", "--concurrency", "1", "--rate", "50", "--rounds", "1", "--warmup", "0s", "--duration", "200ms")
	b := phaseOf(t, rep, phaseBare)
	if b.OK != 0 || b.Failed == 0 || len(b.Errors) == 0 || b.FirstError == "" {
		t.Fatalf("bare with a wrong key: ok %d, failed %d, errors %v (%q)", b.OK, b.Failed, b.Errors, b.FirstError)
	}
	if rep.LoopUS <= 0 {
		t.Errorf("paced run without the load loop's overhead measured: %v µs", rep.LoopUS)
	}
}

func TestLoginRefused(t *testing.T) {
	sys := startSystem(t, 1, "", false)
	var out, errs bytes.Buffer
	err := run(t.Context(), []string{"--edge", sys.edge, "--merchants", "1", "--password", "wrong"}, &out, &errs)
	var le *LoginError
	if !errors.As(err, &le) || le.Status != http.StatusUnauthorized || le.User != "m1001" {
		t.Fatalf("run with a wrong password: %v, want a LoginError for m1001 with HTTP 401", err)
	}
}

func TestBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"--action", "RefreshListing"},
		{"--merchants", "21"},
		{"--concurrency", "0"},
		{"--duration", "0s"},
		{"stray"},
	} {
		var out, errs bytes.Buffer
		if err := run(t.Context(), args, &out, &errs); !errors.Is(err, ErrConfig) {
			t.Errorf("run %v: %v, want ErrConfig", args, err)
		}
	}
}
