package protocol

import (
	"bytes"
	"io"
	"testing"

	"github.com/bangbang-im/bangbang/gen/frame"
)

func benchSend() *frame.SendRequest {
	return &frame.SendRequest{ClientMsgId: "0190f3c2-7a4e", ToUser: "m1001", Kind: 1,
		ContentType: "text/plain", Body: bytes.Repeat([]byte("x"), 64)}
}

func BenchmarkParse(b *testing.B) {
	enc := AppendMessage(nil, OpSend, 1, &testTrace, benchSend())
	b.SetBytes(int64(len(enc)))
	b.ReportAllocs()
	for b.Loop() {
		if _, n, err := Parse(enc, 0); err != nil || n != len(enc) {
			b.Fatal(n, err)
		}
	}
}

func BenchmarkAppendMessageSend(b *testing.B) {
	body := benchSend()
	buf := make([]byte, 0, 512)
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendMessage(buf[:0], OpSend, 1, &testTrace, body)
	}
	b.SetBytes(int64(len(buf)))
}

func BenchmarkDecodeBodySend(b *testing.B) {
	data := EncodeBody(benchSend())
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if err := DecodeBody(data, frame.NewSendRequest()); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReader reads 1,000 SEND frames per iteration from one in-memory stream, as a
// gateway reads a busy connection.
func BenchmarkReader(b *testing.B) {
	one := AppendMessage(nil, OpSend, 1, &testTrace, benchSend())
	data := bytes.Repeat(one, 1000)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	src := bytes.NewReader(data)
	for b.Loop() {
		src.Reset(data)
		r := NewReader(src, 0)
		for {
			if _, err := r.Next(); err != nil {
				if err != io.EOF {
					b.Fatal(err)
				}
				break
			}
		}
	}
}
