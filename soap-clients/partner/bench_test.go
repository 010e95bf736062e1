//go:build unix

package partner_test

import (
	"context"
	"net/http"
	"syscall"
	"testing"
	"time"

	"github.com/hooklift/gowsdl/soap"

	genhousing "github.com/bangbang-im/bangbang/gen/soap/housing"
	"github.com/bangbang-im/bangbang/soap-clients/sim"
)

// The benchmarks compare a paid call through the partner policy with the
// generated client alone, both against the in-process sim (whose CPU is in
// the figures too). Every iteration replays one requestId, so the sim answers
// the first promotion again without charging: the work per call stays the same.
// Besides ns/op they report cpu-ns/op, the process's user and system CPU time
// per call, which a busy shared machine disturbs less than wall time.

func BenchmarkDoPromote(b *testing.B) {
	s := startSim(b)
	c, port := newHousing(b, s)
	ctx := context.Background()
	b.ReportAllocs()
	defer reportCPU(b)()
	for b.Loop() {
		if _, err := promote(ctx, c, port, "m1001", "Lm1001-01", 1, "bench"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBarePromote is the generated client on a plain pooled
// http.Client: gowsdl's Connection: close makes it dial for every call.
func BenchmarkBarePromote(b *testing.B) {
	benchBare(b, bareHTTPClient(b))
}

// BenchmarkBareKeepAlivePromote is the bare client with only gowsdl's
// Connection: close undone: the fair baseline for the policy's own cost.
func BenchmarkBareKeepAlivePromote(b *testing.B) {
	hc := bareHTTPClient(b)
	hc.Transport = keepAlive{hc.Transport}
	benchBare(b, hc)
}

func benchBare(b *testing.B, hc *http.Client) {
	s := startSim(b)
	port := genhousing.NewHousingPortType(soap.NewClient(s.URL(sim.Housing),
		soap.WithHTTPClient(hc), soap.WithBasicAuth(sim.DefaultPartnerID, sim.DefaultPartnerKey)))
	ctx := context.Background()
	req := &genhousing.PromoteListing{MerchantId: "m1001", ListingId: "Lm1001-01", Days: 1, RequestId: "bench"}
	b.ReportAllocs()
	defer reportCPU(b)()
	for b.Loop() {
		if _, err := port.PromoteListingContext(ctx, req); err != nil {
			b.Fatal(err)
		}
	}
}

// bareHTTPClient is a plain pooled client, its idle connections closed when
// the test ends.
func bareHTTPClient(t testing.TB) *http.Client {
	tr := &http.Transport{MaxIdleConnsPerHost: 64}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr}
}

type keepAlive struct{ base http.RoundTripper }

func (k keepAlive) RoundTrip(r *http.Request) (*http.Response, error) {
	out := *r
	out.Close = false
	return k.base.RoundTrip(&out)
}

// reportCPU starts measuring the process's CPU time; the function it returns
// reports it per iteration.
func reportCPU(b *testing.B) func() {
	start := cpuTime(b)
	return func() {
		b.ReportMetric(float64(cpuTime(b)-start)/float64(b.N), "cpu-ns/op")
	}
}

func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
