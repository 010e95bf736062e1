package protocol

import (
	"bytes"
	"strings"
	"testing"

	"github.com/bangbang-im/bangbang/gen/common"
	"github.com/bangbang-im/bangbang/gen/frame"
)

// largest is a message with every field at the largest the server stores: ids and
// content_type at the store's 128 bytes, the body at MaxMessageBody.
func largest(body int) *common.Message {
	s := strings.Repeat("x", 128)
	return &common.Message{MsgId: "0193a8f0-0000-7000-8000-000000000000", ConvId: s, ConvSeq: 1 << 62, Seq: 1 << 62,
		FromUser: s, ToUser: s, Kind: 3, ContentType: s, Body: bytes.Repeat([]byte{0xff}, body),
		ClientMsgId: s, SentAtMs: 1 << 62}
}

// TestLargestMessageFitsAFrame: a message of the largest accepted size fits a PUSH and a
// SYNC_RESP within the documented maximum; one byte more of body would not be accepted.
func TestLargestMessageFitsAFrame(t *testing.T) {
	m := largest(MaxMessageBody)
	sync := EncodeBody(&frame.SyncResponse{Messages: []*common.Message{m}, HasMore: true, MaxSeq: 1 << 62})
	push := EncodeBody(&frame.Push{Messages: []*common.Message{m}})
	if len(sync) > DefaultMaxBody || len(push) > DefaultMaxBody {
		t.Fatalf("largest message: SYNC_RESP body %d, PUSH body %d bytes; the maximum is %d", len(sync), len(push), DefaultMaxBody)
	}
	if !MessageFits(m, 0) || FitSync([]*common.Message{m}, 0) != 1 || FitPush([]*common.Message{m}, 0) != 1 {
		t.Fatal("the largest message does not fit by the helpers")
	}
	if MaxMessageBody != 64512 {
		t.Fatalf("MaxMessageBody = %d; docs/protocol.md says 64 512", MaxMessageBody)
	}
}

func TestFitPagesByBytes(t *testing.T) {
	msgs := make([]*common.Message, 10)
	for i := range msgs {
		msgs[i] = largest(20_000)
	}
	n := FitSync(msgs, 0)
	if n != 3 {
		t.Fatalf("FitSync of 10 messages of 20 KB = %d, want 3", n)
	}
	body := EncodeBody(&frame.SyncResponse{Messages: msgs[:n], HasMore: true, MaxSeq: 1})
	if len(body) > DefaultMaxBody {
		t.Fatalf("a page of %d is %d bytes", n, len(body))
	}
	over := EncodeBody(&frame.SyncResponse{Messages: msgs[:n+1], HasMore: true, MaxSeq: 1})
	if len(over) <= DefaultMaxBody {
		t.Fatalf("one more message (%d bytes) would have fit", len(over))
	}
	if FitPush(msgs, 0) != 3 {
		t.Fatalf("FitPush = %d", FitPush(msgs, 0))
	}
	// Progress: a message too large for a frame still makes a page of one.
	huge := []*common.Message{largest(DefaultMaxBody), largest(1)}
	if FitSync(huge, 0) != 1 || MessageFits(huge[0], 0) {
		t.Fatal("an oversize message: want a page of one that MessageFits refuses")
	}
	if FitSync(nil, 0) != 0 {
		t.Fatal("no messages make an empty page")
	}
}
