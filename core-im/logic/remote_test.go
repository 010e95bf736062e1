package logic

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/cloudwego/kitex/client"
	"github.com/cloudwego/kitex/client/callopt"
	"github.com/cloudwego/kitex/pkg/kerrors"
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

	// The campaign calls: accounts, a body per user, and receipts.
	ensured, err := remote.EnsureUsers(ctx, &logicgen.EnsureUsersRequest{Users: []*logicgen.UserInfo{
		{UserId: "dave", Kind: "merchant", DisplayName: "Dave"}, {UserId: "bob", Kind: "merchant", DisplayName: "Bob"}}})
	if err != nil || ensured.Created != 1 {
		t.Fatalf("ensure users over kitex: %+v, %v", ensured, err)
	}
	_, err = remote.EnsureUsers(ctx, &logicgen.EnsureUsersRequest{Users: []*logicgen.UserInfo{{UserId: "x", Kind: "robot", DisplayName: "X"}}})
	wantCode(t, err, common.ErrorCode_BAD_REQUEST)
	pushed, err := remote.PushToUsers(ctx, marketing([]string{"dave", "bob"}, "for dave", "for bob"))
	if err != nil || pushed.Results[1].Seq != 2 || pushed.Results[1].ConvSeq != 1 {
		t.Fatalf("push over kitex: %+v, %v", pushed, err)
	}
	sync, err = remote.Sync(ctx, &logicgen.SyncRequest{UserId: "bob", AfterSeq: 1})
	if err != nil || len(sync.Messages) != 1 || string(sync.Messages[0].Body) != "for bob" {
		t.Fatalf("bob's push over kitex: %+v, %v", sync, err)
	}
	if _, err := remote.Read(ctx, &logicgen.ReadRequest{UserId: "bob", ConvId: "s:bob", ConvSeq: 1}); err != nil {
		t.Fatal(err)
	}
	receipts, err := remote.Receipts(ctx, &logicgen.ReceiptsRequest{Items: []*logicgen.ReceiptQuery{{UserId: "bob", ConvId: "s:bob"}}})
	if err != nil || len(receipts.Results) != 1 || receipts.Results[0].ReadSeq != 1 || receipts.Results[0].UserId != "bob" {
		t.Fatalf("receipts over kitex: %+v, %v", receipts, err)
	}
}

// Which failed calls Remote makes again: none that might have reached a node and is unsafe
// to repeat, none after a timeout or an answer.
func TestRemoteRetryDecisions(t *testing.T) {
	refused := kerrors.ErrGetConnection.WithCause(errors.New("connection refused"))
	reset := kerrors.ErrRemoteOrNetwork.WithCause(errors.New("connection reset"))
	for _, c := range []struct {
		method string
		err    error
		want   retryKind
	}{
		{"Send", refused, retryNotSent},
		{"Send", reset, retryBroken},
		{"PushToUsers", refused, retryNotSent},
		{"PushToUsers", reset, retryNo},
		{"Send", kerrors.ErrRPCTimeout.WithCause(errors.New("5s")), retryNo},
		{"Send", &common.IMError{Code: int32(common.ErrorCode_UNAVAILABLE), Temporary: true}, retryNo},
	} {
		if got := retryable(c.method, c.err); got != c.want {
			t.Errorf("%s failing with %v: %v, want %v", c.method, c.err, got, c.want)
		}
	}
}

// A call that reaches no node is made again, up to connectAttempts times; one whose
// connection broke once more; an answer is returned as it is, declared exception included.
func TestRemoteRetries(t *testing.T) {
	ime := &common.IMError{Code: int32(common.ErrorCode_UNAVAILABLE), Message: "redis down", Temporary: true}
	for _, c := range []struct {
		name  string
		errs  []error // what each call returns, the last repeating
		calls int
		want  error
	}{
		{"refused every time", []error{kerrors.ErrGetConnection}, connectAttempts, kerrors.ErrGetConnection},
		{"refused then served", []error{kerrors.ErrGetConnection, nil}, 2, nil},
		{"broken twice", []error{kerrors.ErrRemoteOrNetwork}, 2, kerrors.ErrRemoteOrNetwork},
		{"answered", []error{ime}, 1, ime},
	} {
		t.Run(c.name, func(t *testing.T) {
			n := 0
			f := func(_ context.Context, req *logicgen.SendRequest, _ ...callopt.Option) (*logicgen.SendResponse, error) {
				err := c.errs[min(n, len(c.errs)-1)]
				n++
				if err != nil {
					return nil, err
				}
				return &logicgen.SendResponse{}, nil
			}
			_, err := retried(context.Background(), "Send", f, &logicgen.SendRequest{})
			if n != c.calls || !errors.Is(err, c.want) && err != c.want {
				t.Errorf("%d calls, error %v; want %d, %v", n, err, c.calls, c.want)
			}
		})
	}
}
