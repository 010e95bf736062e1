package protocol

import (
	"bytes"
	"errors"
	"runtime"
	"testing"

	"github.com/bangbang-im/bangbang/gen/frame"
)

func TestSamplesCoverEveryOp(t *testing.T) {
	seen := map[Op]bool{}
	for _, s := range samples() {
		seen[s.op] = true
	}
	for op := Op(0); op < 255; op++ {
		if op.Known() != seen[op] {
			t.Errorf("op %s: Known=%v but sampled=%v", op, op.Known(), seen[op])
		}
	}
}

func TestRoundTripEveryOp(t *testing.T) {
	for _, s := range samples() {
		for _, trace := range []*TraceContext{nil, &testTrace} {
			name := s.op.String()
			if trace != nil {
				name += "/trace"
			}
			t.Run(name, func(t *testing.T) {
				enc := AppendMessage(nil, s.op, 77, trace, s.body)
				f, n, err := Parse(enc, 0)
				if err != nil || n != len(enc) {
					t.Fatalf("Parse = (%d, %v), want (%d, nil)", n, err, len(enc))
				}
				if f.Op != s.op || f.Seq != 77 || f.HasTrace() != (trace != nil) {
					t.Fatalf("header = op %s seq %d trace %v", f.Op, f.Seq, f.HasTrace())
				}
				if trace != nil && f.Trace != *trace {
					t.Fatalf("trace = %+v, want %+v", f.Trace, *trace)
				}
				if !bytes.Equal(f.Body, EncodeBody(s.body)) {
					t.Fatalf("body bytes differ from EncodeBody")
				}
				got := s.empty()
				if err := DecodeBody(f.Body, got); err != nil {
					t.Fatalf("DecodeBody: %v", err)
				}
				if !sameValue(got, s.body) {
					t.Fatalf("decoded %+v, want %+v", got, s.body)
				}
			})
		}
	}
}

func TestAppendBodyKeepsPrefix(t *testing.T) {
	b := &frame.DeliverAck{Seq: 5}
	got := AppendBody([]byte{1, 2, 3}, b)
	if !bytes.Equal(got[:3], []byte{1, 2, 3}) || !bytes.Equal(got[3:], EncodeBody(b)) {
		t.Fatalf("AppendBody = % x", got)
	}
}

// Hand-written Thrift Binary bodies pin the encoding docs/protocol.md describes. The encoder
// writes fixed-size fields before strings and lists, so field order is not id order; readers
// must accept fields in any order (TestDecodeBodyFieldOrder).
func TestBodyEncodingBytes(t *testing.T) {
	tests := []struct {
		name string
		body Body
		want []byte
	}{
		{"DeliverAck i64", &frame.DeliverAck{Seq: 258},
			[]byte{0x0a, 0x00, 0x01, 0, 0, 0, 0, 0, 0, 0x01, 0x02, 0x00}},
		{"SyncRequest i64 i32", &frame.SyncRequest{AfterSeq: 1, Limit: 2},
			[]byte{0x0a, 0x00, 0x01, 0, 0, 0, 0, 0, 0, 0, 1, 0x08, 0x00, 0x02, 0, 0, 0, 2, 0x00}},
		{"ReadAck string i64", &frame.ReadAck{ConvId: "ab", ConvSeq: 3},
			[]byte{0x0a, 0x00, 0x02, 0, 0, 0, 0, 0, 0, 0, 3, 0x0b, 0x00, 0x01, 0, 0, 0, 2, 'a', 'b', 0x00}},
		{"Push empty list", &frame.Push{},
			[]byte{0x0f, 0x00, 0x01, 0x0c, 0, 0, 0, 0, 0x00}},
		{"SyncResponse bool", &frame.SyncResponse{HasMore: true, MaxSeq: 1},
			[]byte{0x02, 0x00, 0x02, 0x01, 0x0a, 0x00, 0x03, 0, 0, 0, 0, 0, 0, 0, 1, 0x0f, 0x00, 0x01, 0x0c, 0, 0, 0, 0, 0x00}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := EncodeBody(tt.body); !bytes.Equal(got, tt.want) {
				t.Fatalf("EncodeBody = % x\nwant         % x", got, tt.want)
			}
		})
	}
}

func TestDecodeBodyFieldOrder(t *testing.T) {
	// Fields in id order, as another language's encoder may write them.
	data := []byte{0x0b, 0x00, 0x01, 0, 0, 0, 2, 'a', 'b', 0x0a, 0x00, 0x02, 0, 0, 0, 0, 0, 0, 0, 3, 0x00}
	var got frame.ReadAck
	if err := DecodeBody(data, &got); err != nil {
		t.Fatalf("DecodeBody: %v", err)
	}
	if got.ConvId != "ab" || got.ConvSeq != 3 {
		t.Fatalf("got %+v", got)
	}
}

func TestDecodeBodyRejects(t *testing.T) {
	valid := EncodeBody(&frame.SendRequest{ClientMsgId: "a", ToUser: "b", Kind: 1, ContentType: "text/plain", Body: []byte("hi")})
	tests := []struct {
		name string
		data []byte
		into Body
	}{
		{"empty", nil, frame.NewSendRequest()},
		{"trailing byte", append(append([]byte{}, valid...), 0x00), frame.NewSendRequest()},
		{"trailing struct", append(append([]byte{}, valid...), valid...), frame.NewSendRequest()},
		{"no stop byte", valid[:len(valid)-1], frame.NewSendRequest()},
		{"cut inside a string", valid[:5], frame.NewSendRequest()},
		{"field header cut", []byte{0x0b, 0x00}, frame.NewSendRequest()},
		{"negative string length", []byte{0x0b, 0x00, 0x01, 0xff, 0xff, 0xff, 0xff, 0x00}, frame.NewSendRequest()},
		{"string longer than body", []byte{0x0b, 0x00, 0x01, 0x00, 0x00, 0x10, 0x00, 'x', 0x00}, frame.NewAuthRequest()},
		{"i64 cut", []byte{0x0a, 0x00, 0x01, 0x00, 0x00}, frame.NewDeliverAck()},
		{"unknown field of unknown type", []byte{0x63, 0x00, 0x09, 0x00}, frame.NewHeartbeat()},
		{"negative list size", []byte{0x0f, 0x00, 0x01, 0x0c, 0xff, 0xff, 0xff, 0xff, 0x00}, frame.NewPush()},
		{"list element cut", []byte{0x0f, 0x00, 0x01, 0x0c, 0x00, 0x00, 0x00, 0x01, 0x0b, 0x00, 0x01, 0x00}, frame.NewPush()},
		{"list of 2^31-1 messages, no data", []byte{0x0f, 0x00, 0x01, 0x0c, 0x7f, 0xff, 0xff, 0xff, 0x00}, frame.NewPush()},
		{"list of 2^31-1 messages in SyncResponse", []byte{0x0f, 0x00, 0x01, 0x0c, 0x7f, 0xff, 0xff, 0xff, 0x00}, frame.NewSyncResponse()},
		{"list of 65536 messages in 64 bytes", append([]byte{0x0f, 0x00, 0x01, 0x0c, 0x00, 0x01, 0x00, 0x00}, make([]byte, 64)...), frame.NewPush()},
		{"list size as i64 elements", []byte{0x0f, 0x00, 0x01, 0x0a, 0x10, 0x00, 0x00, 0x00, 0x00}, frame.NewPush()},
		{"map in an unknown field claims 2^31 entries", []byte{0x0d, 0x00, 0x09, 0x0b, 0x0b, 0x7f, 0xff, 0xff, 0xff, 0x00}, frame.NewAuthRequest()},
		{"deep nesting in an unknown field", deepLists(2000), frame.NewHeartbeat()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := DecodeBody(tt.data, tt.into)
			if !errors.Is(err, ErrBadRequest) {
				t.Fatalf("DecodeBody = %v, want BAD_REQUEST", err)
			}
			var perr *Error
			if !errors.As(err, &perr) || perr.Fatal() {
				t.Fatalf("a malformed body must be a non-fatal *Error, got %v", err)
			}
		})
	}
}

// deepLists nests list<list<...>> n deep in field 9, a field no body knows.
func deepLists(n int) []byte {
	b := []byte{0x0f, 0x00, 0x09}
	for range n {
		b = append(b, 0x0f, 0, 0, 0, 1)
	}
	return append(b, 0x00)
}

func TestDecodeBodySkipsUnknownFields(t *testing.T) {
	// A newer server may add fields; an old client must ignore them, whatever their type.
	data := []byte{
		0x0a, 0x00, 0x01, 0, 0, 0, 0, 0, 0, 0, 42, // seq = 42
		0x0b, 0x00, 0x07, 0, 0, 0, 3, 'n', 'e', 'w', // string field 7
		0x0f, 0x00, 0x08, 0x08, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 2, // list<i32> field 8
		0x0c, 0x00, 0x09, 0x02, 0x00, 0x01, 0x01, 0x00, // struct field 9 { bool }
		0x0b, 0x00, 0x01, 0, 0, 0, 0, // field 1 with the wrong type: skipped too
		0x00,
	}
	var got frame.DeliverAck
	if err := DecodeBody(data, &got); err != nil {
		t.Fatalf("DecodeBody: %v", err)
	}
	if got.Seq != 42 {
		t.Fatalf("Seq = %d, want 42", got.Seq)
	}
}

// The guard against declared sizes must hold without allocating what the peer declares.
func TestDecodeBodyHugeListAllocatesLittle(t *testing.T) {
	// 2^20 declared messages: enough to see (160 MiB each) without the guard, too few to
	// crash the test binary the way 2^31 does.
	data := []byte{0x0f, 0x00, 0x01, 0x0c, 0x00, 0x10, 0x00, 0x00, 0x00}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range 10 {
		if err := DecodeBody(data, frame.NewPush()); !errors.Is(err, ErrBadRequest) {
			t.Fatalf("DecodeBody = %v", err)
		}
	}
	runtime.ReadMemStats(&after)
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 1<<20 {
		t.Fatalf("10 rejected 9-byte bodies allocated %d bytes", grew)
	}
}

func TestDecodeBodyEmptyStruct(t *testing.T) {
	// A lone stop byte is a valid struct with every field at its zero value.
	var got frame.SendAck
	if err := DecodeBody([]byte{0x00}, &got); err != nil {
		t.Fatalf("DecodeBody: %v", err)
	}
	if !sameValue(&got, frame.NewSendAck()) {
		t.Fatalf("got %+v", got)
	}
}
