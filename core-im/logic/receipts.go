package logic

import (
	"context"

	"github.com/bangbang-im/bangbang/core-im/store"
	"github.com/bangbang-im/bangbang/gen/common"
	logicgen "github.com/bangbang-im/bangbang/gen/logic"
)

// Receipts reports, per (user, conversation), the highest inbox seq any of the user's
// devices acked and the user's read mark on the conversation. A campaign tells from them
// which of its messages were delivered (delivered_seq >= the message's inbox seq) and read
// (read_seq >= its conv_seq). One store read answers the whole call.
func (s *Service) Receipts(ctx context.Context, req *logicgen.ReceiptsRequest) (_ *logicgen.ReceiptsResponse, err error) {
	ctx, done := s.observe(ctx, "Receipts", "")
	defer func() { done(err) }()
	if len(req.Items) == 0 || len(req.Items) > MaxBatchItems {
		return nil, imError(common.ErrorCode_BAD_REQUEST, "receipts: 1..%d items", MaxBatchItems)
	}
	qs := make([]store.ReceiptQuery, len(req.Items))
	for i, it := range req.Items {
		if it == nil || !validID(it.UserId) || it.ConvId == "" || len(it.ConvId) > store.MaxIDBytes {
			return nil, imError(common.ErrorCode_BAD_REQUEST,
				"receipts: items[%d]: user_id must be 1..%d bytes, conv_id 1..%d", i, MaxIDBytes, store.MaxIDBytes)
		}
		qs[i] = store.ReceiptQuery{UserID: it.UserId, ConvID: it.ConvId}
	}
	rs, err := s.store.Receipts(ctx, qs)
	if err != nil {
		return nil, s.storeError(ctx, "receipts", err, "items", len(qs))
	}
	resp := &logicgen.ReceiptsResponse{Results: make([]*logicgen.Receipt, len(rs))}
	for i, r := range rs {
		resp.Results[i] = &logicgen.Receipt{UserId: r.UserID, ConvId: r.ConvID, DeliveredSeq: r.DeliveredSeq, ReadSeq: r.ReadSeq}
	}
	return resp, nil
}
