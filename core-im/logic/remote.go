package logic

import (
	"context"
	"errors"

	"github.com/cloudwego/kitex/client/callopt"
	"github.com/cloudwego/kitex/pkg/kerrors"

	logicgen "github.com/bangbang-im/bangbang/gen/logic"
	"github.com/bangbang-im/bangbang/gen/logic/logicservice"
)

// Remote is the LogicService of another process, over Kitex. It satisfies the same
// interface as *Service, so a gateway never knows which it has. A call is made again when
// it failed in a way another logic node may not (see retryable): with several nodes behind
// the client (etcd), the balancer picks again.
type Remote struct{ c logicservice.Client }

var _ logicgen.LogicService = Remote{}

// NewRemote adapts a generated Kitex client.
func NewRemote(c logicservice.Client) Remote { return Remote{c} }

func (r Remote) Authenticate(ctx context.Context, req *logicgen.AuthenticateRequest) (*logicgen.AuthenticateResponse, error) {
	return retried(ctx, "Authenticate", r.c.Authenticate, req)
}

func (r Remote) Connect(ctx context.Context, req *logicgen.ConnectRequest) (*logicgen.ConnectResponse, error) {
	return retried(ctx, "Connect", r.c.Connect, req)
}

func (r Remote) Disconnect(ctx context.Context, req *logicgen.DisconnectRequest) (*logicgen.DisconnectResponse, error) {
	return retried(ctx, "Disconnect", r.c.Disconnect, req)
}

func (r Remote) Renew(ctx context.Context, req *logicgen.RenewRequest) (*logicgen.RenewResponse, error) {
	return retried(ctx, "Renew", r.c.Renew, req)
}

func (r Remote) Send(ctx context.Context, req *logicgen.SendRequest) (*logicgen.SendResponse, error) {
	return retried(ctx, "Send", r.c.Send, req)
}

func (r Remote) SendBatch(ctx context.Context, req *logicgen.SendBatchRequest) (*logicgen.SendBatchResponse, error) {
	return retried(ctx, "SendBatch", r.c.SendBatch, req)
}

func (r Remote) Sync(ctx context.Context, req *logicgen.SyncRequest) (*logicgen.SyncResponse, error) {
	return retried(ctx, "Sync", r.c.Sync, req)
}

func (r Remote) Ack(ctx context.Context, req *logicgen.AckRequest) (*logicgen.AckResponse, error) {
	return retried(ctx, "Ack", r.c.Ack, req)
}

func (r Remote) Read(ctx context.Context, req *logicgen.ReadRequest) (*logicgen.ReadResponse, error) {
	return retried(ctx, "Read", r.c.Read, req)
}

func (r Remote) PushToUsers(ctx context.Context, req *logicgen.PushRequest) (*logicgen.PushResponse, error) {
	return retried(ctx, "PushToUsers", r.c.PushToUsers, req)
}

func (r Remote) Presence(ctx context.Context, req *logicgen.PresenceRequest) (*logicgen.PresenceResponse, error) {
	return retried(ctx, "Presence", r.c.Presence, req)
}

func (r Remote) Receipts(ctx context.Context, req *logicgen.ReceiptsRequest) (*logicgen.ReceiptsResponse, error) {
	return retried(ctx, "Receipts", r.c.Receipts, req)
}

func (r Remote) EnsureUsers(ctx context.Context, req *logicgen.EnsureUsersRequest) (*logicgen.EnsureUsersResponse, error) {
	return retried(ctx, "EnsureUsers", r.c.EnsureUsers, req)
}

func (r Remote) RevokeTokens(ctx context.Context, req *logicgen.RevokeTokensRequest) (*logicgen.RevokeTokensResponse, error) {
	return retried(ctx, "RevokeTokens", r.c.RevokeTokens, req)
}

func (r Remote) CheckToken(ctx context.Context, req *logicgen.CheckTokenRequest) (*logicgen.CheckTokenResponse, error) {
	return retried(ctx, "CheckToken", r.c.CheckToken, req)
}

func (r Remote) ChangePassword(ctx context.Context, req *logicgen.ChangePasswordRequest) (*logicgen.ChangePasswordResponse, error) {
	return retried(ctx, "ChangePassword", r.c.ChangePassword, req)
}

// connectAttempts bounds the calls made for one request while none reaches a node: with a
// dead node still listed (until its lease ends), each attempt picks again among all.
const connectAttempts = 3

// retried calls f, and again while the failure is one retryable allows: at most
// connectAttempts times in all, and once more only after a broken connection.
func retried[Req, Resp any](ctx context.Context, method string, f func(context.Context, Req, ...callopt.Option) (Resp, error), req Req) (Resp, error) {
	resp, err := f(ctx, req)
	broken := false
	for attempt := 1; attempt < connectAttempts && err != nil && ctx.Err() == nil; attempt++ {
		switch retryable(method, err) {
		case retryNo:
			return resp, err
		case retryBroken:
			if broken {
				return resp, err
			}
			broken = true
		}
		resp, err = f(ctx, req)
	}
	return resp, err
}

type retryKind int

const (
	retryNo      retryKind = iota
	retryNotSent           // the call reached no node: always safe to make again
	retryBroken            // the connection broke: the node may have run it
)

// retryable says whether a failed logic call may be made again, on whichever node the
// balancer picks: always when it reached no node (no connection); once when its
// connection broke, since logic's calls are safe to repeat (a SEND is de-duplicated by its
// client_msg_id, marks only rise, a route is put again), except a PushToUsers, whose
// test-sends carry no dedup key; never after a timeout (the node may still be at work, and
// a second one would double the load of a slow moment: the SDK resends by itself) or an
// answer (an IMError is logic's verdict).
func retryable(method string, err error) retryKind {
	switch {
	case kerrors.IsTimeoutError(err):
		return retryNo
	case errors.Is(err, kerrors.ErrGetConnection):
		return retryNotSent
	case errors.Is(err, kerrors.ErrRemoteOrNetwork) && method != "PushToUsers":
		return retryBroken
	}
	return retryNo
}
