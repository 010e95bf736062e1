package latency

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func TestBucketsAreContiguous(t *testing.T) {
	prev := -1
	for us := uint64(0); us < 1<<16; us++ {
		b := bucketOf(us)
		if b != prev && b != prev+1 {
			t.Fatalf("bucketOf(%d) = %d after %d: buckets skip", us, b, prev)
		}
		if mid := bucketMid(b); math.Abs(mid-float64(us)) > float64(us)/subCount+1 {
			t.Fatalf("bucketOf(%d) = %d with middle %.1f: off by more than 1/%d", us, b, mid, subCount)
		}
		prev = b
	}
	if b := bucketOf(math.MaxUint64); b != nBuckets-1 {
		t.Errorf("bucketOf(max) = %d, want the last bucket %d", b, nBuckets-1)
	}
}

func TestQuantilesWithinBucketError(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, tc := range []struct {
		name string
		draw func() time.Duration
	}{
		{"uniform 0-10ms", func() time.Duration { return time.Duration(rng.Int64N(int64(10 * time.Millisecond))) }},
		{"exponential mean 2ms", func() time.Duration { return time.Duration(rng.ExpFloat64() * float64(2*time.Millisecond)) }},
		{"bimodal 1ms/500ms", func() time.Duration {
			if rng.IntN(100) == 0 {
				return 500 * time.Millisecond
			}
			return time.Millisecond
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var h Histogram
			samples := make([]time.Duration, 20000)
			for i := range samples {
				samples[i] = tc.draw()
				h.Record(samples[i])
			}
			slices.Sort(samples)
			for _, q := range []float64{0.5, 0.9, 0.99, 0.999, 1} {
				want := samples[int(math.Ceil(q*float64(len(samples))))-1]
				got := h.Quantile(q)
				if tol := want/subCount + 2*time.Microsecond; got < want-tol || got > want+tol {
					t.Errorf("q%.3f = %v, exact %v (tolerance %v)", q, got, want, tol)
				}
			}
			if h.max != samples[len(samples)-1] {
				t.Errorf("max %v, want %v", h.max, samples[len(samples)-1])
			}
		})
	}
}

func TestMergeEqualsOneHistogram(t *testing.T) {
	var a, b, all Histogram
	for i := range 1000 {
		d := time.Duration(i) * 37 * time.Microsecond
		all.Record(d)
		if i%3 == 0 {
			a.Record(d)
		} else {
			b.Record(d)
		}
	}
	a.Merge(&b)
	if a != all {
		t.Fatalf("merged %+v, want %+v", a.Summary(), all.Summary())
	}
}

func TestEmptyHistogram(t *testing.T) {
	var h Histogram
	if s := h.Summary(); s != (Summary{}) {
		t.Fatalf("empty summary %+v, want zeros", s)
	}
	h.Record(-time.Second) // a clock step backwards counts as zero, not a panic
	if h.Quantile(0.5) != 0 || h.n != 1 {
		t.Fatalf("negative sample: q50 %v, n %d", h.Quantile(0.5), h.n)
	}
}
