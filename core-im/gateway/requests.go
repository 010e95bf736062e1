package gateway

import (
	"context"
	"errors"

	"github.com/bangbang-im/bangbang/core-im/protocol"
	"github.com/bangbang-im/bangbang/gen/common"
	"github.com/bangbang-im/bangbang/gen/frame"
	logicgen "github.com/bangbang-im/bangbang/gen/logic"
)

// The requests of an authenticated session. The user and device always come from the
// session, never from the frame, so a client can only act as itself.

func (s *session) send(ctx context.Context, f *protocol.Frame) {
	var req frame.SendRequest
	if err := protocol.DecodeBody(f.Body, &req); err != nil {
		s.badRequest(f, err)
		return
	}
	kind := req.Kind
	if kind == 0 {
		kind = int32(common.MessageKind_CHAT)
	}
	if kind != int32(common.MessageKind_CHAT) {
		// System and marketing messages enter through logic.PushToUsers, never a client.
		s.replyError(f, errorBody(f, common.ErrorCode_FORBIDDEN, "clients may only send chat messages"))
		return
	}
	id := s.ident.Load()
	s.pipeSend(ctx, f, &logicgen.SendRequest{
		UserId: id.user, DeviceId: id.device, ClientMsgId: req.ClientMsgId, ToUser: req.ToUser,
		Kind: kind, ContentType: req.ContentType, Body: req.Body,
	})
}

func (s *session) sync(ctx context.Context, f *protocol.Frame) {
	var req frame.SyncRequest
	if err := protocol.DecodeBody(f.Body, &req); err != nil {
		s.badRequest(f, err)
		return
	}
	call, cancel := s.call(ctx)
	resp, err := s.g.logic.Sync(call, &logicgen.SyncRequest{
		UserId: s.ident.Load().user, AfterSeq: req.AfterSeq, Limit: req.Limit,
	})
	cancel()
	if err != nil {
		s.replyError(f, s.failure(ctx, f, "sync", err))
		return
	}
	page := &frame.SyncResponse{Messages: resp.GetMessages(), HasMore: resp.GetHasMore(), MaxSeq: resp.GetMaxSeq()}
	// Logic pages by bytes; a page over the frame limit all the same (a logic of another
	// version) is cut here: has_more tells the client to ask for the rest.
	if n := protocol.FitSync(page.Messages, s.g.cfg.MaxBody); n < len(page.Messages) {
		page.Messages, page.HasMore = page.Messages[:n], true
	}
	s.reply(f, protocol.OpSyncResp, page)
}

// ack has no reply when it succeeds: a lost ack only means the device syncs a little more
// next time. A seq logic refuses (past the user's newest inbox seq) is the client's
// mistake and is answered with ERROR BAD_REQUEST; any other failure is only logged.
func (s *session) ack(ctx context.Context, f *protocol.Frame) {
	var req frame.DeliverAck
	if err := protocol.DecodeBody(f.Body, &req); err != nil {
		s.badRequest(f, err)
		return
	}
	id := s.ident.Load()
	call, cancel := s.call(ctx)
	_, err := s.g.logic.Ack(call, &logicgen.AckRequest{UserId: id.user, DeviceId: id.device, Seq: req.Seq})
	cancel()
	var ime *common.IMError
	if errors.As(err, &ime) && ime.Code == int32(common.ErrorCode_BAD_REQUEST) {
		s.replyError(f, errorBody(f, common.ErrorCode_BAD_REQUEST, ime.Message))
		return
	}
	if err != nil {
		s.g.log.WarnContext(ctx, "ack failed", append(s.attrs(), "seq", req.Seq, "err", err)...)
	}
}

func (s *session) read(ctx context.Context, f *protocol.Frame) {
	var req frame.ReadRequest
	if err := protocol.DecodeBody(f.Body, &req); err != nil {
		s.badRequest(f, err)
		return
	}
	call, cancel := s.call(ctx)
	resp, err := s.g.logic.Read(call, &logicgen.ReadRequest{
		UserId: s.ident.Load().user, ConvId: req.ConvId, ConvSeq: req.ConvSeq,
	})
	cancel()
	if err != nil {
		s.replyError(f, s.failure(ctx, f, "read", err))
		return
	}
	s.reply(f, protocol.OpReadAck, &frame.ReadAck{ConvId: req.ConvId, ConvSeq: resp.GetReadSeq()})
}
