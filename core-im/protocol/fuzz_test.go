package protocol

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"testing"
	"testing/iotest"
)

// FuzzParse feeds arbitrary bytes to Parse and to a Reader. Seeds: testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, maxBody := range []int{0, 64} {
			checkParse(t, data, maxBody)
		}
		checkReaderAgrees(t, data)
	})
}

func checkParse(t *testing.T, data []byte, maxBody int) {
	fr, n, err := Parse(data, maxBody)
	if err != nil {
		var perr *Error
		if !errors.As(err, &perr) || !perr.Fatal() || n != 0 {
			t.Fatalf("Parse error %v (n=%d): want a fatal *Error and n=0", err, n)
		}
		return
	}
	if n == 0 {
		// Incomplete: the header, once present, must declare more than is there.
		if len(data) >= HeaderSize && len(data) >= HeaderSize+int(binary.BigEndian.Uint32(data[10:14])) {
			t.Fatalf("Parse asked for more with %d bytes of a %d-byte frame", len(data),
				HeaderSize+int(binary.BigEndian.Uint32(data[10:14])))
		}
		return
	}
	if n < HeaderSize || n > len(data) {
		t.Fatalf("n = %d outside [%d, %d]", n, HeaderSize, len(data))
	}
	limit := maxBody
	if limit == 0 {
		limit = DefaultMaxBody
	}
	if len(fr.Body) > limit {
		t.Fatalf("body of %d bytes passed the limit %d", len(fr.Body), limit)
	}
	if fr.Size() != n {
		t.Fatalf("Size() = %d, consumed %d", fr.Size(), n)
	}
	if enc := AppendFrame(nil, &fr); !bytes.Equal(enc, data[:n]) {
		t.Fatalf("re-encoding differs:\n got % x\nwant % x", enc, data[:n])
	}
}

// checkReaderAgrees reads data through a Reader a few bytes at a time and expects the frames
// and the final error that repeated Parse calls give.
func checkReaderAgrees(t *testing.T, data []byte) {
	r := NewReader(iotest.HalfReader(bytes.NewReader(data)), 0)
	rest := data
	for {
		want, n, perr := Parse(rest, 0)
		got, err := r.Next()
		switch {
		case perr != nil:
			if !errors.Is(err, perr) {
				t.Fatalf("Reader error %v, Parse error %v", err, perr)
			}
			return
		case n == 0:
			wantErr := io.ErrUnexpectedEOF
			if len(rest) == 0 {
				wantErr = io.EOF
			}
			if err != wantErr {
				t.Fatalf("Reader at end: %v, want %v", err, wantErr)
			}
			return
		}
		if err != nil || !sameFrame(got, want) {
			t.Fatalf("Reader = (%+v, %v), Parse = %+v", got, err, want)
		}
		rest = rest[n:]
	}
}

// FuzzDecodeBody decodes arbitrary bytes into every body type. Seeds:
// testdata/fuzz/FuzzDecodeBody.
func FuzzDecodeBody(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, s := range samples() {
			v := s.empty()
			if err := DecodeBody(data, v); err != nil {
				if !errors.Is(err, ErrBadRequest) {
					t.Fatalf("%s: DecodeBody error %v, want BAD_REQUEST", s.op, err)
				}
				continue
			}
			enc := EncodeBody(v)
			v2 := s.empty()
			if err := DecodeBody(enc, v2); err != nil {
				t.Fatalf("%s: re-decoding %+v: %v", s.op, v, err)
			}
			if !sameValue(v, v2) {
				t.Fatalf("%s: decoded %+v, re-decoded %+v", s.op, v, v2)
			}
			if enc2 := EncodeBody(v2); !bytes.Equal(enc, enc2) {
				t.Fatalf("%s: encoding is not stable:\n% x\n% x", s.op, enc, enc2)
			}
		}
	})
}
