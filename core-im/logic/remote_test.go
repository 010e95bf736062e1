package logic

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/cloudwego/kitex/client"
	"github.com/cloudwego/kitex/pkg/transmeta"
	"github.com/cloudwego/kitex/server"
	"github.com/cloudwego/kitex/transport"

	"github.com/bangbang-im/bangbang/gen/common"
	logicgen "github.com/bangbang-im/bangbang/gen/logic"
	"github.com/bangbang-im/bangbang/gen/logic/logicservice"
)

// TestRemoteOverKitex runs the Service behind a real Kitex server and drives it through
// Remote: results and typed errors cross the wire unchanged.
func TestRemoteOverKitex(t *testing.T) {
	f := newFixture(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr()
	ln.Close()
	srv := logicservice.NewServer(f.svc, server.WithServiceAddr(addr),
		server.WithMetaHandler(transmeta.ServerTTHeaderHandler), server.WithExitWaitTime(10*time.Millisecond))
	done := make(chan error, 1)
	go func() { done <- srv.Run() }()
	t.Cleanup(func() {
		_ = srv.Stop()
		<-done
	})
	c, err := logicservice.NewClient("logic", client.WithHostPorts(addr.String()),
		client.WithTransportProtocol(transport.TTHeader), client.WithMetaHandler(transmeta.ClientTTHeaderHandler),
		client.WithRPCTimeout(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	var remote logicgen.LogicService = NewRemote(c)
	ctx := context.Background()

	// The server may still be binding: retry the first call until it answers.
	var sent *logicgen.SendResponse
	deadline := time.Now().Add(10 * time.Second)
	for {
		sent, err = remote.Send(ctx, &logicgen.SendRequest{UserId: "alice", DeviceId: "phone", ClientMsgId: "k1", ToUser: "bob", Body: []byte("over kitex")})
		if err == nil || Code(err) != common.ErrorCode_INTERNAL || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond) // polling for the listener, not synchronising
	}
	if err != nil {
		t.Fatal(err)
	}
	if sent.ConvSeq != 1 || sent.MsgId == "" {
		t.Fatalf("send over kitex: %+v", sent)
	}
	sync, err := remote.Sync(ctx, &logicgen.SyncRequest{UserId: "bob"})
	if err != nil || len(sync.Messages) != 1 || string(sync.Messages[0].Body) != "over kitex" {
		t.Fatalf("sync over kitex: %+v, %v", sync, err)
	}
	_, err = remote.Send(ctx, &logicgen.SendRequest{UserId: "alice", DeviceId: "phone", ClientMsgId: "k2", ToUser: "nobody", Body: []byte("x")})
	wantCode(t, err, common.ErrorCode_NOT_FOUND)
	_, err = remote.Authenticate(ctx, &logicgen.AuthenticateRequest{UserId: "alice", Password: "bad"})
	wantCode(t, err, common.ErrorCode_UNAUTHENTICATED)
}
