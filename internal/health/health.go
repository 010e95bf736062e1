// Package health answers readiness probes (GET /readyz): whether the dependencies a
// process needs to serve answer now. Liveness (GET /healthz) stays with each server: it
// says only that the process serves requests.
//
// Each check is a cheap call to one dependency (a one-row read, a Redis PING), run in
// parallel with the others under its own short deadline, so a probe costs at most that
// deadline however many dependencies hang. The answer names each dependency with "ok",
// "timeout" or "unreachable", never the dependency's own error text (that is logged):
// probes are unauthenticated.
package health

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"
)

// DefaultTimeout bounds one check when New is given none.
const DefaultTimeout = time.Second

// Check is one dependency: Probe returns nil when it answers.
type Check struct {
	Name  string
	Probe func(ctx context.Context) error
}

// States of a check in a Report.
const (
	StateOK          = "ok"
	StateTimeout     = "timeout"     // no answer within the check's deadline
	StateUnreachable = "unreachable" // answered with an error, or the connection failed
)

// Report is the body of a readiness answer. A not-ready report also has the fields of
// the APIs' error shape (code "unavailable" and a message naming what failed).
type Report struct {
	Status  string            `json:"status"` // "ready" or "unready"
	Code    string            `json:"code,omitempty"`
	Message string            `json:"message,omitempty"`
	Checks  map[string]string `json:"checks"` // dependency name: ok, timeout or unreachable
}

// Ready reports whether every check passed.
func (r Report) Ready() bool { return r.Status == "ready" }

// HTTPStatus is 200 when ready, else 503.
func (r Report) HTTPStatus() int {
	if r.Ready() {
		return http.StatusOK
	}
	return http.StatusServiceUnavailable
}

// Readiness runs a process's checks. The zero of *Readiness (nil) has none: always ready.
type Readiness struct {
	checks  []Check
	timeout time.Duration
	log     *slog.Logger
}

// New returns the readiness of the given checks, each bounded by timeout (0 means
// DefaultTimeout). Failures are logged on log (nil: not logged).
func New(timeout time.Duration, log *slog.Logger, checks ...Check) *Readiness {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Readiness{checks: checks, timeout: timeout, log: log}
}

// With returns a Readiness with more checks, keeping r's timeout and logger.
func (r *Readiness) With(checks ...Check) *Readiness {
	if r == nil {
		return New(0, nil, checks...)
	}
	return &Readiness{checks: append(append([]Check(nil), r.checks...), checks...), timeout: r.timeout, log: r.log}
}

// Check runs every check in parallel and reports them.
func (r *Readiness) Check(ctx context.Context) Report {
	rep := Report{Status: "ready", Checks: map[string]string{}}
	if r == nil {
		return rep
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, c := range r.checks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			state := r.run(ctx, c)
			mu.Lock()
			rep.Checks[c.Name] = state
			mu.Unlock()
		}()
	}
	wg.Wait()
	var failed []string
	for name, state := range rep.Checks {
		if state != StateOK {
			failed = append(failed, name)
		}
	}
	if len(failed) > 0 {
		sort.Strings(failed)
		rep.Status, rep.Code = "unready", "unavailable"
		rep.Message = "not ready: " + strings.Join(failed, ", ")
	}
	return rep
}

func (r *Readiness) run(ctx context.Context, c Check) string {
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	err := c.Probe(ctx)
	if err == nil {
		return StateOK
	}
	state := StateUnreachable
	if errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil {
		state = StateTimeout
	}
	r.log.WarnContext(ctx, "readiness check failed", "dependency", c.Name, "state", state, "err", err)
	return state
}

// ServeHTTP answers GET /readyz.
func (r *Readiness) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	rep := r.Check(req.Context())
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(rep.HTTPStatus())
	_ = json.NewEncoder(w).Encode(rep)
}
