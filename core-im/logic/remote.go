package logic

import (
	"context"

	logicgen "github.com/bangbang-im/bangbang/gen/logic"
	"github.com/bangbang-im/bangbang/gen/logic/logicservice"
)

// Remote is the LogicService of another process, over Kitex. It satisfies the same
// interface as *Service, so a gateway never knows which it has.
type Remote struct{ c logicservice.Client }

var _ logicgen.LogicService = Remote{}

// NewRemote adapts a generated Kitex client.
func NewRemote(c logicservice.Client) Remote { return Remote{c} }

func (r Remote) Authenticate(ctx context.Context, req *logicgen.AuthenticateRequest) (*logicgen.AuthenticateResponse, error) {
	return r.c.Authenticate(ctx, req)
}

func (r Remote) Connect(ctx context.Context, req *logicgen.ConnectRequest) (*logicgen.ConnectResponse, error) {
	return r.c.Connect(ctx, req)
}

func (r Remote) Disconnect(ctx context.Context, req *logicgen.DisconnectRequest) (*logicgen.DisconnectResponse, error) {
	return r.c.Disconnect(ctx, req)
}

func (r Remote) Renew(ctx context.Context, req *logicgen.RenewRequest) (*logicgen.RenewResponse, error) {
	return r.c.Renew(ctx, req)
}

func (r Remote) Send(ctx context.Context, req *logicgen.SendRequest) (*logicgen.SendResponse, error) {
	return r.c.Send(ctx, req)
}

func (r Remote) SendBatch(ctx context.Context, req *logicgen.SendBatchRequest) (*logicgen.SendBatchResponse, error) {
	return r.c.SendBatch(ctx, req)
}

func (r Remote) Sync(ctx context.Context, req *logicgen.SyncRequest) (*logicgen.SyncResponse, error) {
	return r.c.Sync(ctx, req)
}

func (r Remote) Ack(ctx context.Context, req *logicgen.AckRequest) (*logicgen.AckResponse, error) {
	return r.c.Ack(ctx, req)
}

func (r Remote) Read(ctx context.Context, req *logicgen.ReadRequest) (*logicgen.ReadResponse, error) {
	return r.c.Read(ctx, req)
}

func (r Remote) PushToUsers(ctx context.Context, req *logicgen.PushRequest) (*logicgen.PushResponse, error) {
	return r.c.PushToUsers(ctx, req)
}

func (r Remote) Presence(ctx context.Context, req *logicgen.PresenceRequest) (*logicgen.PresenceResponse, error) {
	return r.c.Presence(ctx, req)
}

func (r Remote) Receipts(ctx context.Context, req *logicgen.ReceiptsRequest) (*logicgen.ReceiptsResponse, error) {
	return r.c.Receipts(ctx, req)
}

func (r Remote) EnsureUsers(ctx context.Context, req *logicgen.EnsureUsersRequest) (*logicgen.EnsureUsersResponse, error) {
	return r.c.EnsureUsers(ctx, req)
}

func (r Remote) RevokeTokens(ctx context.Context, req *logicgen.RevokeTokensRequest) (*logicgen.RevokeTokensResponse, error) {
	return r.c.RevokeTokens(ctx, req)
}

func (r Remote) CheckToken(ctx context.Context, req *logicgen.CheckTokenRequest) (*logicgen.CheckTokenResponse, error) {
	return r.c.CheckToken(ctx, req)
}

func (r Remote) ChangePassword(ctx context.Context, req *logicgen.ChangePasswordRequest) (*logicgen.ChangePasswordResponse, error) {
	return r.c.ChangePassword(ctx, req)
}
