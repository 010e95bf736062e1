package router

import (
	"context"
	"slices"
	"strings"
	"sync/atomic"
	"time"
)

// MemoryOptions configures NewMemory.
type MemoryOptions struct {
	// Shards: 0 (or less) means 64. Users are spread over shards by an FNV
	// hash so writers of different users rarely share a lock.
	Shards int
	// Now: nil means time.Now. Tests pass a clock they can move.
	Now func() time.Time
	// SweepInterval is how often the janitor deletes expired routes: 0 means
	// half the shortest ttl passed to Put or Renew so far, at least 10ms.
	// Expired routes are never returned either way; sweeping only frees memory.
	SweepInterval time.Duration
}

// memory is the in-process Table used when no Redis is configured.
type memory struct {
	shards  []shard
	now     func() time.Time
	janitor *janitor
	closed  atomic.Bool
}

// NewMemory returns an in-process Table. It starts a janitor goroutine that
// Close stops.
func NewMemory(opt MemoryOptions) Table {
	n := opt.Shards
	if n <= 0 {
		n = 64
	}
	m := &memory{shards: make([]shard, n), now: opt.Now}
	if m.now == nil {
		m.now = time.Now
	}
	for i := range m.shards {
		m.shards[i].init()
	}
	m.janitor = newJanitor(opt.SweepInterval, m.sweep)
	go m.janitor.run()
	return m
}

// shardOf hashes the user with inline FNV-1a: hash/fnv would allocate on
// every call of the hot lookup path.
func (m *memory) shardOf(user string) *shard {
	h := uint32(2166136261)
	for i := 0; i < len(user); i++ {
		h ^= uint32(user[i])
		h *= 16777619
	}
	return &m.shards[h%uint32(len(m.shards))]
}

func (m *memory) Put(ctx context.Context, r Route, ttl time.Duration) (*Route, error) {
	if m.closed.Load() {
		return nil, ErrClosed
	}
	if err := checkRoute(&r); err != nil {
		return nil, err
	}
	if err := checkTTL(ttl); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.janitor.noteTTL(ttl)
	r.Since = msTime(r.Since)
	s := m.shardOf(r.UserID)
	now := m.now()
	s.mu.Lock()
	replaced := s.put(r, now.Add(ttl), now)
	s.mu.Unlock()
	return replaced, nil
}

func (m *memory) Remove(ctx context.Context, r Route) (bool, error) {
	if m.closed.Load() {
		return false, ErrClosed
	}
	if err := checkConn(&r); err != nil {
		return false, err
	}
	if err := ctx.Err(); err != nil {
		return false, err
	}
	s := m.shardOf(r.UserID)
	now := m.now()
	s.mu.Lock()
	removed := s.remove(&r, now)
	s.mu.Unlock()
	return removed, nil
}

func (m *memory) Renew(ctx context.Context, rs []Route, ttl time.Duration) ([]Route, error) {
	if m.closed.Load() {
		return nil, ErrClosed
	}
	for i := range rs {
		if err := checkConn(&rs[i]); err != nil {
			return nil, err
		}
	}
	if err := checkTTL(ttl); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.janitor.noteTTL(ttl)
	now := m.now()
	expires := now.Add(ttl)
	var lost []Route
	for i := range rs {
		s := m.shardOf(rs[i].UserID)
		s.mu.Lock()
		kept := s.renew(&rs[i], expires, now)
		s.mu.Unlock()
		if !kept {
			lost = append(lost, rs[i])
		}
	}
	return lost, nil
}

func (m *memory) Lookup(ctx context.Context, users []string) (map[string][]Route, error) {
	if m.closed.Load() {
		return nil, ErrClosed
	}
	if err := checkUsers(users); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	now := m.now()
	out := make(map[string][]Route, len(users))
	for _, u := range users {
		if _, done := out[u]; done {
			continue
		}
		s := m.shardOf(u)
		s.mu.RLock()
		rs := s.live(u, now)
		s.mu.RUnlock()
		if len(rs) > 0 {
			sortByDevice(rs)
			out[u] = rs
		}
	}
	return out, nil
}

func (m *memory) Count(ctx context.Context, node string) (int, error) {
	if m.closed.Load() {
		return 0, ErrClosed
	}
	if err := checkID("node", node); err != nil {
		return 0, err
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	now := m.now()
	n := 0
	for i := range m.shards {
		s := &m.shards[i]
		s.mu.RLock()
		n += s.count(node, now)
		s.mu.RUnlock()
	}
	return n, nil
}

// Close stops the janitor and waits for it. It is idempotent.
func (m *memory) Close() error {
	if m.closed.CompareAndSwap(false, true) {
		m.janitor.stop()
	}
	return nil
}

// sweep deletes expired routes, one shard lock at a time so readers of
// other shards never wait on it.
func (m *memory) sweep() {
	for i := range m.shards {
		s := &m.shards[i]
		now := m.now()
		s.mu.Lock()
		s.sweep(now)
		s.mu.Unlock()
	}
}

func sortByDevice(rs []Route) {
	slices.SortFunc(rs, func(a, b Route) int { return strings.Compare(a.DeviceID, b.DeviceID) })
}
