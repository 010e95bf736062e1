package ratelimit

import "sync"

// entry is one key's GCRA state, linked into its shard's recency list.
type entry struct {
	key        string
	tat        int64
	prev, next *entry
}

// lruShard holds at most max keys; when full, the least recently used key
// goes. Forgetting a key can only make its next request more lenient, and the
// key evicted is the one idle longest, usually long past its reset.
// Callers hold mu.
type lruShard struct {
	mu   sync.Mutex
	m    map[string]*entry
	head entry // sentinel: head.next is the most recent, head.prev the least
	max  int
}

func (s *lruShard) init(maxKeys int) {
	s.m = make(map[string]*entry)
	s.head.next, s.head.prev = &s.head, &s.head
	s.max = maxKeys
}

// get returns key's entry, creating it (tat 0) if absent, and marks it most
// recently used.
func (s *lruShard) get(key string) *entry {
	if e := s.m[key]; e != nil {
		s.unlink(e)
		s.pushFront(e)
		return e
	}
	if len(s.m) >= s.max {
		old := s.head.prev
		s.unlink(old)
		delete(s.m, old.key)
	}
	e := &entry{key: key}
	s.m[key] = e
	s.pushFront(e)
	return e
}

func (s *lruShard) unlink(e *entry) {
	e.prev.next, e.next.prev = e.next, e.prev
	e.prev, e.next = nil, nil
}

func (s *lruShard) pushFront(e *entry) {
	e.prev, e.next = &s.head, s.head.next
	s.head.next.prev = e
	s.head.next = e
}
