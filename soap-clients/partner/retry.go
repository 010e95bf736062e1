package partner

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"time"
)

// retryTokensMax bounds the retry budget's bucket: with the default 0.1 a
// token a call, it remembers about the last hundred calls, and a burst of
// failures after a quiet spell gets at most this many retries.
const retryTokensMax = 10

// Backoff between attempts: exponential from backoffBase, at most backoffMax,
// with jitter so that callers who failed together do not retry together.
const (
	backoffBase = 20 * time.Millisecond
	backoffMax  = 200 * time.Millisecond
	// minAttempt is the least time left worth starting an attempt with.
	minAttempt = 10 * time.Millisecond
)

// retryBudget is a token bucket: every call earns ratio tokens, every retry
// spends one. It starts full, so a client's first failures can be retried.
type retryBudget struct {
	mu     sync.Mutex
	ratio  float64
	tokens float64
}

func newRetryBudget(ratio float64) *retryBudget {
	return &retryBudget{ratio: ratio, tokens: retryTokensMax}
}

func (b *retryBudget) deposit() {
	b.mu.Lock()
	b.tokens = min(b.tokens+b.ratio, retryTokensMax)
	b.mu.Unlock()
}

func (b *retryBudget) withdraw() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// backoff returns the wait before retry n (1 for the first retry): half the
// exponential step plus a random share of the other half.
func backoff(n int) time.Duration {
	d := backoffBase << min(n-1, 8)
	d = min(d, backoffMax)
	return d/2 + rand.N(d/2+1)
}

// retryable reports whether another attempt may succeed where this one
// failed. Declared faults, refused credentials and an open breaker will not
// change by retrying; neither will a client-side fault.
func retryable(err error) bool {
	var f *Fault
	if errors.As(err, &f) {
		return f.Kind == FaultServer && f.serverSide()
	}
	return errors.Is(err, ErrTransport) || errors.Is(err, ErrBadResponse) || errors.Is(err, ErrTimeout)
}

// wait sleeps d unless ctx ends first; it reports whether d elapsed.
func wait(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
