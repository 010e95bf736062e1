package protocol

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"testing/iotest"
)

// stream encodes every sample, alternating trace contexts, plus one maximum-size body so the
// Reader has to grow past its initial buffer.
func stream(t testing.TB) (data []byte, want []Frame) {
	t.Helper()
	big := Frame{Op: OpSend, Seq: 1000, Flags: FlagTrace, Trace: testTrace, Body: bytes.Repeat([]byte{7}, DefaultMaxBody)}
	for i, s := range samples() {
		f := Frame{Op: s.op, Seq: uint32(i + 1), Body: EncodeBody(s.body)}
		if i%2 == 1 {
			f.Flags, f.Trace = FlagTrace, testTrace
		}
		want = append(want, f)
		if i == 3 {
			want = append(want, big)
		}
	}
	for i := range want {
		data = AppendFrame(data, &want[i])
	}
	return data, want
}

func readAll(t *testing.T, r *Reader) ([]Frame, error) {
	t.Helper()
	var got []Frame
	for {
		f, err := r.Next()
		if err != nil {
			return got, err
		}
		f.Body = bytes.Clone(f.Body) // valid only until the next call
		got = append(got, f)
	}
}

func sameFrame(a, b Frame) bool {
	return a.Op == b.Op && a.Flags == b.Flags && a.Seq == b.Seq && a.Trace == b.Trace && bytes.Equal(a.Body, b.Body)
}

func TestReaderStreams(t *testing.T) {
	data, want := stream(t)
	tests := []struct {
		name string
		r    io.Reader
	}{
		{"whole", bytes.NewReader(data)},
		{"one byte per read", iotest.OneByteReader(bytes.NewReader(data))},
		{"half of each read", iotest.HalfReader(bytes.NewReader(data))},
		{"EOF with the last data", iotest.DataErrReader(bytes.NewReader(data))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := readAll(t, NewReader(tt.r, 0))
			if !errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				t.Fatalf("end of stream: %v, want io.EOF", err)
			}
			if len(got) != len(want) {
				t.Fatalf("read %d frames, want %d", len(got), len(want))
			}
			for i := range want {
				if !sameFrame(got[i], want[i]) {
					t.Fatalf("frame %d: op %s seq %d, want op %s seq %d", i, got[i].Op, got[i].Seq, want[i].Op, want[i].Seq)
				}
			}
		})
	}
}

func TestReaderTruncated(t *testing.T) {
	data, want := stream(t)
	first := want[0].Size()
	for _, cut := range []int{1, HeaderSize - 1, HeaderSize, first - 1, first + 1, first + HeaderSize + 3, len(data) - 1} {
		got, err := readAll(t, NewReader(iotest.HalfReader(bytes.NewReader(data[:cut])), 0))
		if !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Fatalf("cut at %d: err = %v, want io.ErrUnexpectedEOF", cut, err)
		}
		if cut > first && len(got) == 0 {
			t.Fatalf("cut at %d: the complete first frame was not returned", cut)
		}
	}
}

func TestReaderEmptyStream(t *testing.T) {
	if _, err := NewReader(bytes.NewReader(nil), 0).Next(); err != io.EOF {
		t.Fatalf("Next on an empty stream = %v, want io.EOF", err)
	}
}

func TestReaderErrors(t *testing.T) {
	readErr := errors.New("connection reset")
	tests := []struct {
		name    string
		r       io.Reader
		maxBody int
		want    error
	}{
		{"garbage", bytes.NewReader([]byte("GET / HTTP/1.1\r\n\r\n")), 0, ErrBadFrame},
		{"too large for the reader's max", bytes.NewReader(AppendFrame(nil, &Frame{Op: OpSend, Body: make([]byte, 200)})), 100, ErrTooLarge},
		{"read error passes through", iotest.ErrReader(readErr), 0, readErr},
		{"no progress", zeroReader{}, 0, io.ErrNoProgress},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := NewReader(tt.r, tt.maxBody).Next(); !errors.Is(err, tt.want) {
				t.Fatalf("Next = %v, want %v", err, tt.want)
			}
		})
	}
}

// The Reader must report a bad frame that follows good ones, after returning the good ones.
func TestReaderBadFrameAfterGood(t *testing.T) {
	data := AppendMessage(nil, OpHeartbeat, 1, nil, samples()[2].body)
	data = append(data, 0x42, 0x42, 9)
	r := NewReader(iotest.OneByteReader(bytes.NewReader(data)), 0)
	if f, err := r.Next(); err != nil || f.Op != OpHeartbeat {
		t.Fatalf("first Next = %s, %v", f.Op, err)
	}
	if _, err := r.Next(); !errors.Is(err, ErrVersion) {
		t.Fatalf("second Next = %v, want UNSUPPORTED_VERSION", err)
	}
}

// zeroReader violates the io.Reader convention of making progress.
type zeroReader struct{}

func (zeroReader) Read([]byte) (int, error) { return 0, nil }
