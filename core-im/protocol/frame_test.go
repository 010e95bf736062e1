package protocol

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"testing"

	"github.com/bangbang-im/bangbang/gen/common"
)

var testTrace = TraceContext{
	TraceID: [16]byte{0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6, 0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36},
	SpanID:  [8]byte{0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7},
	Flags:   1,
}

// header builds a raw header so tests can state each field independently of AppendFrame.
func header(magic uint16, version, op uint8, flags uint16, seq, length uint32) []byte {
	b := binary.BigEndian.AppendUint16(nil, magic)
	b = append(b, version, op)
	b = binary.BigEndian.AppendUint16(b, flags)
	b = binary.BigEndian.AppendUint32(b, seq)
	return binary.BigEndian.AppendUint32(b, length)
}

func TestHeaderLayout(t *testing.T) {
	f := Frame{Op: OpSend, Flags: FlagTrace, Seq: 0x01020304, Trace: testTrace, Body: []byte{0xAA, 0xBB}}
	got := AppendFrame(nil, &f)
	want := append(header(0x4242, 1, 5, 1, 0x01020304, TraceSize+2), 0x00)
	want = append(want, testTrace.TraceID[:]...)
	want = append(want, testTrace.SpanID[:]...)
	want = append(want, 0x01, 0xAA, 0xBB)
	if !bytes.Equal(got, want) {
		t.Fatalf("AppendFrame = % x\nwant          % x", got, want)
	}
	if f.Size() != len(want) {
		t.Fatalf("Size() = %d, want %d", f.Size(), len(want))
	}
}

func TestParseRoundTripFrames(t *testing.T) {
	tests := []struct {
		name string
		f    Frame
	}{
		{"empty body", Frame{Op: OpHeartbeat, Seq: 1}},
		{"body", Frame{Op: OpSend, Seq: 7, Body: []byte{0x0b, 0x00, 0x01, 0x00}}},
		{"trace only", Frame{Op: OpHeartbeat, Flags: FlagTrace, Trace: testTrace, Seq: 2}},
		{"trace and body", Frame{Op: OpPush, Flags: FlagTrace, Trace: testTrace, Body: []byte("x")}},
		{"max seq", Frame{Op: OpError, Seq: ^uint32(0), Body: []byte{0}}},
		{"unknown op is the gateway's business", Frame{Op: 200, Seq: 3, Body: []byte{0}}},
		{"max body", Frame{Op: OpSend, Seq: 4, Body: bytes.Repeat([]byte{0x5a}, DefaultMaxBody)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			enc := AppendFrame([]byte("prefix"), &tt.f)[len("prefix"):]
			got, n, err := Parse(enc, 0)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if n != len(enc) || n != tt.f.Size() {
				t.Fatalf("n = %d, want %d (Size %d)", n, len(enc), tt.f.Size())
			}
			if got.Op != tt.f.Op || got.Flags != tt.f.Flags || got.Seq != tt.f.Seq || !bytes.Equal(got.Body, tt.f.Body) {
				t.Fatalf("Parse = %+v, want %+v", got, tt.f)
			}
			if got.HasTrace() && got.Trace != tt.f.Trace {
				t.Fatalf("trace = %+v, want %+v", got.Trace, tt.f.Trace)
			}
			if !got.HasTrace() && got.Trace != (TraceContext{}) {
				t.Fatalf("trace set without the flag: %+v", got.Trace)
			}
		})
	}
}

// A reader must be able to feed Parse whatever has arrived so far.
func TestParseEveryPrefixIsIncomplete(t *testing.T) {
	for _, s := range samples() {
		for _, trace := range []*TraceContext{nil, &testTrace} {
			enc := AppendMessage(nil, s.op, 9, trace, s.body)
			for i := range len(enc) {
				f, n, err := Parse(enc[:i], 0)
				if err != nil || n != 0 {
					t.Fatalf("%s trace=%v: Parse(prefix %d/%d) = (%+v, %d, %v), want (_, 0, nil)",
						s.op, trace != nil, i, len(enc), f, n, err)
				}
			}
			if _, n, err := Parse(enc, 0); err != nil || n != len(enc) {
				t.Fatalf("%s: Parse(whole) = (%d, %v), want (%d, nil)", s.op, n, err, len(enc))
			}
		}
	}
}

func TestParseRejects(t *testing.T) {
	valid := header(0x4242, 1, uint8(OpHeartbeat), 0, 1, 0)
	tests := []struct {
		name    string
		buf     []byte
		maxBody int
		want    *Error
	}{
		{"garbage first byte alone", []byte{'G'}, 0, ErrBadFrame},
		{"HTTP request", []byte("GET / HTTP/1.1\r\n"), 0, ErrBadFrame},
		{"TLS client hello", []byte{0x16, 0x03, 0x01}, 0, ErrBadFrame},
		{"good first byte, bad second", []byte{0x42, 0x43}, 0, ErrBadFrame},
		{"bad version alone", []byte{0x42, 0x42, 2}, 0, ErrVersion},
		{"version zero", header(0x4242, 0, 1, 0, 1, 0), 0, ErrVersion},
		{"unknown flag bit", header(0x4242, 1, 1, 0x0002, 1, 0), 0, ErrBadFrame},
		{"high flag bit", header(0x4242, 1, 1, 0x8001, 1, 26), 0, ErrBadFrame},
		{"length over default max", header(0x4242, 1, 5, 0, 1, DefaultMaxBody+1), 0, ErrTooLarge},
		{"length over max with trace", header(0x4242, 1, 5, 1, 1, DefaultMaxBody+TraceSize+1), 0, ErrTooLarge},
		{"length over a custom max", header(0x4242, 1, 5, 0, 1, 101), 100, ErrTooLarge},
		{"length 4 GiB", header(0x4242, 1, 5, 0, 1, ^uint32(0)), 0, ErrTooLarge},
		{"length 4 GiB with trace", header(0x4242, 1, 5, 1, 1, ^uint32(0)), 0, ErrTooLarge},
		{"trace flag, length zero", header(0x4242, 1, 3, 1, 1, 0), 0, ErrBadFrame},
		{"trace flag, length 25", header(0x4242, 1, 3, 1, 1, TraceSize-1), 0, ErrBadFrame},
		{"trace version 1", append(header(0x4242, 1, 3, 1, 1, TraceSize), append([]byte{1}, make([]byte, 25)...)...), 0, ErrBadFrame},
		{"garbage after a valid frame does not hide it", append(append([]byte{}, valid...), 'x'), 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, n, err := Parse(tt.buf, tt.maxBody)
			if tt.want == nil {
				if err != nil || n != len(valid) {
					t.Fatalf("Parse = (%d, %v), want (%d, nil)", n, err, len(valid))
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("Parse err = %v, want %v", err, tt.want.Code)
			}
			if n != 0 {
				t.Fatalf("n = %d on error", n)
			}
			var perr *Error
			if !errors.As(err, &perr) || !perr.Fatal() {
				t.Fatalf("framing error %v must be a fatal *Error", err)
			}
		})
	}
}

// The size check must come from the header alone: the server never buffers an oversized body.
func TestParseTooLargeBeforeBody(t *testing.T) {
	buf := header(0x4242, 1, uint8(OpSend), 0, 1, 1<<20)
	if _, _, err := Parse(buf, 0); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("Parse(header only) = %v, want FRAME_TOO_LARGE", err)
	}
}

func TestParseSeveralFramesInOneBuffer(t *testing.T) {
	var buf []byte
	all := samples()
	for i, s := range all {
		var trace *TraceContext
		if i%2 == 0 {
			trace = &testTrace
		}
		buf = AppendMessage(buf, s.op, uint32(i+1), trace, s.body)
	}
	for i, s := range all {
		f, n, err := Parse(buf, 0)
		if err != nil || n == 0 {
			t.Fatalf("frame %d: Parse = (%d, %v)", i, n, err)
		}
		if f.Op != s.op || f.Seq != uint32(i+1) || f.HasTrace() != (i%2 == 0) {
			t.Fatalf("frame %d: got op %s seq %d trace %v", i, f.Op, f.Seq, f.HasTrace())
		}
		got := s.empty()
		if err := DecodeBody(f.Body, got); err != nil {
			t.Fatalf("frame %d: DecodeBody: %v", i, err)
		}
		if !sameValue(got, s.body) {
			t.Fatalf("frame %d: body %+v, want %+v", i, got, s.body)
		}
		buf = buf[n:]
	}
	if len(buf) != 0 {
		t.Fatalf("%d bytes left over", len(buf))
	}
}

func TestErrorsMatchSentinels(t *testing.T) {
	_, _, err := Parse([]byte{0x00}, 0)
	if !errors.Is(err, ErrBadFrame) || errors.Is(err, ErrTooLarge) || errors.Is(err, ErrBadRequest) {
		t.Fatalf("errors.Is mismatched for %v", err)
	}
	wrapped := fmt.Errorf("read frame: %w", err)
	if !errors.Is(wrapped, ErrBadFrame) {
		t.Fatalf("errors.Is lost through wrapping: %v", wrapped)
	}
	var perr *Error
	if !errors.As(wrapped, &perr) || perr.Code != common.ErrorCode_BAD_FRAME || perr.Message == "" {
		t.Fatalf("errors.As = %+v", perr)
	}
	if got := perr.Error(); got != "protocol: BAD_FRAME: bad magic" {
		t.Fatalf("Error() = %q", got)
	}
	for _, s := range []*Error{ErrBadFrame, ErrTooLarge, ErrVersion} {
		if !s.Fatal() {
			t.Errorf("%s must be fatal", s.Code)
		}
	}
	if ErrBadRequest.Fatal() {
		t.Errorf("BAD_REQUEST must not be fatal")
	}
}

func TestTraceContext(t *testing.T) {
	if !testTrace.Valid() {
		t.Fatal("testTrace must be valid")
	}
	if got := testTrace.TraceIDString(); got != "4bf92f3577b34da6a3ce929d0e0e4736" {
		t.Fatalf("TraceIDString = %q", got)
	}
	if (TraceContext{}).TraceIDString() != "" {
		t.Fatal("zero trace id must print as empty")
	}
	if (TraceContext{TraceID: testTrace.TraceID}).Valid() || (TraceContext{SpanID: testTrace.SpanID}).Valid() {
		t.Fatal("a trace context with a zero id is invalid")
	}
	// An invalid context is not put on the wire: a receiver would reject nothing, but it
	// would waste 26 bytes and start traces with a zero id.
	enc := AppendMessage(nil, OpHeartbeat, 1, &TraceContext{}, samples()[2].body)
	f, _, err := Parse(enc, 0)
	if err != nil || f.HasTrace() {
		t.Fatalf("invalid trace: HasTrace=%v err=%v", f.HasTrace(), err)
	}
}
