package gateway

import (
	"bytes"
	"testing"

	"github.com/bangbang-im/bangbang/core-im/auth"
	"github.com/bangbang-im/bangbang/core-im/protocol"
	"github.com/bangbang-im/bangbang/gen/frame"
)

// FuzzClientStream feeds arbitrary bytes through the reader and the session's frame
// handling, as the goroutine IO model does: nothing a client sends may panic.
func FuzzClientStream(f *testing.F) {
	g := newUnstarted(f, Config{SendQueue: 1 << 20, FrameBurst: 1 << 20})
	tok, _, err := g.tokens.(*auth.Tokens).Issue("m1001", "merchant")
	if err != nil {
		f.Fatal(err)
	}
	login := protocol.AppendMessage(nil, protocol.OpAuth, 1, nil, &frame.AuthRequest{Token: tok, DeviceId: "d"})
	f.Add(login)
	f.Add(protocol.AppendMessage(login, protocol.OpSend, 2, nil, &frame.SendRequest{ClientMsgId: "c", ToUser: "u"}))
	f.Add(protocol.AppendMessage(login, protocol.OpSync, 3, nil, &frame.SyncRequest{AfterSeq: 1}))
	f.Add(protocol.AppendFrame(append([]byte(nil), login...), &protocol.Frame{Op: 99, Seq: 4, Body: []byte{1, 2}}))
	f.Add([]byte("GET / HTTP/1.1\r\n\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s := g.newSession(&recordingConn{wrote: make(chan struct{}, 1)})
		defer s.shutdown("fuzz done")
		rd := newLazyReader(bytes.NewReader(data), 0, &g.readBufs)
		for {
			fr, err := rd.next()
			if err != nil || !s.handle(&fr) {
				return
			}
		}
	})
}
