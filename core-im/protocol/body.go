package protocol

import (
	"github.com/cloudwego/gopkg/protocol/thrift"
)

// Body is a generated frame struct (gen/frame, gen/common).
type Body interface {
	BLength() int
	FastWriteNocopy(buf []byte, w thrift.NocopyWriter) int
	FastRead(buf []byte) (int, error)
}

// AppendBody appends the Thrift Binary encoding of b to dst.
func AppendBody(dst []byte, b Body) []byte {
	n := b.BLength()
	start := len(dst)
	dst = append(dst, make([]byte, n)...)
	b.FastWriteNocopy(dst[start:], nil)
	return dst
}

// EncodeBody returns the Thrift Binary encoding of b.
func EncodeBody(b Body) []byte { return AppendBody(nil, b) }

// AppendMessage appends a whole frame with op, seq, an optional trace context and b as body.
func AppendMessage(dst []byte, op Op, seq uint32, trace *TraceContext, b Body) []byte {
	f := Frame{Op: op, Seq: seq}
	if trace != nil && trace.Valid() {
		f.Flags |= FlagTrace
		f.Trace = *trace
	}
	f.Body = EncodeBody(b)
	return AppendFrame(dst, &f)
}

// DecodeBody decodes data into b. Malformed or trailing bytes are a BAD_REQUEST *Error: the
// frame boundary was intact, so the connection stays usable.
func DecodeBody(data []byte, b Body) (err error) {
	defer func() {
		// The generated decoder is bounds-checked; this keeps one peer's bytes from ever
		// taking the process down should a future generator version not be.
		if r := recover(); r != nil {
			err = errorf(codeBadRequest, "malformed body: %v", r)
		}
	}()
	// The generated list readers preallocate the declared element count before reading any
	// element, so a 9-byte body declaring 2^31 messages would abort the process with an
	// unrecoverable out-of-memory error. Skip walks the same encoding without allocating and
	// fails unless every declared element is present, bounding each container by len(data).
	if _, err := thrift.Binary.Skip(data, thrift.STRUCT); err != nil {
		return errorf(codeBadRequest, "malformed body: %v", err)
	}
	n, err := b.FastRead(data)
	if err != nil {
		return errorf(codeBadRequest, "malformed body: %v", err)
	}
	if n != len(data) {
		return errorf(codeBadRequest, "%d trailing bytes after the body", len(data)-n)
	}
	return nil
}
