package admin

import (
	"context"
	"encoding/json"
	"math"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/cloudwego/hertz/pkg/app"

	"github.com/bangbang-im/bangbang/marketing/campaign"
)

// specInput is a campaign.Spec as a request carries it (a test keeps the two alike). Its
// rate is read apart: the store takes 0 for "the default", but a request that says
// "rate": 0 asks for nothing to be sent and is refused; leaving rate out takes the
// default.
type specInput struct {
	Name     string            `json:"name"`
	Audience campaign.Audience `json:"audience"`
	Message  campaign.Message  `json:"message"`
	SendAt   *time.Time        `json:"send_at"`
	Rate     *json.Number      `json:"rate"`
}

// decodeSpec reads a campaign spec from the body, answering the request when it cannot.
func decodeSpec(c *app.RequestContext) (campaign.Spec, bool) {
	var in specInput
	if !decodeJSON(c, &in) {
		return campaign.Spec{}, false
	}
	sp := campaign.Spec{Name: in.Name, Audience: in.Audience, Message: in.Message, SendAt: in.SendAt}
	if in.Rate != nil {
		f, err := in.Rate.Float64()
		if err != nil || f != math.Trunc(f) || f < 1 || f > math.MaxInt32 {
			invalid(c, "rate", "rate: messages per second, a whole number from 1 to "+strconv.Itoa(campaign.MaxRate)+
				"; leave it out for "+strconv.Itoa(campaign.DefaultRate))
			return campaign.Spec{}, false
		}
		sp.Rate = int(f) // the store checks the upper bound
	}
	return sp, true
}

// listCampaigns serves GET /admin/v1/campaigns: newest first, of one state if asked.
func (s *Server) listCampaigns(ctx context.Context, c *app.RequestContext) {
	state := campaign.State(c.Query("state"))
	if state != "" && !slices.Contains(campaign.States, state) {
		badRequest(c, "state: one of draft, scheduled, running, paused, finished, cancelled")
		return
	}
	limit, ok := pageLimit(c)
	if !ok {
		return
	}
	list, err := s.deps.Campaigns.ListCampaigns(ctx, state, c.Query("after"), limit)
	if err != nil {
		s.fail(ctx, c, "campaigns", err)
		return
	}
	out := map[string]any{"campaigns": list}
	if len(list) > 0 && len(list) == effectiveLimit(limit) {
		out["next"] = list[len(list)-1].ID
	}
	c.JSON(http.StatusOK, out)
}

// createCampaign serves POST /admin/v1/campaigns: a new draft.
func (s *Server) createCampaign(ctx context.Context, c *app.RequestContext) {
	sp, ok := decodeSpec(c)
	if !ok {
		return
	}
	cp, err := s.deps.Campaigns.CreateCampaign(ctx, actor(ctx, c), sp)
	if err != nil {
		s.fail(ctx, c, "campaign", err)
		return
	}
	c.JSON(http.StatusCreated, cp)
}

// getCampaign serves GET /admin/v1/campaigns/{id}, with its state and stats.
func (s *Server) getCampaign(ctx context.Context, c *app.RequestContext) {
	id := c.Param("id")
	cp, err := s.deps.Campaigns.GetCampaign(ctx, id)
	if err != nil {
		s.fail(ctx, c, "campaign "+id, err)
		return
	}
	c.JSON(http.StatusOK, cp)
}

// updateCampaign serves PUT /admin/v1/campaigns/{id}: a draft's new spec.
func (s *Server) updateCampaign(ctx context.Context, c *app.RequestContext) {
	id := c.Param("id")
	sp, ok := decodeSpec(c)
	if !ok {
		return
	}
	cp, err := s.deps.Campaigns.UpdateCampaign(ctx, actor(ctx, c), id, sp)
	if err != nil {
		s.fail(ctx, c, "campaign "+id, err)
		return
	}
	c.JSON(http.StatusOK, cp)
}

// deleteCampaign serves DELETE /admin/v1/campaigns/{id}: drafts only.
func (s *Server) deleteCampaign(ctx context.Context, c *app.RequestContext) {
	id := c.Param("id")
	if err := s.deps.Campaigns.DeleteCampaign(ctx, actor(ctx, c), id); err != nil {
		s.fail(ctx, c, "campaign "+id, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// transition serves the state changes that take no input: start, resume, cancel. Their
// body is empty or {}.
func (s *Server) transition(do func(*campaign.Store, context.Context, campaign.Actor, string) (campaign.Campaign, error)) app.HandlerFunc {
	return func(ctx context.Context, c *app.RequestContext) {
		id := c.Param("id")
		if !decodeOptionalJSON(c, &struct{}{}) {
			return
		}
		cp, err := do(s.deps.Campaigns, ctx, actor(ctx, c), id)
		if err != nil {
			s.fail(ctx, c, "campaign "+id, err)
			return
		}
		c.JSON(http.StatusOK, cp)
	}
}

// pauseCampaign serves POST /admin/v1/campaigns/{id}/pause, with an optional reason.
func (s *Server) pauseCampaign(ctx context.Context, c *app.RequestContext) {
	id := c.Param("id")
	var in struct {
		Reason string `json:"reason"`
	}
	if !decodeOptionalJSON(c, &in) {
		return
	}
	cp, err := s.deps.Campaigns.Pause(ctx, actor(ctx, c), id, in.Reason)
	if err != nil {
		s.fail(ctx, c, "campaign "+id, err)
		return
	}
	c.JSON(http.StatusOK, cp)
}

// previewCampaign serves POST /admin/v1/campaigns/{id}/preview: the message as one
// merchant would get it. Nothing is sent.
func (s *Server) previewCampaign(ctx context.Context, c *app.RequestContext) {
	id := c.Param("id")
	var in struct {
		MerchantID string `json:"merchant_id"`
	}
	if !decodeJSON(c, &in) {
		return
	}
	r, err := campaign.Preview(ctx, s.deps.Campaigns, id, in.MerchantID)
	if err != nil {
		s.fail(ctx, c, "campaign "+id, err)
		return
	}
	c.JSON(http.StatusOK, r)
}

// testCampaign serves POST /admin/v1/campaigns/{id}/test: the message, marked as a test,
// to a few merchants now, in any state; the campaign's stats are not touched.
func (s *Server) testCampaign(ctx context.Context, c *app.RequestContext) {
	id := c.Param("id")
	var in struct {
		MerchantIDs []string `json:"merchant_ids"`
	}
	if !decodeJSON(c, &in) {
		return
	}
	results, err := campaign.TestSend(ctx, s.deps.Campaigns, s.deps.Logic, actor(ctx, c), id, in.MerchantIDs)
	if err != nil {
		s.fail(ctx, c, "campaign "+id, err)
		return
	}
	c.JSON(http.StatusOK, map[string]any{"results": results})
}

// campaignProgress serves GET /admin/v1/campaigns/{id}/progress: the samples of its
// counters since a time (all of them when since is absent).
func (s *Server) campaignProgress(ctx context.Context, c *app.RequestContext) {
	id := c.Param("id")
	var since time.Time
	if v := c.Query("since"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			badRequest(c, "since: an RFC 3339 time (2025-03-01T12:00:00Z)")
			return
		}
		since = t
	}
	if _, err := s.deps.Campaigns.GetCampaign(ctx, id); err != nil {
		s.fail(ctx, c, "campaign "+id, err)
		return
	}
	points, err := s.deps.Campaigns.Progress(ctx, id, since)
	if err != nil {
		s.fail(ctx, c, "campaign "+id, err)
		return
	}
	c.JSON(http.StatusOK, map[string]any{"points": points})
}

// recipientStatusOrder is every recipient status, in a recipient's life order; the console
// offers them as tabs.
var recipientStatusOrder = []campaign.RecipientStatus{campaign.RecipientPending, campaign.RecipientSent,
	campaign.RecipientFailed, campaign.RecipientSkipped}

// recipientStatuses are the statuses GET .../recipients filters by, by name.
var recipientStatuses = func() map[string]campaign.RecipientStatus {
	m := map[string]campaign.RecipientStatus{}
	for _, st := range recipientStatusOrder {
		m[st.String()] = st
	}
	return m
}()

// campaignRecipients serves GET /admin/v1/campaigns/{id}/recipients: its fixed audience
// in send order, a page at a time.
func (s *Server) campaignRecipients(ctx context.Context, c *app.RequestContext) {
	id := c.Param("id")
	var status *campaign.RecipientStatus
	if v := c.Query("status"); v != "" {
		st, ok := recipientStatuses[v]
		if !ok {
			badRequest(c, "status: one of pending, sent, failed, skipped")
			return
		}
		status = &st
	}
	var after int64
	if v := c.Query("after"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			badRequest(c, "after: a recipient position, as the previous page's next gave it")
			return
		}
		after = n
	}
	limit, ok := pageLimit(c)
	if !ok {
		return
	}
	if _, err := s.deps.Campaigns.GetCampaign(ctx, id); err != nil {
		s.fail(ctx, c, "campaign "+id, err)
		return
	}
	list, err := s.deps.Campaigns.Recipients(ctx, id, status, after, limit)
	if err != nil {
		s.fail(ctx, c, "campaign "+id, err)
		return
	}
	out := map[string]any{"recipients": list}
	if len(list) > 0 && len(list) == effectiveLimit(limit) {
		out["next"] = strconv.FormatInt(list[len(list)-1].Pos, 10)
	}
	c.JSON(http.StatusOK, out)
}
