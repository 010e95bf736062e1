package edge

import (
	"strings"
	"testing"
	"time"

	"github.com/bangbang-im/bangbang/core-im/auth"
)

// BenchmarkTokenCheck is the per-request cost of authenticating a merchant: the local
// signature and expiry check alone (before revocation existed), and with the revocation
// answer found in the 5 s cache (every request but the first per token per 5 s).
func BenchmarkTokenCheck(b *testing.B) {
	tk, err := auth.NewTokens([]byte(strings.Repeat("s", 32)), time.Hour, nil)
	if err != nil {
		b.Fatal(err)
	}
	token, _, err := tk.Issue("m1001", "merchant")
	if err != nil {
		b.Fatal(err)
	}
	b.Run("verify", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := tk.Verify(token); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("verify+cached-check", func(b *testing.B) {
		checks := &tokenChecks{now: time.Now, m: map[string]tokenCheck{}}
		c, _ := tk.Verify(token)
		checks.put(c, true)
		b.ReportAllocs()
		for b.Loop() {
			c, err := tk.Verify(token)
			if err != nil {
				b.Fatal(err)
			}
			if valid, ok := checks.get(c); !ok || !valid {
				b.Fatal("not cached")
			}
		}
	})
}
