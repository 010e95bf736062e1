package edge

import (
	"context"
	"time"

	"github.com/cloudwego/hertz/pkg/app"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
)

// ClickHeader names the campaign whose button made this call. The app copies it from the
// campaign message (docs/protocol.md); the edge counts the click once the action succeeded.
const ClickHeader = "X-Bangbang-Campaign"

// Clicks records that a merchant performed a campaign's button action. counted is false
// when the merchant was not sent that campaign or clicked before.
type Clicks interface {
	RecordClick(ctx context.Context, campaignID, merchantID string) (counted bool, err error)
}

// clickTimeout bounds the click write: a slow campaign store must not hold up an action
// the merchant already got the answer for.
const clickTimeout = 500 * time.Millisecond

// attribute counts a successful marketing action that names a campaign as that
// campaign's click. It runs after the handler: a refused or failed action is no click.
// A failure to record is logged, never shown to the merchant.
func (s *Server) attribute(ctx context.Context, c *app.RequestContext) {
	c.Next(ctx)
	campaign := string(c.GetHeader(ClickHeader))
	if s.clicks == nil || campaign == "" || len(campaign) > 64 || c.Response.StatusCode() >= 300 {
		return
	}
	merchant := merchantOf(c)
	cctx, cancel := context.WithTimeout(ctx, clickTimeout)
	defer cancel()
	counted, err := s.clicks.RecordClick(cctx, campaign, merchant)
	if err != nil {
		s.log.WarnContext(ctx, "campaign click not recorded", "campaign", campaign, "merchant", merchant, "err", err)
		return
	}
	trace.SpanFromContext(ctx).SetAttributes(attribute.String("campaign.id", campaign), attribute.Bool("campaign.click_counted", counted))
}
