package logic_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/bangbang-im/bangbang/core-im/gateway"
	"github.com/bangbang-im/bangbang/core-im/protocol"
	"github.com/bangbang-im/bangbang/core-im/store"
	"github.com/bangbang-im/bangbang/gen/common"
	"github.com/bangbang-im/bangbang/gen/frame"
)

// What docs/protocol.md says of pipelined SENDs, on the real gateway, logic and store: a
// client writes more SENDs than the window at once, one refused among them; every other
// is stored in the order sent (conv_seq), acked in that order, and pushed in that order.
func TestPipelinedSendsKeepTheirOrder(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "protocol.md"))
	if err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("Up to %d SENDs of\na connection (the send window)", gateway.DefaultSendWindow); !bytes.Contains(doc, []byte(want)) {
		t.Fatalf("docs/protocol.md does not give the send window as %d", gateway.DefaultSendWindow)
	}
	backends(t, func(t *testing.T, open func(t *testing.T) store.Store) {
		s := newIMStack(t, open(t), []string{"ann", "bob"}, func(c *gateway.Config) { c.FrameBurst = 200 })
		ann, _ := s.login(t, "ann")
		bob, _ := s.login(t, "bob")
		n := 2*gateway.DefaultSendWindow + 5
		var all []byte
		var seqs []uint32
		for i := range n {
			to := "bob"
			if i == 7 {
				to = "nobody"
			}
			b, seq := ann.frame(protocol.OpSend, &frame.SendRequest{ClientMsgId: fmt.Sprint("m", i), ToUser: to, Body: []byte(fmt.Sprint("text ", i))})
			all = append(all, b...)
			seqs = append(seqs, seq)
		}
		ann.write(all)
		next := int64(1)
		for i, seq := range seqs {
			if i == 7 {
				ann.expectError(seq, common.ErrorCode_NOT_FOUND)
				continue
			}
			var ack frame.SendAck
			ann.expect(protocol.OpSendAck, seq, &ack)
			if ack.ClientMsgId != fmt.Sprint("m", i) || ack.ConvSeq != next {
				t.Fatalf("SEND %d acked as %s with conv_seq %d, want conv_seq %d", i, ack.ClientMsgId, ack.ConvSeq, next)
			}
			next++
		}
		want := int64(1)
		for want < next {
			f, err := bob.next()
			if err != nil {
				t.Fatalf("bob waiting for push %d: %v", want, err)
			}
			if f.Op != protocol.OpPush {
				continue
			}
			var p frame.Push
			if err := protocol.DecodeBody(f.Body, &p); err != nil {
				t.Fatal(err)
			}
			for _, m := range p.Messages {
				if m.ConvSeq != want {
					t.Fatalf("bob got conv_seq %d, want %d", m.ConvSeq, want)
				}
				want++
			}
		}
	})
}
