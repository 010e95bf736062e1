package logic

import (
	"context"
	"errors"

	"github.com/bangbang-im/bangbang/core-im/protocol"
	"github.com/bangbang-im/bangbang/core-im/store"
	"github.com/bangbang-im/bangbang/gen/common"
	logicgen "github.com/bangbang-im/bangbang/gen/logic"
)

// MaxSendBatch is the most sends one SendBatch call carries.
const MaxSendBatch = 256

// Send stores a chat message, then pushes it to the recipient's devices and the sender's
// other devices. The response is the sender's ack: it exists only once the message is
// committed. A resend with the same client_msg_id returns the first message (duplicate) and
// pushes it again, since the first push may have been lost with the sender's ack.
func (s *Service) Send(ctx context.Context, req *logicgen.SendRequest) (_ *logicgen.SendResponse, err error) {
	ctx, done := s.observe(ctx, "Send", req.UserId)
	defer func() { done(err) }()
	r := s.send(ctx, []*logicgen.SendRequest{req})[0]
	if r.Err != nil {
		return nil, r.Err
	}
	return r.Ok, nil
}

// SendBatch is Send for a connection's pipelined sends: one store batch for all of them,
// queued together in their order, each checked and answered alone.
func (s *Service) SendBatch(ctx context.Context, req *logicgen.SendBatchRequest) (_ *logicgen.SendBatchResponse, err error) {
	user := ""
	if len(req.Sends) > 0 && req.Sends[0] != nil {
		user = req.Sends[0].UserId
	}
	ctx, done := s.observe(ctx, "SendBatch", user)
	defer func() { done(err) }()
	if len(req.Sends) == 0 || len(req.Sends) > MaxSendBatch {
		return nil, imError(common.ErrorCode_BAD_REQUEST, "send batch: 1..%d sends", MaxSendBatch)
	}
	return &logicgen.SendBatchResponse{Results: s.send(ctx, req.Sends)}, nil
}

// send checks reqs, stores the valid ones with one AppendBatch and pushes each stored
// message, answering every request at its index.
func (s *Service) send(ctx context.Context, reqs []*logicgen.SendRequest) []*logicgen.SendOutcome {
	out := make([]*logicgen.SendOutcome, len(reqs))
	msgs := make([]store.NewMessage, 0, len(reqs))
	idx := make([]int, 0, len(reqs))
	now := s.now()
	for i, req := range reqs {
		if err := s.checkSend(ctx, req); err != nil {
			out[i] = &logicgen.SendOutcome{Err: err}
			continue
		}
		ct := req.ContentType
		if ct == "" {
			ct = "text/plain"
		}
		msgs = append(msgs, store.NewMessage{
			ConvID:      convID(req.UserId, req.ToUser),
			From:        req.UserId,
			To:          req.ToUser,
			Recipients:  []string{req.UserId, req.ToUser},
			ClientMsgID: req.ClientMsgId,
			Kind:        store.KindChat,
			ContentType: ct,
			Body:        req.Body,
			SentAt:      now,
		})
		idx = append(idx, i)
	}
	if len(msgs) == 0 {
		return out
	}
	for j, r := range s.appendAll(ctx, msgs) {
		i, req := idx[j], reqs[idx[j]]
		if r.Err != nil {
			out[i] = &logicgen.SendOutcome{Err: s.internal(ctx, "send", r.Err, userAttrs(req.UserId, req.DeviceId)...)}
			continue
		}
		out[i] = &logicgen.SendOutcome{Ok: s.stored(ctx, req, r.Appended)}
	}
	return out
}

// appendAll stores msgs with one AppendBatch; one message takes Append, whose span names
// its sender and conversation.
func (s *Service) appendAll(ctx context.Context, msgs []store.NewMessage) []store.AppendResult {
	if len(msgs) == 1 {
		a, err := s.store.Append(ctx, msgs[0])
		return []store.AppendResult{{Appended: a, Err: err}}
	}
	return s.store.AppendBatch(ctx, msgs)
}

// checkSend refuses what a client may not send, and a recipient that does not exist.
func (s *Service) checkSend(ctx context.Context, req *logicgen.SendRequest) *common.IMError {
	switch {
	case req == nil:
		return imError(common.ErrorCode_BAD_REQUEST, "send: empty request")
	case !validID(req.UserId) || !validID(req.DeviceId):
		return imError(common.ErrorCode_BAD_REQUEST, "send: sender required")
	case !validID(req.ClientMsgId):
		return imError(common.ErrorCode_BAD_REQUEST, "send: client_msg_id must be 1..%d bytes", MaxIDBytes)
	case !validID(req.ToUser):
		return imError(common.ErrorCode_BAD_REQUEST, "send: to_user must be 1..%d bytes", MaxIDBytes)
	case req.ToUser == req.UserId:
		return imError(common.ErrorCode_BAD_REQUEST, "send: cannot send to yourself")
	case req.Kind != int32(common.MessageKind_CHAT) && req.Kind != 0:
		return imError(common.ErrorCode_FORBIDDEN, "send: clients send chat messages only")
	case len(req.Body) == 0 || len(req.Body) > MaxBodyBytes:
		return imError(common.ErrorCode_BAD_REQUEST, "send: body must be 1..%d bytes", MaxBodyBytes)
	case !validContentType(req.ContentType):
		return imError(common.ErrorCode_BAD_REQUEST, "send: content_type over %d bytes", MaxContentType)
	}
	return s.userExists(ctx, req.ToUser)
}

// stored pushes a stored message to every device of both users but the sending one,
// which has its ack, and returns that ack.
func (s *Service) stored(ctx context.Context, req *logicgen.SendRequest, a store.Appended) *logicgen.SendResponse {
	var own int64
	for _, e := range a.Inbox {
		if e.UserID == req.UserId {
			own = e.Seq
		}
		if err := s.push.enqueue(ctx, pushJob{user: e.UserID, msg: toWire(a.Message, e.Seq), skipDevice: skipFor(e.UserID, req)}); err != nil {
			s.log.WarnContext(ctx, "push not queued; recipient will sync", "user", e.UserID, "err", err)
		}
	}
	s.log.DebugContext(ctx, "message stored", "conv", a.Message.ConvID, "seq", a.Message.ConvSeq, "dup", a.Duplicate)
	return &logicgen.SendResponse{MsgId: a.Message.ID, ConvId: a.Message.ConvID, ConvSeq: a.Message.ConvSeq,
		Seq: own, SentAtMs: a.Message.SentAt.UnixMilli(), Duplicate: a.Duplicate}
}

func skipFor(user string, req *logicgen.SendRequest) string {
	if user == req.UserId {
		return req.DeviceId
	}
	return ""
}

func (s *Service) userExists(ctx context.Context, id string) *common.IMError {
	if s.users.has(id) {
		return nil
	}
	_, err := s.store.GetUser(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return imError(common.ErrorCode_NOT_FOUND, "no user %q", id)
	}
	if err != nil {
		return s.internal(ctx, "look up user", err, "user", id)
	}
	s.users.add(id)
	return nil
}

// Sync pages a user's inbox after a sequence: up to limit messages, and no more than one
// SYNC_RESP frame holds.
func (s *Service) Sync(ctx context.Context, req *logicgen.SyncRequest) (_ *logicgen.SyncResponse, err error) {
	ctx, done := s.observe(ctx, "Sync", req.UserId)
	defer func() { done(err) }()
	if !validID(req.UserId) || req.AfterSeq < 0 || req.Limit < 0 || req.Limit > MaxSyncLimit {
		return nil, imError(common.ErrorCode_BAD_REQUEST, "sync: after_seq >= 0, limit 0..%d", MaxSyncLimit)
	}
	limit := int(req.Limit)
	if limit == 0 {
		limit = DefaultSyncLimit
	}
	msgs, more, err := s.store.Sync(ctx, req.UserId, req.AfterSeq, limit)
	if err != nil {
		return nil, s.internal(ctx, "sync", err, "user", req.UserId)
	}
	maxSeq, err := s.store.MaxSeq(ctx, req.UserId)
	if err != nil {
		return nil, s.internal(ctx, "sync", err, "user", req.UserId)
	}
	resp := &logicgen.SyncResponse{Messages: make([]*common.Message, len(msgs)), HasMore: more, MaxSeq: maxSeq}
	for i, m := range msgs {
		resp.Messages[i] = toWire(m.Message, m.Seq)
	}
	// A page is bounded by bytes as well as by count: the SYNC_RESP holding it fits one
	// frame. It always holds the first message, so paging progresses; every message the
	// server accepts fits a frame alone (MaxBodyBytes).
	if n := protocol.FitSync(resp.Messages, 0); n < len(resp.Messages) {
		resp.Messages, resp.HasMore = resp.Messages[:n], true
	}
	if len(resp.Messages) > 0 && !protocol.MessageFits(resp.Messages[0], 0) {
		s.log.ErrorContext(ctx, "sync: a stored message is too large for a frame", "user", req.UserId, "seq", resp.Messages[0].Seq)
	}
	return resp, nil
}

// Ack records that a device holds everything up to seq; a seq past the user's newest inbox
// seq is refused (BAD_REQUEST) and changes nothing.
func (s *Service) Ack(ctx context.Context, req *logicgen.AckRequest) (_ *logicgen.AckResponse, err error) {
	ctx, done := s.observe(ctx, "Ack", req.UserId)
	defer func() { done(err) }()
	if !validID(req.UserId) || !validID(req.DeviceId) || req.Seq < 0 {
		return nil, imError(common.ErrorCode_BAD_REQUEST, "ack: user, device and seq >= 0 required")
	}
	acked, err := s.store.AckDelivered(ctx, req.UserId, req.DeviceId, req.Seq)
	if pastEnd(err) {
		return nil, imError(common.ErrorCode_BAD_REQUEST, "ack: seq %d is past the newest inbox seq", req.Seq)
	}
	if err != nil {
		return nil, s.internal(ctx, "ack", err, userAttrs(req.UserId, req.DeviceId)...)
	}
	return &logicgen.AckResponse{AckedSeq: acked}, nil
}

// Read records a read mark and tells the other participant's devices (a read receipt); a
// conv_seq past the conversation's newest is refused (BAD_REQUEST) and changes nothing.
func (s *Service) Read(ctx context.Context, req *logicgen.ReadRequest) (_ *logicgen.ReadResponse, err error) {
	ctx, done := s.observe(ctx, "Read", req.UserId)
	defer func() { done(err) }()
	if !validID(req.UserId) || req.ConvSeq < 0 {
		return nil, imError(common.ErrorCode_BAD_REQUEST, "read: user and conv_seq >= 0 required")
	}
	peer, err := s.readPeer(req.UserId, req.ConvId)
	if err != nil {
		return nil, err
	}
	readSeq, err := s.store.MarkRead(ctx, req.UserId, req.ConvId, req.ConvSeq)
	if pastEnd(err) {
		return nil, imError(common.ErrorCode_BAD_REQUEST, "read: conv_seq %d is past the conversation's newest", req.ConvSeq)
	}
	if err != nil {
		return nil, s.internal(ctx, "read", err, "user", req.UserId, "conv", req.ConvId)
	}
	if peer != "" {
		if err := s.push.enqueue(ctx, pushJob{user: peer, receipt: &receipt{conv: req.ConvId, reader: req.UserId, seq: readSeq}}); err != nil {
			s.log.WarnContext(ctx, "read receipt not queued", "user", peer, "err", err)
		}
	}
	return &logicgen.ReadResponse{ReadSeq: readSeq}, nil
}

// pastEnd tells the store's refusal of a mark past what exists (Acks and read marks never
// pass what exists): the client's mistake, told as BAD_REQUEST with the number it sent.
func pastEnd(err error) bool {
	var ie *store.InvalidError
	return errors.As(err, &ie) && ie.Field == "seq"
}

// readPeer checks that user takes part in conv and returns whom to send a receipt to ("" for
// the user's own system conversation).
func (s *Service) readPeer(user, conv string) (string, error) {
	if conv == "s:"+user {
		return "", nil
	}
	a, b, err := convPeers(conv)
	switch {
	case err != nil:
		return "", imError(common.ErrorCode_BAD_REQUEST, "read: unknown conversation")
	case a == user:
		return b, nil
	case b == user:
		return a, nil
	}
	return "", imError(common.ErrorCode_FORBIDDEN, "read: not a participant")
}

func toWire(m store.Message, seq int64) *common.Message {
	return &common.Message{MsgId: m.ID, ConvId: m.ConvID, ConvSeq: m.ConvSeq, Seq: seq, FromUser: m.From,
		ToUser: m.To, Kind: m.Kind, ContentType: m.ContentType, Body: m.Body, ClientMsgId: m.ClientMsgID,
		SentAtMs: m.SentAt.UnixMilli()}
}
