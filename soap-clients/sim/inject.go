package sim

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"time"
)

// ErrFaults is wrapped by SetFaults for settings out of range.
var ErrFaults = errors.New("sim: invalid faults")

// Faults is what a line's server does wrong on purpose. The zero value is a
// well-behaved server. Each call draws at most one failure mode; the rates
// add up to at most 1 and 1 means every call.
type Faults struct {
	// Latency is added before every answer, plus a uniform random extra of
	// up to Jitter. A client that gives up first makes the server drop the call.
	Latency, Jitter time.Duration

	// FaultRate is the share of calls answered with a soap:Server fault
	// ("service temporarily unavailable").
	FaultRate float64
	// HTMLErrorRate is the share answered HTTP 500 with an HTML error page,
	// as a proxy or a crashed application server sends.
	HTMLErrorRate float64
	// MalformedRate is the share answered HTTP 200 with XML that breaks off.
	MalformedRate float64
	// EndlessRate is the share answered HTTP 200 with a response that starts
	// well and never ends: it streams until the client goes away.
	EndlessRate float64

	// FaultStatusOK sends every soap:Fault, declared or injected, with HTTP
	// 200 instead of 500, as some real servers do.
	FaultStatusOK bool
	// ApplyBeforeFailure performs the operation (and charges for it) before
	// an injected failure, as when the answer is lost on its way back.
	ApplyBeforeFailure bool
}

// maxLatency keeps a typo in a control request from parking calls for days.
const maxLatency = 10 * time.Minute

func (f Faults) validate() error {
	if f.Latency < 0 || f.Jitter < 0 || f.Latency+f.Jitter > maxLatency {
		return fmt.Errorf("%w: latency and jitter must be between 0 and %s in all", ErrFaults, maxLatency)
	}
	sum := 0.0
	for _, r := range []float64{f.FaultRate, f.HTMLErrorRate, f.MalformedRate, f.EndlessRate} {
		if !(r >= 0 && r <= 1) { // also refuses NaN
			return fmt.Errorf("%w: rates must be between 0 and 1", ErrFaults)
		}
		sum += r
	}
	if sum > 1+1e-9 {
		return fmt.Errorf("%w: rates add up to %.3f, more than 1", ErrFaults, sum)
	}
	return nil
}

// failure is the injected failure mode of one call.
type failure int

const (
	failNone failure = iota
	failFault
	failHTML
	failMalformed
	failEndless
)

var failureNames = [...]string{failNone: "none", failFault: "fault", failHTML: "html_error", failMalformed: "malformed", failEndless: "endless"}

func (m failure) String() string { return failureNames[m] }

// draw picks this call's failure mode and delay.
func (f Faults) draw() (failure, time.Duration) {
	delay := f.Latency
	if f.Jitter > 0 {
		delay += rand.N(f.Jitter + 1)
	}
	u := rand.Float64()
	for _, c := range []struct {
		rate float64
		mode failure
	}{{f.FaultRate, failFault}, {f.HTMLErrorRate, failHTML}, {f.MalformedRate, failMalformed}, {f.EndlessRate, failEndless}} {
		if u < c.rate {
			return c.mode, delay
		}
		u -= c.rate
	}
	return failNone, delay
}

// faultsJSON is the control endpoint's form of Faults: durations in
// milliseconds, unknown keys refused.
type faultsJSON struct {
	LatencyMS          int64   `json:"latency_ms"`
	JitterMS           int64   `json:"jitter_ms"`
	FaultRate          float64 `json:"fault_rate"`
	HTMLErrorRate      float64 `json:"html_error_rate"`
	MalformedRate      float64 `json:"malformed_rate"`
	EndlessRate        float64 `json:"endless_rate"`
	FaultStatusOK      bool    `json:"fault_status_ok"`
	ApplyBeforeFailure bool    `json:"apply_before_failure"`
}

func (j faultsJSON) faults() (Faults, error) {
	// Checked before converting: a huge millisecond count would overflow
	// time.Duration into a small or negative one.
	limit := maxLatency.Milliseconds()
	if j.LatencyMS < 0 || j.JitterMS < 0 || j.LatencyMS > limit || j.JitterMS > limit {
		return Faults{}, fmt.Errorf("%w: latency and jitter must be between 0 and %d ms", ErrFaults, limit)
	}
	f := Faults{
		Latency:            time.Duration(j.LatencyMS) * time.Millisecond,
		Jitter:             time.Duration(j.JitterMS) * time.Millisecond,
		FaultRate:          j.FaultRate,
		HTMLErrorRate:      j.HTMLErrorRate,
		MalformedRate:      j.MalformedRate,
		EndlessRate:        j.EndlessRate,
		FaultStatusOK:      j.FaultStatusOK,
		ApplyBeforeFailure: j.ApplyBeforeFailure,
	}
	return f, f.validate()
}

func toJSON(f Faults) faultsJSON {
	return faultsJSON{
		LatencyMS:          f.Latency.Milliseconds(),
		JitterMS:           f.Jitter.Milliseconds(),
		FaultRate:          f.FaultRate,
		HTMLErrorRate:      f.HTMLErrorRate,
		MalformedRate:      f.MalformedRate,
		EndlessRate:        f.EndlessRate,
		FaultStatusOK:      f.FaultStatusOK,
		ApplyBeforeFailure: f.ApplyBeforeFailure,
	}
}
