package store

import (
	"fmt"
	"sync/atomic"
	"testing"
)

// BenchmarkAppendParallel measures durable appends per second with group
// commit: many goroutines append chat messages (two inboxes each, with a
// client message id, as clients send them) and each Append returns after its
// commit.
//
//	go test -run '^$' -bench AppendParallel ./core-im/store/
func BenchmarkAppendParallel(b *testing.B) {
	for _, bk := range []backend{sqliteBackend(), postgresBackend()} {
		b.Run(bk.name, func(b *testing.B) {
			s := bk.open(b, Options{})
			var worker atomic.Int64
			// Group commit needs concurrent callers: 64 per CPU.
			b.SetParallelism(64)
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				w := worker.Add(1)
				from := fmt.Sprintf("m%d", w)
				for i := 0; pb.Next(); i++ {
					m := chat(from, fmt.Sprintf("c%d", i%8), fmt.Sprint(i))
					if _, err := s.Append(b.Context(), m); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
		})
	}
}
