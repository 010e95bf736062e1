// Package profiles serves the Go runtime's profiles (net/http/pprof) under /debug/pprof/,
// so that an SRE can take a CPU, heap, goroutine or mutex profile of any process with
// `go tool pprof` and no other tool on the host.
package profiles

import (
	"net/http"
	"net/http/pprof"
)

// Prefix is the path every profile is served under.
const Prefix = "/debug/pprof/"

// Handler serves the index at Prefix, the named profiles below it (heap, goroutine,
// allocs, block, mutex, threadcreate), and cmdline, profile (CPU, ?seconds=N), symbol and
// trace.
func Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc(Prefix, pprof.Index)
	mux.HandleFunc(Prefix+"cmdline", pprof.Cmdline)
	mux.HandleFunc(Prefix+"profile", pprof.Profile)
	mux.HandleFunc(Prefix+"symbol", pprof.Symbol)
	mux.HandleFunc(Prefix+"trace", pprof.Trace)
	return mux
}
