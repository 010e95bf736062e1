package protocol

import (
	"errors"
	"io"
)

// Reader reads frames from a byte stream (a TCP connection, a test pipe). It copes with
// partial reads, reads as much as is available per call to batch syscalls, and never buffers
// more than one maximum frame plus its read chunk.
type Reader struct {
	r       io.Reader
	maxBody int
	buf     []byte // holds buf[start:end] unread bytes
	start   int
	end     int
}

// NewReader returns a Reader over r; maxBody 0 means DefaultMaxBody.
func NewReader(r io.Reader, maxBody int) *Reader {
	if maxBody <= 0 {
		maxBody = DefaultMaxBody
	}
	return &Reader{r: r, maxBody: maxBody, buf: make([]byte, 4096)}
}

// Next returns the next frame. Its Body is valid until the following call to Next. A stream
// that ends inside a frame returns io.ErrUnexpectedEOF; at a frame boundary, io.EOF.
func (r *Reader) Next() (Frame, error) {
	for {
		f, n, err := Parse(r.buf[r.start:r.end], r.maxBody)
		if err != nil {
			return Frame{}, err
		}
		if n > 0 {
			r.start += n
			return f, nil
		}
		if err := r.fill(); err != nil {
			if errors.Is(err, io.EOF) && r.end > r.start {
				return Frame{}, io.ErrUnexpectedEOF
			}
			return Frame{}, err
		}
	}
}

// fill reads more bytes, first making room by moving the unread tail to the front and
// growing only as far as a maximum frame needs.
func (r *Reader) fill() error {
	if r.start > 0 {
		r.end = copy(r.buf, r.buf[r.start:r.end])
		r.start = 0
	}
	if r.end == len(r.buf) {
		grown := min(2*len(r.buf), HeaderSize+TraceSize+r.maxBody)
		if grown <= len(r.buf) {
			// Parse bounds the frame length, so a full buffer holds a complete frame.
			return errorf(codeTooLarge, "frame over the buffer")
		}
		nb := make([]byte, grown)
		copy(nb, r.buf[:r.end])
		r.buf = nb
	}
	n, err := r.r.Read(r.buf[r.end:])
	r.end += n
	if n > 0 {
		return nil
	}
	if err == nil {
		err = io.ErrNoProgress
	}
	return err
}
