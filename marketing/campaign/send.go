package campaign

import (
	"context"
	"errors"
	"fmt"

	"github.com/bangbang-im/bangbang/gen/common"
	logicgen "github.com/bangbang-im/bangbang/gen/logic"
)

// Pusher pushes messages to users: logic's PushToUsers.
type Pusher interface {
	PushToUsers(ctx context.Context, req *logicgen.PushRequest) (*logicgen.PushResponse, error)
}

// TestResult is what became of one merchant of a test-send.
type TestResult struct {
	MerchantID    string `json:"merchant_id"`
	MsgID         string `json:"msg_id,omitempty"`
	OnlineDevices int    `json:"online_devices"`
	Error         string `json:"error,omitempty"`
}

// Preview renders campaign id's message for merchant merchantID.
func Preview(ctx context.Context, st *Store, id, merchantID string) (Rendered, error) {
	c, err := st.GetCampaign(ctx, id)
	if err != nil {
		return Rendered{}, err
	}
	m, err := st.GetMerchant(ctx, merchantID)
	if errors.Is(err, ErrNotFound) {
		return Rendered{}, fieldErr("merchant_id", "no merchant %s", merchantID)
	}
	if err != nil {
		return Rendered{}, err
	}
	return Render(c.ID, c.Spec, m, false)
}

// TestSend delivers campaign id's message, marked as a test, to a few merchants, in any
// state of the campaign. It is not de-duplicated (each test-send is a new message) and
// touches neither the campaign's recipients nor its stats, so a merchant who got a test
// still gets the campaign itself. It is audited.
func TestSend(ctx context.Context, st *Store, lg Pusher, a Actor, id string, merchantIDs []string) ([]TestResult, error) {
	if len(merchantIDs) == 0 || len(merchantIDs) > MaxTestIDs {
		return nil, fieldErr("merchant_ids", "1..%d merchant ids", MaxTestIDs)
	}
	c, err := st.GetCampaign(ctx, id)
	if err != nil {
		return nil, err
	}
	rd, err := newRenderer(id, c.Spec, true)
	if err != nil {
		return nil, err
	}
	req := &logicgen.PushRequest{From: DedupKey(id) + ":test", Kind: int32(common.MessageKind_MARKETING), ContentType: ContentType}
	for i, mid := range merchantIDs {
		m, err := st.GetMerchant(ctx, mid)
		if errors.Is(err, ErrNotFound) {
			return nil, fieldErr(fmt.Sprintf("merchant_ids[%d]", i), "no merchant %s", mid)
		}
		if err != nil {
			return nil, err
		}
		r, err := rd.render(m)
		if err != nil {
			return nil, err
		}
		body, err := r.body()
		if err != nil {
			return nil, err
		}
		req.Users = append(req.Users, mid)
		req.Bodies = append(req.Bodies, body)
	}
	resp, err := lg.PushToUsers(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("test-send: %w", err)
	}
	results := make([]TestResult, len(req.Users))
	for i, mid := range req.Users {
		results[i] = TestResult{MerchantID: mid}
		if i >= len(resp.Results) {
			results[i].Error = "no result"
			continue
		}
		res := resp.Results[i]
		results[i].MsgID, results[i].OnlineDevices = res.MsgId, int(res.OnlineDevices)
		if res.ErrorCode != 0 {
			results[i].Error = common.ErrorCode(res.ErrorCode).String()
		}
	}
	err = st.RecordAudit(ctx, a, "campaign.test", "campaign:"+id, nil, map[string]any{"merchant_ids": merchantIDs})
	return results, err
}
