package gateway

import (
	"errors"
	"io"
	"sync"

	"github.com/bangbang-im/bangbang/core-im/protocol"
)

// readBufSize is the pooled read buffer: big enough to batch several frames per read.
const readBufSize = 4096

// lazyReader reads frames from a stream like protocol.Reader, but holds no buffer while the
// connection is idle: a blocked read waits on a small inline array, and a pooled buffer is
// taken only while bytes are in flight and given back as soon as they are consumed. An
// idle connection of the goroutine IO model so costs its goroutine and not 4 KiB more.
type lazyReader struct {
	r       io.Reader
	maxBody int
	pool    *sync.Pool // of *[readBufSize]byte, shared by the gateway's connections

	small  [64]byte // holds a heartbeat-sized frame without touching the pool
	pooled *[readBufSize]byte
	cur    []byte // small, pooled or a one-off buffer for a large frame
	start  int    // cur[start:end] are read and not yet consumed
	end    int
}

func newLazyReader(r io.Reader, maxBody int, pool *sync.Pool) *lazyReader {
	return &lazyReader{r: r, maxBody: maxBody, pool: pool}
}

// next returns the next frame; its Body is valid until the following call. A stream ending
// inside a frame is io.ErrUnexpectedEOF; a bad frame, a *protocol.Error.
func (lr *lazyReader) next() (protocol.Frame, error) {
	for {
		if lr.start == lr.end {
			lr.release()
		} else {
			f, n, err := protocol.Parse(lr.cur[lr.start:lr.end], lr.maxBody)
			if err != nil {
				return protocol.Frame{}, err
			}
			if n > 0 {
				lr.start += n
				return f, nil
			}
		}
		if err := lr.fill(); err != nil {
			if errors.Is(err, io.EOF) && lr.end > lr.start {
				return protocol.Frame{}, io.ErrUnexpectedEOF
			}
			return protocol.Frame{}, err
		}
	}
}

// release drops whatever buffer is held, back to the inline array.
func (lr *lazyReader) release() {
	if lr.pooled != nil {
		lr.pool.Put(lr.pooled)
		lr.pooled = nil
	}
	lr.cur = lr.small[:]
	lr.start, lr.end = 0, 0
}

// fill reads once, first making room: compacting, then moving up from the inline array to
// a pooled buffer, then to a buffer as large as the frame being read (Parse has bounded
// its length by then, so growth stops at one maximum frame).
func (lr *lazyReader) fill() error {
	if lr.cur == nil {
		lr.cur = lr.small[:]
	}
	if lr.end == len(lr.cur) {
		if lr.start > 0 {
			lr.end = copy(lr.cur, lr.cur[lr.start:lr.end])
			lr.start = 0
		} else if err := lr.grow(); err != nil {
			return err
		}
	}
	n, err := lr.r.Read(lr.cur[lr.end:])
	lr.end += n
	if n > 0 {
		return nil
	}
	if err == nil {
		err = io.ErrNoProgress
	}
	return err
}

func (lr *lazyReader) grow() error {
	pending := lr.cur[lr.start:lr.end]
	if len(lr.cur) < readBufSize {
		p, _ := lr.pool.Get().(*[readBufSize]byte)
		if p == nil {
			p = new([readBufSize]byte)
		}
		lr.end = copy(p[:], pending)
		lr.start, lr.pooled, lr.cur = 0, p, p[:]
		return nil
	}
	limit := protocol.HeaderSize + protocol.TraceSize + lr.maxBody
	size := min(2*len(lr.cur), max(limit, readBufSize))
	if size <= len(lr.cur) {
		// Parse bounds every frame by limit, so a full buffer of that size holds one.
		return &protocol.Error{Code: protocol.ErrTooLarge.Code, Message: "frame over the read buffer"}
	}
	nb := make([]byte, size)
	lr.end = copy(nb, pending)
	lr.start, lr.cur = 0, nb
	if lr.pooled != nil {
		lr.pool.Put(lr.pooled)
		lr.pooled = nil
	}
	return nil
}

// discard reads and drops everything until the stream ends, so that closing a connection
// after a last frame does not find unread bytes (which would turn the FIN into a RST and
// could destroy that frame on its way to the client).
func (lr *lazyReader) discard() {
	lr.release()
	for {
		if _, err := lr.r.Read(lr.small[:]); err != nil {
			return
		}
	}
}
