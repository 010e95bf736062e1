package client

// recentIDs is how many message ids the inbox remembers, to drop a message the server
// resends under a different seq. Sequences catch every other duplicate.
const recentIDs = 1024

type verdict int

const (
	verdictNext      verdict = iota // continues the sequence: deliver it
	verdictDuplicate                // already delivered: drop it
	verdictGap                      // messages are missing before it: sync
)

// inbox is the ordering state of the delivery goroutine, which alone uses it.
type inbox struct {
	last int64 // highest seq delivered (or the resume point)
	ids  map[string]struct{}
	ring []string // ids in delivery order, oldest evicted first
	head int
}

func newInbox(last int64) *inbox {
	return &inbox{last: last, ids: make(map[string]struct{}, recentIDs), ring: make([]string, recentIDs)}
}

// classify judges a pushed message by its seq; a repeated message id is caught when it is
// handed over. Sync results are not classified for gaps: the server answers with everything
// it holds after the requested seq, so whatever it skips is gone.
func (b *inbox) classify(seq int64) verdict {
	switch {
	case seq <= b.last:
		return verdictDuplicate
	case seq != b.last+1:
		return verdictGap
	}
	return verdictNext
}

func (b *inbox) seen(id string) bool {
	_, ok := b.ids[id]
	return id != "" && ok
}

// advance records seq (and id) as delivered or skipped.
func (b *inbox) advance(seq int64, id string) {
	b.last = max(b.last, seq)
	if id == "" || b.seen(id) {
		return
	}
	if old := b.ring[b.head]; old != "" {
		delete(b.ids, old)
	}
	b.ring[b.head] = id
	b.ids[id] = struct{}{}
	b.head = (b.head + 1) % len(b.ring)
}
