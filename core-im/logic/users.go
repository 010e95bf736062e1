package logic

import "sync"

// userCache remembers ids known to exist, so a chat send does not read the users table
// every time. Users are never deleted while the process runs; a bounded set is enough, and it
// is simply emptied when full (a cold miss costs one read).
type userCache struct {
	mu   sync.RWMutex
	ids  map[string]struct{}
	size int
}

func newUserCache(size int) *userCache {
	return &userCache{ids: make(map[string]struct{}, size), size: size}
}

func (c *userCache) has(id string) bool {
	c.mu.RLock()
	_, ok := c.ids[id]
	c.mu.RUnlock()
	return ok
}

func (c *userCache) add(id string) {
	c.mu.Lock()
	if len(c.ids) >= c.size {
		clear(c.ids)
	}
	c.ids[id] = struct{}{}
	c.mu.Unlock()
}
