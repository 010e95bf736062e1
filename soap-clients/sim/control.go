package sim

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
)

// The control endpoints are unauthenticated: the sim is a test double, meant
// for loopback and demo setups, and tests drive it with curl or plain HTTP.

const maxControlBytes = 4 << 10

// Stats is a line server's counters, as GET /_sim/stats reports them.
type Stats struct {
	Line string `json:"line"`
	// Requests counts every POST to the SOAP endpoint.
	Requests int64 `json:"requests"`
	// Calls counts, per operation, the calls that reached it.
	Calls map[string]int64 `json:"calls"`
	// AuthFailures and BadRequests count the POSTs refused before an operation.
	AuthFailures int64 `json:"auth_failures"`
	BadRequests  int64 `json:"bad_requests"`
	// Injected counts injected failures by mode: fault, html_error,
	// malformed, endless.
	Injected map[string]int64 `json:"injected"`
	// Streaming is the number of endless answers being sent right now.
	Streaming int64      `json:"streaming"`
	Faults    faultsJSON `json:"faults"`
}

func (s *server) stats() Stats {
	st := Stats{
		Line:         s.svc.line,
		Requests:     s.requests.Load(),
		Calls:        make(map[string]int64, len(s.calls)),
		AuthFailures: s.authFailures.Load(),
		BadRequests:  s.badRequests.Load(),
		Injected:     make(map[string]int64, len(failureNames)-1),
		Streaming:    s.streaming.Load(),
		Faults:       toJSON(*s.faults.Load()),
	}
	for op, n := range s.calls {
		st.Calls[op] = n.Load()
	}
	for m := failFault; int(m) < len(failureNames); m++ {
		st.Injected[m.String()] = s.injected[m].Load()
	}
	return st
}

func (s *server) getStats(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, s.stats())
}

func (s *server) getFaults(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, toJSON(*s.faults.Load()))
}

// postFaults replaces the line's faults: keys left out are zero, so {} restores
// a well-behaved server.
func (s *server) postFaults(w http.ResponseWriter, r *http.Request) {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxControlBytes))
	dec.DisallowUnknownFields()
	var in faultsJSON
	if err := dec.Decode(&in); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid faults JSON: " + err.Error()})
		return
	}
	if err := dec.Decode(&struct{}{}); !errors.Is(err, io.EOF) {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid faults JSON: one object expected"})
		return
	}
	f, err := in.faults()
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
		return
	}
	s.faults.Store(&f)
	s.log.Info("faults set", "faults", toJSON(f))
	writeJSON(w, http.StatusOK, toJSON(f))
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
