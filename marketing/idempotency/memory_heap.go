package idempotency

import (
	"container/heap"
	"time"
)

// memEntry is one key of the memory store: a claim or a completed record.
type memEntry struct {
	id      string // scope + "\x00" + key
	done    bool
	fp      string
	rec     Record // when done
	expires time.Time
	index   int // in the heap of its state
}

// expiryHeap orders entries by expiry, soonest first. Claims and records
// live in separate heaps so eviction can pick the oldest record without
// walking past the claims.
type expiryHeap []*memEntry

func (h expiryHeap) Len() int           { return len(h) }
func (h expiryHeap) Less(i, j int) bool { return h[i].expires.Before(h[j].expires) }
func (h expiryHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index, h[j].index = i, j
}

func (h *expiryHeap) Push(x any) {
	e := x.(*memEntry)
	e.index = len(*h)
	*h = append(*h, e)
}

func (h *expiryHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	e.index = -1
	return e
}

func (h *expiryHeap) add(e *memEntry)    { heap.Push(h, e) }
func (h *expiryHeap) remove(e *memEntry) { heap.Remove(h, e.index) }

// peek returns the entry expiring first, or nil.
func (h expiryHeap) peek() *memEntry {
	if len(h) == 0 {
		return nil
	}
	return h[0]
}
