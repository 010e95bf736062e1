package campaign

import (
	"context"
	"time"

	logicgen "github.com/bangbang-im/bangbang/gen/logic"
)

// receiptsBatch is how many recipients one Receipts call asks about (logic takes 1000).
const receiptsBatch = 1000

func (w *Worker) receiptsLoop(ctx context.Context) {
	t := time.NewTicker(w.cfg.ReceiptsEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		ids, err := w.st.receiptCampaigns(ctx, w.cfg.ReceiptsWindow)
		if err != nil {
			if ctx.Err() == nil {
				w.log.WarnContext(ctx, "campaign receipts not collected", "err", err)
			}
			continue
		}
		for _, id := range ids {
			if err := w.collectReceipts(ctx, id); err != nil && ctx.Err() == nil {
				w.log.WarnContext(ctx, "campaign receipts not collected", "campaign", id, "err", err)
			}
		}
	}
}

// collectReceipts asks logic which of campaign id's sent messages a device acknowledged
// (delivered: an acked inbox seq at or past the message's) or the merchant read (a read
// mark at or past its seq in the system conversation), and records the new ones.
func (w *Worker) collectReceipts(ctx context.Context, id string) error {
	var after int64
	for ctx.Err() == nil {
		rows, err := w.st.unreadAfter(ctx, id, after, receiptsBatch)
		if err != nil || len(rows) == 0 {
			return err
		}
		req := &logicgen.ReceiptsRequest{Items: make([]*logicgen.ReceiptQuery, len(rows))}
		for i, u := range rows {
			req.Items[i] = &logicgen.ReceiptQuery{UserId: u.merchant, ConvId: "s:" + u.merchant}
		}
		resp, err := w.logic.Receipts(ctx, req)
		if err != nil {
			return err
		}
		var delivered, read []int64
		for i, rc := range resp.Results {
			if i >= len(rows) {
				break
			}
			u := rows[i]
			switch {
			case rc.ReadSeq >= u.convSeq && u.convSeq > 0:
				read = append(read, u.pos)
			case !u.delivered && rc.DeliveredSeq >= u.seq && u.seq > 0:
				delivered = append(delivered, u.pos)
			}
		}
		if err := w.st.markReceipts(ctx, id, delivered, read); err != nil {
			return err
		}
		after = rows[len(rows)-1].pos
		if len(rows) < receiptsBatch {
			return nil
		}
	}
	return ctx.Err()
}
