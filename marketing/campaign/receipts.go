package campaign

import (
	"context"
	"time"

	logicgen "github.com/bangbang-im/bangbang/gen/logic"
)

// receiptsBatch is how many recipients one Receipts call asks about (logic takes 1000).
const receiptsBatch = 1000

// receiptCursor is how far a campaign's receipts were collected, in recipient positions.
// fresh: every sent recipient up to it was asked about at least once. rotate: where the
// budgeted re-check of older recipients stands; it wraps to the start.
type receiptCursor struct {
	fresh, rotate int64
	// The progress samples this loop took, so the chart follows deliveries and reads after
	// the sending is over: the first and the last.
	firstSample, lastSample time.Time
	unsampled               bool // receipts recorded since the last sample
}

// receiptSamples bounds the samples a campaign's receipts add: once receipts were
// recorded, a round samples when the last sample is older than ProgressEvery and than a
// fiftieth of the time since the first (a later round, when that is not yet so). So they thin out as the campaign ages: about 50
// per tenfold of its age, some 500 over a week's window, not one per round.
const receiptSamples = 50

// sampleDue reports whether a round that recorded receipts at now should sample.
func (c *receiptCursor) sampleDue(now time.Time, every time.Duration) bool {
	if c.lastSample.IsZero() {
		return true
	}
	gap := max(every, now.Sub(c.firstSample)/receiptSamples)
	return now.Sub(c.lastSample) >= gap
}

// receiptsLoop collects deliveries and reads. Each round, for each campaign in its
// window, it asks about every recipient sent since the last round (most deliveries, the
// online merchants' acks, are there within a round) and then re-checks up to
// ReceiptsBudget older unread recipients, walking them in a circle: offline merchants who
// sync later, reads. So a round costs what was sent since the last one plus a constant,
// never the whole audience; the price is that a late delivery or read in a large
// campaign shows after up to (unread ÷ budget) rounds. The cursors live in memory: a
// process that starts asks about every unread recipient once.
func (w *Worker) receiptsLoop(ctx context.Context) {
	t := time.NewTicker(w.cfg.ReceiptsEvery)
	defer t.Stop()
	cursors := map[string]*receiptCursor{}
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
		live := make(map[string]bool, len(ids))
		for _, id := range ids {
			live[id] = true
			cur := cursors[id]
			if cur == nil {
				cur = &receiptCursor{}
				cursors[id] = cur
			}
			if err := w.collectReceipts(ctx, id, cur); err != nil && ctx.Err() == nil {
				w.log.WarnContext(ctx, "campaign receipts not collected", "campaign", id, "err", err)
			}
		}
		for id, cur := range cursors {
			if live[id] {
				continue
			}
			// Out of the window, or every message read: its last receipts are drawn now.
			if cur.unsampled {
				if err := w.st.sampleProgress(ctx, id); err != nil && ctx.Err() == nil {
					w.log.WarnContext(ctx, "campaign progress not sampled", "campaign", id, "err", err)
				}
			}
			delete(cursors, id)
		}
	}
}

// collectReceipts runs one round for campaign id: the fresh recipients, then the budget
// of older ones.
func (w *Worker) collectReceipts(ctx context.Context, id string, cur *receiptCursor) error {
	changed := 0
	defer func() {
		cur.unsampled = cur.unsampled || changed > 0
		if now := time.Now(); cur.unsampled && cur.sampleDue(now, w.cfg.ProgressEvery) {
			if err := w.st.sampleProgress(ctx, id); err != nil {
				if ctx.Err() == nil {
					w.log.WarnContext(ctx, "campaign progress not sampled", "campaign", id, "err", err)
				}
				return
			}
			if cur.firstSample.IsZero() {
				cur.firstSample = now
			}
			cur.lastSample, cur.unsampled = now, false
		}
	}()
	for ctx.Err() == nil {
		last, n, c, err := w.receiptsAfter(ctx, id, cur.fresh, 0)
		changed += c
		if err != nil {
			return err
		}
		if n > 0 {
			cur.fresh = last
		}
		if n < receiptsBatch {
			break
		}
	}
	for budget := w.cfg.ReceiptsBudget; budget > 0 && ctx.Err() == nil; {
		last, n, c, err := w.receiptsAfter(ctx, id, cur.rotate, cur.fresh)
		changed += c
		if err != nil {
			return err
		}
		budget -= max(n, 1)
		if n < receiptsBatch {
			cur.rotate = 0 // the circle closed: start over next round
			return nil
		}
		cur.rotate = last
	}
	return ctx.Err()
}

// receiptsAfter asks logic which of up to receiptsBatch unread recipients of campaign id
// after position after (and up to upTo, unless 0) a device acknowledged (delivered: an
// acked inbox seq at or past the message's) or the merchant read (a read mark at or past
// its seq in the system conversation), and records the new ones. It returns the last
// position asked about, how many were, and how many receipts it recorded.
func (w *Worker) receiptsAfter(ctx context.Context, id string, after, upTo int64) (last int64, n, changed int, err error) {
	rows, err := w.st.unreadAfter(ctx, id, after, upTo, receiptsBatch)
	if err != nil || len(rows) == 0 {
		return after, 0, 0, err
	}
	req := &logicgen.ReceiptsRequest{Items: make([]*logicgen.ReceiptQuery, len(rows))}
	for i, u := range rows {
		req.Items[i] = &logicgen.ReceiptQuery{UserId: u.merchant, ConvId: "s:" + u.merchant}
	}
	resp, err := w.logic.Receipts(ctx, req)
	if err != nil {
		return after, 0, 0, err
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
		return after, 0, 0, err
	}
	return rows[len(rows)-1].pos, len(rows), len(delivered) + len(read), nil
}
