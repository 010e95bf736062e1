package gateway

import (
	"hash/maphash"
	"sync"
)

// deviceKey names one device of one user.
type deviceKey struct{ user, device string }

// table is the node's session table: connection id -> session for pushes and kicks, and
// (user, device) -> session for local lookups. It is sharded so that accepting, closing and
// sweeping thousands of connections never serialise on one mutex.
type table struct {
	seed   maphash.Seed
	shards []tableShard
}

type tableShard struct {
	mu       sync.Mutex
	byConn   map[string]*session
	byDevice map[deviceKey]*session
}

func newTable(shards int) *table {
	t := &table{seed: maphash.MakeSeed(), shards: make([]tableShard, shards)}
	for i := range t.shards {
		t.shards[i].byConn = make(map[string]*session)
		t.shards[i].byDevice = make(map[deviceKey]*session)
	}
	return t
}

func (t *table) shard(key string) *tableShard {
	return &t.shards[maphash.String(t.seed, key)%uint64(len(t.shards))]
}

func (t *table) deviceShard(k deviceKey) *tableShard {
	return t.shard(k.user + "\x00" + k.device)
}

func (t *table) add(s *session) {
	sh := t.shard(s.id)
	sh.mu.Lock()
	sh.byConn[s.id] = s
	sh.mu.Unlock()
}

// bindDevice makes s the local session of its user's device, replacing an older one (the
// older connection is kicked by logic through the route table, not from here).
func (t *table) bindDevice(s *session, k deviceKey) {
	sh := t.deviceShard(k)
	sh.mu.Lock()
	sh.byDevice[k] = s
	sh.mu.Unlock()
}

// remove deletes s; the device entry only if it still points at s, so a closing old
// connection never unbinds its successor.
func (t *table) remove(s *session) {
	sh := t.shard(s.id)
	sh.mu.Lock()
	if sh.byConn[s.id] == s {
		delete(sh.byConn, s.id)
	}
	sh.mu.Unlock()
	if id := s.ident.Load(); id != nil {
		k := deviceKey{id.user, id.device}
		sh := t.deviceShard(k)
		sh.mu.Lock()
		if sh.byDevice[k] == s {
			delete(sh.byDevice, k)
		}
		sh.mu.Unlock()
	}
}

func (t *table) get(connID string) *session {
	sh := t.shard(connID)
	sh.mu.Lock()
	s := sh.byConn[connID]
	sh.mu.Unlock()
	return s
}

func (t *table) byDevice(user, device string) *session {
	k := deviceKey{user, device}
	sh := t.deviceShard(k)
	sh.mu.Lock()
	s := sh.byDevice[k]
	sh.mu.Unlock()
	return s
}

// each calls fn for every session, one shard at a time under that shard's lock: fn must be
// quick and must not call back into the table.
func (t *table) each(fn func(*session)) {
	for i := range t.shards {
		sh := &t.shards[i]
		sh.mu.Lock()
		for _, s := range sh.byConn {
			fn(s)
		}
		sh.mu.Unlock()
	}
}

// snapshot returns every session, for work that must not run under a shard lock.
func (t *table) snapshot() []*session {
	var all []*session
	t.each(func(s *session) { all = append(all, s) })
	return all
}
