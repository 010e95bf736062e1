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

// BenchmarkPutUsersIfAbsent measures a bulk merchant import: each op inserts one full
// batch (MaxBatch) of new users in one statement.
//
//	go test -run '^$' -bench PutUsersIfAbsent ./core-im/store/
func BenchmarkPutUsersIfAbsent(b *testing.B) {
	for _, bk := range []backend{sqliteBackend(), postgresBackend()} {
		b.Run(bk.name, func(b *testing.B) {
			s := bk.open(b, Options{})
			batch := make([]User, MaxBatch)
			b.ReportAllocs()
			for n := 0; b.Loop(); n++ {
				for i := range batch {
					batch[i] = User{ID: fmt.Sprintf("m%d-%d", n, i), Kind: UserMerchant, DisplayName: "Sunny Homes"}
				}
				created, err := s.PutUsersIfAbsent(b.Context(), batch)
				if err != nil || created != MaxBatch {
					b.Fatalf("batch %d: created %d, %v", n, created, err)
				}
			}
			b.ReportMetric(float64(b.N*MaxBatch)/b.Elapsed().Seconds(), "users/s")
		})
	}
}

// BenchmarkAckParallel measures delivery acks per second: many devices acking at once,
// group-committed (each ack checked against its inbox's newest seq).
//
//	go test -run '^$' -bench AckParallel ./core-im/store/
func BenchmarkAckParallel(b *testing.B) {
	for _, bk := range []backend{sqliteBackend(), postgresBackend()} {
		b.Run(bk.name, func(b *testing.B) {
			s := bk.open(b, Options{})
			const users = 512
			for u := range users {
				if _, err := s.Append(b.Context(), system(fmt.Sprintf("u%d", u))); err != nil {
					b.Fatal(err)
				}
			}
			var worker atomic.Int64
			b.SetParallelism(64)
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				w := worker.Add(1)
				for i := 0; pb.Next(); i++ {
					user := fmt.Sprintf("u%d", (int(w)*7+i)%users)
					if _, err := s.AckDelivered(b.Context(), user, fmt.Sprintf("d%d", w), 1); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "acks/s")
		})
	}
}
