package ratelimit

import (
	"fmt"
	"slices"
	"testing"
	"time"
)

// benchLimits never deny, so every call costs a full update.
var benchLimits = map[Class]Limit{ClassRead: {Rate: 1_000_000, Burst: 1_000_000, Period: time.Second}}

func BenchmarkAllowLocal(b *testing.B) {
	l := NewLocal(benchLimits, Options{})
	ctx := b.Context()
	merchants := make([]string, 1000)
	for i := range merchants {
		merchants[i] = fmt.Sprintf("m%d", i)
	}
	b.Run("serial", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			if _, err := l.Allow(ctx, merchants[i%len(merchants)], ClassRead); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			for i := 0; pb.Next(); i++ {
				if _, err := l.Allow(ctx, merchants[i%len(merchants)], ClassRead); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
}

// BenchmarkAllowRedis measures one check against the real Redis and reports
// its latency percentiles, the figure BENCHMARKS.md quotes.
func BenchmarkAllowRedis(b *testing.B) {
	c := redisClient(b)
	l := NewRedis(c, benchLimits, Options{KeyPrefix: testPrefix(b, c)})
	ctx := b.Context()
	var lat []time.Duration
	for i := 0; b.Loop(); i++ {
		start := time.Now()
		d, err := l.Allow(ctx, fmt.Sprintf("m%d", i%1000), ClassRead)
		lat = append(lat, time.Since(start))
		if err != nil || d.Source != SourceRedis {
			b.Fatalf("allow: %+v, %v", d, err)
		}
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
}
