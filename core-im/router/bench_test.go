package router

import (
	"fmt"
	"testing"
	"time"
)

var tables = []struct {
	name string
	new  newTableFunc
}{
	{"memory", newMemoryTable},
	{"redis", newRedisTable},
}

// seed stores users u0..u<n-1> with two devices each on one node.
func seed(b *testing.B, tb Table, n int) []Route {
	b.Helper()
	rs := make([]Route, 0, 2*n)
	for i := range n {
		u := fmt.Sprintf("u%d", i)
		rs = append(rs, rt(u, "phone", "nodeA", "p"+u), rt(u, "web", "nodeA", "w"+u))
	}
	for chunk := 0; chunk < len(rs); chunk += 100 {
		for _, r := range rs[chunk:min(chunk+100, len(rs))] {
			if _, err := tb.Put(b.Context(), r, 10*time.Minute); err != nil {
				b.Fatal(err)
			}
		}
	}
	return rs
}

func BenchmarkLookup(b *testing.B) {
	for _, tc := range tables {
		for _, batch := range []int{1, 100} {
			b.Run(fmt.Sprintf("%s/users=%d", tc.name, batch), func(b *testing.B) {
				tb, _ := tc.new(b)
				const users = 1000
				seed(b, tb, users)
				query := make([]string, batch)
				for i := 0; b.Loop(); i++ {
					for j := range query {
						query[j] = fmt.Sprintf("u%d", (i*batch+j)%users)
					}
					got, err := tb.Lookup(b.Context(), query)
					if err != nil || len(got) != batch {
						b.Fatalf("lookup: %d users, %v", len(got), err)
					}
				}
			})
		}
	}
}

func BenchmarkRenew100(b *testing.B) {
	for _, tc := range tables {
		b.Run(tc.name, func(b *testing.B) {
			tb, _ := tc.new(b)
			rs := seed(b, tb, 50) // 100 routes, one gateway's renew batch
			for b.Loop() {
				lost, err := tb.Renew(b.Context(), rs, 10*time.Minute)
				if err != nil || len(lost) != 0 {
					b.Fatalf("renew: %d lost, %v", len(lost), err)
				}
			}
		})
	}
}
