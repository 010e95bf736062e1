// Package latency is the latency histogram the bench programs share: log-linear over
// microseconds, fixed size, no allocation per sample, mergeable.
package latency

import (
	"math/bits"
	"time"
)

// The histogram is log-linear over microseconds: exact below 2^subBits µs, then 2^subBits
// buckets per power of two, so any reported percentile is within 1/2^subBits (3%) of the
// true sample. Fixed size, no allocation per sample: each connection owns one and they
// are merged at the end, so recording needs no lock.
const (
	subBits  = 5
	subCount = 1 << subBits
	maxExp   = 40 // 2^40 µs is 12 days: anything longer is clamped
	nBuckets = (maxExp - subBits + 1) * subCount
)

// Histogram records durations. The zero value is ready; it is not safe for concurrent use:
// give each worker one and Merge them.
type Histogram struct {
	counts [nBuckets]uint64
	n      uint64
	sum    time.Duration
	max    time.Duration
}

func bucketOf(us uint64) int {
	if us < subCount {
		return int(us)
	}
	shift := bits.Len64(us) - 1 - subBits
	i := (shift+1)<<subBits + int(us>>uint(shift)) - subCount
	return min(i, nBuckets-1)
}

// bucketMid is the middle of bucket i, in microseconds.
func bucketMid(i int) float64 {
	if i < subCount {
		return float64(i)
	}
	shift := i>>subBits - 1
	lo := uint64(i&(subCount-1)+subCount) << uint(shift)
	return float64(lo) + float64(uint64(1)<<uint(shift))/2
}

// Record adds one sample.
func (h *Histogram) Record(d time.Duration) {
	d = max(d, 0)
	h.counts[bucketOf(uint64(d/time.Microsecond))]++
	h.n++
	h.sum += d
	h.max = max(h.max, d)
}

// Merge adds o's samples to h.
func (h *Histogram) Merge(o *Histogram) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.n += o.n
	h.sum += o.sum
	h.max = max(h.max, o.max)
}

// Quantile is the q-quantile (0 < q <= 1), 0 when empty. The nearest-rank sample's bucket
// is reported by its middle, never past the largest sample seen.
func (h *Histogram) Quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := uint64(q*float64(h.n) + 0.999999)
	rank = min(max(rank, 1), h.n)
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			return min(time.Duration(bucketMid(i)*float64(time.Microsecond)), h.max)
		}
	}
	return h.max
}

// Mean is the average sample, 0 when empty.
func (h *Histogram) Mean() time.Duration {
	if h.n == 0 {
		return 0
	}
	return h.sum / time.Duration(h.n)
}

// Summary is what a report shows, in milliseconds.
type Summary struct {
	Count uint64  `json:"count"`
	Mean  float64 `json:"mean_ms"`
	P50   float64 `json:"p50_ms"`
	P90   float64 `json:"p90_ms"`
	P99   float64 `json:"p99_ms"`
	P999  float64 `json:"p999_ms"`
	Max   float64 `json:"max_ms"`
}

// Summary returns the count, mean, percentiles and maximum.
func (h *Histogram) Summary() Summary {
	return Summary{Count: h.n, Mean: MS(h.Mean()), P50: MS(h.Quantile(0.5)), P90: MS(h.Quantile(0.9)),
		P99: MS(h.Quantile(0.99)), P999: MS(h.Quantile(0.999)), Max: MS(h.max)}
}

// MS is d in milliseconds, to the microsecond.
func MS(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
