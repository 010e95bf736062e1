package protocol

import (
	"encoding/binary"
	"encoding/hex"
)

// Header layout, all integers big-endian:
//
//	0  magic   uint16  0x4242 ("BB")
//	2  version uint8   1
//	3  op      uint8   Op
//	4  flags   uint16  Flags
//	6  seq     uint32  request sequence, echoed by the response; 0 on server pushes
//	10 length  uint32  bytes after the header: trace context (if FlagTrace) + body
const (
	Magic      uint16 = 0x4242
	Version    uint8  = 1
	HeaderSize        = 14
	// TraceSize is the binary W3C traceparent: version, trace-id, parent-id, trace-flags.
	TraceSize = 26
	// DefaultMaxBody bounds a body unless the reader is configured otherwise.
	DefaultMaxBody = 64 << 10
)

// Flags are header bits.
type Flags uint16

const (
	// FlagTrace says TraceSize bytes of trace context precede the body.
	FlagTrace Flags = 1 << 0
	// knownFlags are the bits this version understands; others are rejected so a future
	// version can give them meaning without old servers misreading frames.
	knownFlags = FlagTrace
)

// TraceContext is a W3C traceparent in binary form.
type TraceContext struct {
	TraceID [16]byte
	SpanID  [8]byte
	Flags   byte // bit 0: sampled
}

// Valid reports whether both ids are non-zero, as W3C requires.
func (t TraceContext) Valid() bool {
	return t.TraceID != [16]byte{} && t.SpanID != [8]byte{}
}

// TraceIDString is the lower-case hex trace id, "" when invalid.
func (t TraceContext) TraceIDString() string {
	if t.TraceID == [16]byte{} {
		return ""
	}
	return hex.EncodeToString(t.TraceID[:])
}

// Frame is one decoded frame. Body aliases the buffer it was parsed from unless copied.
type Frame struct {
	Op    Op
	Flags Flags
	Seq   uint32
	Trace TraceContext // meaningful when Flags&FlagTrace != 0
	Body  []byte
}

// HasTrace reports whether the frame carries a trace context.
func (f *Frame) HasTrace() bool { return f.Flags&FlagTrace != 0 }

// Size is the encoded size of f.
func (f *Frame) Size() int {
	n := HeaderSize + len(f.Body)
	if f.HasTrace() {
		n += TraceSize
	}
	return n
}

// AppendFrame appends the encoding of f to dst. The caller keeps bodies within its limit;
// encoding never fails.
func AppendFrame(dst []byte, f *Frame) []byte {
	length := len(f.Body)
	if f.HasTrace() {
		length += TraceSize
	}
	dst = binary.BigEndian.AppendUint16(dst, Magic)
	dst = append(dst, Version, byte(f.Op))
	dst = binary.BigEndian.AppendUint16(dst, uint16(f.Flags))
	dst = binary.BigEndian.AppendUint32(dst, f.Seq)
	dst = binary.BigEndian.AppendUint32(dst, uint32(length))
	if f.HasTrace() {
		dst = append(dst, 0) // traceparent version 00
		dst = append(dst, f.Trace.TraceID[:]...)
		dst = append(dst, f.Trace.SpanID[:]...)
		dst = append(dst, f.Trace.Flags)
	}
	return append(dst, f.Body...)
}

// Parse decodes one frame from the start of buf. It returns n == 0 and a nil error when buf
// holds only part of a frame (read more and call again), and an *Error as soon as the bytes
// already seen cannot start a valid frame, before waiting for the rest. maxBody bounds the
// body length; 0 means DefaultMaxBody. Body aliases buf.
func Parse(buf []byte, maxBody int) (f Frame, n int, err error) {
	if maxBody <= 0 {
		maxBody = DefaultMaxBody
	}
	if err := checkPrefix(buf); err != nil {
		return Frame{}, 0, err
	}
	if len(buf) < HeaderSize {
		return Frame{}, 0, nil
	}
	f.Op = Op(buf[3])
	f.Flags = Flags(binary.BigEndian.Uint16(buf[4:6]))
	f.Seq = binary.BigEndian.Uint32(buf[6:10])
	length := binary.BigEndian.Uint32(buf[10:14])
	if f.Flags&^knownFlags != 0 {
		return Frame{}, 0, errorf(codeBadFrame, "unknown flags %#04x", uint16(f.Flags))
	}
	limit := uint32(maxBody)
	if f.HasTrace() {
		limit += TraceSize
		if length < TraceSize {
			return Frame{}, 0, errorf(codeBadFrame, "length %d shorter than the trace context", length)
		}
	}
	if length > limit {
		return Frame{}, 0, errorf(codeTooLarge, "frame length %d over the limit %d", length, limit)
	}
	total := HeaderSize + int(length)
	if len(buf) < total {
		return Frame{}, 0, nil
	}
	body := buf[HeaderSize:total]
	if f.HasTrace() {
		if body[0] != 0 {
			return Frame{}, 0, errorf(codeBadFrame, "trace context version %d", body[0])
		}
		copy(f.Trace.TraceID[:], body[1:17])
		copy(f.Trace.SpanID[:], body[17:25])
		f.Trace.Flags = body[25]
		body = body[TraceSize:]
	}
	f.Body = body
	return f, total, nil
}

// checkPrefix rejects garbage from the first byte on, so a peer sending noise is cut off
// without the server buffering anything.
func checkPrefix(buf []byte) error {
	if len(buf) >= 1 && buf[0] != byte(Magic>>8) || len(buf) >= 2 && buf[1] != byte(Magic&0xff) {
		return errorf(codeBadFrame, "bad magic")
	}
	if len(buf) >= 3 && buf[2] != Version {
		return errorf(codeVersion, "unsupported version %d", buf[2])
	}
	return nil
}
