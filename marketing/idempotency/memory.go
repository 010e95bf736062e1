package idempotency

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"time"
)

// memoryStore keeps keys in process; expiry is lazy, on the next write.
type memoryStore struct {
	opt Options

	mu      sync.Mutex
	entries map[string]*memEntry
	claims  expiryHeap
	records expiryHeap
}

// NewMemory returns a Store for a single process, bounded by
// Options.MaxKeys, with no goroutine.
func NewMemory(opt Options) Store {
	return &memoryStore{opt: opt.withDefaults(), entries: make(map[string]*memEntry)}
}

func memID(scope, key string) string { return scope + "\x00" + key }

func (s *memoryStore) Begin(ctx context.Context, scope, key, fingerprint string, lease time.Duration) (*Record, bool, error) {
	if err := ctx.Err(); err != nil {
		return nil, false, err
	}
	if err := checkBegin(scope, key, fingerprint, lease); err != nil {
		return nil, false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.opt.Now()
	s.expire(now)
	if e := s.entries[memID(scope, key)]; e != nil {
		switch {
		case e.fp != fingerprint:
			return nil, false, ErrMismatch
		case !e.done:
			return nil, false, ErrInFlight
		}
		return cloneRecord(&e.rec), false, nil
	}
	if len(s.entries) >= s.opt.MaxKeys && !s.evictRecord() {
		return nil, false, fmt.Errorf("%d claims held: %w", len(s.entries), ErrFull)
	}
	e := &memEntry{id: memID(scope, key), fp: fingerprint, expires: now.Add(lease)}
	s.entries[e.id] = e
	s.claims.add(e)
	return nil, true, nil
}

func (s *memoryStore) Complete(ctx context.Context, scope, key string, rec Record, ttl time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := checkComplete(scope, key, &rec, ttl, s.opt.MaxBodyBytes); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.opt.Now()
	s.expire(now)
	rec = *cloneRecord(&rec)
	if rec.CreatedAt.IsZero() {
		rec.CreatedAt = now
	}
	// Millisecond precision, as Redis keeps it, so both stores replay the same.
	rec.CreatedAt = time.UnixMilli(rec.CreatedAt.UnixMilli())
	e := s.entries[memID(scope, key)]
	switch {
	case e != nil && (e.done || e.fp != rec.Fingerprint):
		return ErrNotClaimed
	case e != nil:
		s.claims.remove(e)
	default:
		// The claim expired: the outcome is still definitive, keep it.
		if len(s.entries) >= s.opt.MaxKeys && !s.evictRecord() {
			return fmt.Errorf("%d claims held: %w", len(s.entries), ErrFull)
		}
		e = &memEntry{id: memID(scope, key)}
		s.entries[e.id] = e
	}
	e.done, e.fp, e.rec, e.expires = true, rec.Fingerprint, rec, now.Add(ttl)
	s.records.add(e)
	return nil
}

func (s *memoryStore) Abort(ctx context.Context, scope, key string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := checkScopeKey(scope, key); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if e := s.entries[memID(scope, key)]; e != nil && !e.done {
		s.claims.remove(e)
		delete(s.entries, e.id)
	}
	return nil
}

// expire drops every entry whose time has passed. Callers hold mu.
func (s *memoryStore) expire(now time.Time) {
	for _, h := range []*expiryHeap{&s.claims, &s.records} {
		for e := h.peek(); e != nil && !now.Before(e.expires); e = h.peek() {
			h.remove(e)
			delete(s.entries, e.id)
		}
	}
}

// evictRecord makes room by dropping the record nearest its expiry; a claim
// is never dropped, as that would let a replay run beside its original.
// Callers hold mu.
func (s *memoryStore) evictRecord() bool {
	e := s.records.peek()
	if e == nil {
		return false
	}
	s.records.remove(e)
	delete(s.entries, e.id)
	return true
}

// size counts the entries held, for tests of the bound.
func (s *memoryStore) size() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.entries)
}

// cloneRecord copies rec so neither the caller nor the store sees the
// other's later writes to Body.
func cloneRecord(rec *Record) *Record {
	c := *rec
	c.Body = bytes.Clone(rec.Body)
	return &c
}
