package gateway

import (
	"context"
	"fmt"
	"net"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/bangbang-im/bangbang/core-im/auth"
	"github.com/bangbang-im/bangbang/core-im/protocol"
	"github.com/bangbang-im/bangbang/gen/common"
	"github.com/bangbang-im/bangbang/gen/frame"
	gatewaygen "github.com/bangbang-im/bangbang/gen/gateway"
)

// BenchmarkDeliverFanout: one PUSH frame to every connection (100, and 5,000: both ends
// of each live in this process, and the descriptor limit here is 20,000) per operation,
// counted once every connection has read every frame; frames/s is what the clients read.
//
//	go test -run '^$' -bench DeliverFanout -benchtime 200x ./core-im/gateway/
func BenchmarkDeliverFanout(b *testing.B) {
	for _, conns := range []int{100, 5000} {
		for _, model := range []string{IOModelEventLoop, IOModelNetpoll, IOModelGoroutine} {
			b.Run(fmt.Sprintf("%s/conns=%d", model, conns), func(b *testing.B) { benchFanout(b, model, conns) })
		}
	}
}

func benchFanout(b *testing.B, model string, conns int) {
	tokens, err := auth.NewTokens(testSecret, time.Hour, nil)
	if err != nil {
		b.Fatal(err)
	}
	// Go lifts the soft descriptor limit to the hard one at start.
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil || rl.Cur < uint64(2*conns+100) {
		b.Skipf("%d connections need %d descriptors here, the limit is %d", conns, 2*conns+100, rl.Cur)
	}
	g, err := New(Config{TCPAddr: "127.0.0.1:0", WSAddr: Disabled, IOModel: model, SendQueue: 1 << 16, FrameRate: 1e6, FrameBurst: 1e6, MaxConnsPerAddr: -1},
		newFakeLogic(), tokens, testLogger())
	if err != nil {
		b.Fatal(err)
	}
	if err := g.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = g.Shutdown(ctx)
	}()

	ids := make([]string, conns)
	ncs := make([]net.Conn, conns)
	readers := make([]*protocol.Reader, conns)
	for i := range conns {
		nc, err := net.Dial("tcp", g.TCPAddr().String())
		if err != nil {
			b.Fatal(err)
		}
		defer nc.Close()
		tok, _, _ := tokens.Issue(fmt.Sprintf("m%d", i), "merchant")
		if _, err := nc.Write(protocol.AppendMessage(nil, protocol.OpAuth, 1, nil, &frame.AuthRequest{Token: tok, DeviceId: "d"})); err != nil {
			b.Fatal(err)
		}
		rd := protocol.NewReader(nc, 0)
		f, err := rd.Next()
		if err != nil || f.Op != protocol.OpAuthOK {
			b.Fatalf("auth: %v %v", f.Op, err)
		}
		var ok frame.AuthResponse
		if err := protocol.DecodeBody(f.Body, &ok); err != nil {
			b.Fatal(err)
		}
		ids[i], ncs[i], readers[i] = ok.SessionId, nc, rd
	}
	body := protocol.EncodeBody(&frame.Push{Messages: []*common.Message{{MsgId: "m", Body: make([]byte, 200)}}})
	req := &gatewaygen.DeliverRequest{Deliveries: []*gatewaygen.Delivery{{ConnIds: ids, Op: int32(protocol.OpPush), Body: body}}}

	var wg sync.WaitGroup
	errs := make(chan error, conns)
	b.ResetTimer()
	for i := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = ncs[i].SetReadDeadline(time.Now().Add(time.Minute))
			for range b.N {
				if _, err := readers[i].Next(); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	for range b.N {
		if _, err := g.Deliver(context.Background(), req); err != nil {
			b.Fatal(err)
		}
	}
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(float64(b.N)*float64(conns)/b.Elapsed().Seconds(), "frames/s")
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	if d := g.Stats().Dropped; d != 0 {
		b.Fatalf("%d connections dropped", d)
	}
}
