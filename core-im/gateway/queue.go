package gateway

import (
	"fmt"
	"sync"
)

// flusher is the pool of shared write workers. A session with queued frames is scheduled
// once; a worker takes everything queued and writes it in one call, so a burst of frames
// costs one syscall, and no connection ever needs a writer goroutine of its own.
type flusher struct {
	g       *Gateway
	mu      sync.Mutex
	cond    *sync.Cond
	pending []*session // FIFO of sessions with frames to write
	head    int
	stopped bool
	wg      sync.WaitGroup
}

func newFlusher(g *Gateway) *flusher {
	f := &flusher{g: g}
	f.cond = sync.NewCond(&f.mu)
	return f
}

func (f *flusher) start(workers int) {
	f.wg.Add(workers)
	for range workers {
		go f.work()
	}
}

// stop makes the workers exit once idle and waits for them. Sessions are all closed by
// then; anything still pending belongs to closed sessions.
func (f *flusher) stop() {
	f.mu.Lock()
	f.stopped = true
	f.cond.Broadcast()
	f.mu.Unlock()
	f.wg.Wait()
}

func (f *flusher) schedule(s *session) {
	f.mu.Lock()
	f.pending = append(f.pending, s)
	f.cond.Signal()
	f.mu.Unlock()
}

// next blocks until a session is pending or the flusher stops (nil).
func (f *flusher) next() *session {
	f.mu.Lock()
	defer f.mu.Unlock()
	for f.head == len(f.pending) {
		if f.stopped {
			return nil
		}
		f.cond.Wait()
	}
	s := f.pending[f.head]
	f.pending[f.head] = nil
	f.head++
	switch {
	case f.head == len(f.pending):
		// Drained: reuse the array from the start instead of letting it creep forward.
		f.pending, f.head = f.pending[:0], 0
	case f.head >= 1024 && f.head*2 >= len(f.pending):
		// Never drained under sustained load: compact so the array stays bounded.
		n := copy(f.pending, f.pending[f.head:])
		clear(f.pending[n:])
		f.pending, f.head = f.pending[:n], 0
	}
	return s
}

func (f *flusher) work() {
	defer f.wg.Done()
	for s := f.next(); s != nil; s = f.next() {
		f.flush(s)
	}
}

// flush writes what s has queued, then closes s if it was closing, or reschedules it if
// more arrived during the write (behind the other pending sessions, for fairness).
func (f *flusher) flush(s *session) {
	s.mu.Lock()
	if s.state == stateClosed {
		s.scheduled = false
		s.mu.Unlock()
		return
	}
	batch := s.queue
	s.queue = nil
	s.writing = true
	s.mu.Unlock()

	var err error
	var last []byte
	if len(batch) > 0 {
		if err = f.write(s, batch); err == nil {
			f.g.stats.framesOut.Add(uint64(len(batch)))
			last = batch[len(batch)-1]
		}
	}

	s.mu.Lock()
	s.writing = false
	more := len(s.queue) > 0
	done := s.state == stateClosing && !more
	if !more || err != nil || s.state == stateClosed {
		s.scheduled = false
		more = false
	}
	s.mu.Unlock()
	switch {
	case err != nil:
		f.g.log.Debug("write failed", append(s.attrs(), "err", err)...)
		s.shutdown("write failed")
	case done:
		if fw, ok := s.c.(farewell); ok {
			fw.farewell(last)
		}
		s.shutdown("closed after last frame")
	case more:
		f.schedule(s)
	}
}

// write is the recover boundary of the write path: a fault while writing one connection
// closes that connection, never the worker.
func (f *flusher) write(s *session, batch [][]byte) (err error) {
	defer func() {
		if r := recover(); r != nil {
			f.g.log.Error("panic writing connection", append(s.attrs(), "panic", r)...)
			err = fmt.Errorf("write panic: %v", r)
		}
	}()
	return s.c.writeFrames(batch)
}
