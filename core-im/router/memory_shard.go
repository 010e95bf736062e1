package router

import (
	"sync"
	"time"
)

// entry is one stored route. Pointers are stable so the per-node index can
// hold them without copying.
type entry struct {
	route   Route
	expires time.Time
}

// shard holds the routes of the users hashed to it. Callers hold mu: the
// write lock for put, remove, renew and sweep, the read lock for live and
// count.
type shard struct {
	mu    sync.RWMutex
	users map[string]map[string]*entry // user -> device -> entry
	// nodes indexes entries by gateway node so Count costs the routes of
	// that node, not of the whole table.
	nodes map[string]map[*entry]struct{}
}

func (s *shard) init() {
	s.users = make(map[string]map[string]*entry)
	s.nodes = make(map[string]map[*entry]struct{})
}

func live(e *entry, now time.Time) bool { return now.Before(e.expires) }

func (s *shard) put(r Route, expires, now time.Time) *Route {
	devs := s.users[r.UserID]
	if devs == nil {
		devs = make(map[string]*entry, 1)
		s.users[r.UserID] = devs
	}
	var replaced *Route
	if old := devs[r.DeviceID]; old != nil {
		if live(old, now) && !sameConn(&old.route, &r) {
			c := old.route
			replaced = &c
		}
		s.unindex(old)
	}
	e := &entry{route: r, expires: expires}
	devs[r.DeviceID] = e
	s.index(e)
	return replaced
}

func (s *shard) remove(r *Route, now time.Time) bool {
	e := s.users[r.UserID][r.DeviceID]
	if e == nil || !sameConn(&e.route, r) {
		return false
	}
	s.drop(e)
	return live(e, now)
}

func (s *shard) renew(r *Route, expires, now time.Time) bool {
	e := s.users[r.UserID][r.DeviceID]
	if e == nil || !sameConn(&e.route, r) {
		return false
	}
	if !live(e, now) {
		s.drop(e)
		return false
	}
	e.expires = expires
	return true
}

func (s *shard) live(user string, now time.Time) []Route {
	devs := s.users[user]
	if len(devs) == 0 {
		return nil
	}
	rs := make([]Route, 0, len(devs))
	for _, e := range devs {
		if live(e, now) {
			rs = append(rs, e.route)
		}
	}
	return rs
}

func (s *shard) count(node string, now time.Time) int {
	n := 0
	for e := range s.nodes[node] {
		if live(e, now) {
			n++
		}
	}
	return n
}

func (s *shard) sweep(now time.Time) {
	for _, devs := range s.users {
		for _, e := range devs {
			if !live(e, now) {
				s.drop(e)
			}
		}
	}
}

// drop deletes e from both maps; deleting during a range over them is safe.
func (s *shard) drop(e *entry) {
	devs := s.users[e.route.UserID]
	delete(devs, e.route.DeviceID)
	if len(devs) == 0 {
		delete(s.users, e.route.UserID)
	}
	s.unindex(e)
}

func (s *shard) index(e *entry) {
	set := s.nodes[e.route.Node]
	if set == nil {
		set = make(map[*entry]struct{})
		s.nodes[e.route.Node] = set
	}
	set[e] = struct{}{}
}

func (s *shard) unindex(e *entry) {
	set := s.nodes[e.route.Node]
	delete(set, e)
	if len(set) == 0 {
		delete(s.nodes, e.route.Node)
	}
}
