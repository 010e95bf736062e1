package edge

import (
	"context"
	"time"

	"github.com/cloudwego/hertz/pkg/app"

	genhousing "github.com/bangbang-im/bangbang/gen/soap/housing"
	"github.com/bangbang-im/bangbang/soap-clients/partner"
)

type refreshView struct {
	ListingID            string    `json:"listing_id,omitempty"`
	JobPostID            string    `json:"job_post_id,omitempty"`
	RefreshedAt          time.Time `json:"refreshed_at"`
	NextRefreshAllowedAt time.Time `json:"next_refresh_allowed_at"`
	DailyQuota           int32     `json:"daily_quota"`
	RemainingQuota       int32     `json:"remaining_quota"`
}

type promoteRequest struct {
	Days int `json:"days"`
}

const promoteShape = `{"days": integer 1..30}`

type promotionView struct {
	PromotionID      string    `json:"promotion_id"`
	ListingID        string    `json:"listing_id,omitempty"`
	JobPostID        string    `json:"job_post_id,omitempty"`
	Days             int32     `json:"days"`
	CreditsCharged   int64     `json:"credits_charged"`
	CreditsRemaining int64     `json:"credits_remaining"`
	PromotedUntil    time.Time `json:"promoted_until"`
}

type dailyStatsView struct {
	Date      string `json:"date"`
	Views     int32  `json:"views"`
	Favorites int32  `json:"favorites"`
	Inquiries int32  `json:"inquiries"`
}

type statsView struct {
	ListingID string           `json:"listing_id"`
	From      string           `json:"from"`
	To        string           `json:"to"`
	Days      []dailyStatsView `json:"days"`
}

type leadView struct {
	LeadID        string    `json:"lead_id"`
	ListingID     string    `json:"listing_id"`
	CustomerName  string    `json:"customer_name"`
	CustomerPhone string    `json:"customer_phone"`
	Message       string    `json:"message"`
	CreatedAt     time.Time `json:"created_at"`
}

type leadsView struct {
	Leads []leadView `json:"leads"`
	// NextPageToken is "" on the last page.
	NextPageToken string `json:"next_page_token"`
}

// promoteInput reads what every promotion route takes: the merchant, the path id of a
// listing or job post and {"days"}; on bad input it has answered and returns ok false.
func promoteInput(c *app.RequestContext, kind string) (m, id string, req promoteRequest, ok bool) {
	m = merchantOf(c)
	id, bad := pathID(c, kind)
	if bad == nil {
		bad = decodeBody(c, &req, promoteShape)
	}
	if bad == nil {
		bad = checkDays(req.Days)
	}
	if bad != nil {
		bad.reply(c).write(c)
		return "", "", req, false
	}
	return m, id, req, true
}

// refreshListing: POST /v1/listings/:id/refresh.
func (s *Server) refreshListing(ctx context.Context, c *app.RequestContext) {
	m := merchantOf(c)
	id, bad := pathID(c, "listing")
	if bad != nil {
		bad.reply(c).write(c)
		return
	}
	res, err := partner.Do(ctx, s.housing.Client, "RefreshListing", false,
		func(ctx context.Context) (*genhousing.RefreshListingResponse, error) {
			return s.housing.Port.RefreshListingContext(ctx, &genhousing.RefreshListing{MerchantId: m, ListingId: id})
		})
	if err != nil {
		s.upstreamError(ctx, c, lineHousing, "RefreshListing", err).write(c)
		return
	}
	okReply(refreshView{ListingID: res.ListingId, RefreshedAt: utc(res.RefreshedAt), NextRefreshAllowedAt: utc(res.NextRefreshAllowedAt),
		DailyQuota: res.DailyQuota, RemainingQuota: res.RemainingQuota}).write(c)
}

// promoteListing: POST /v1/listings/:id/promotions, paid, with an Idempotency-Key.
func (s *Server) promoteListing(ctx context.Context, c *app.RequestContext) {
	m, id, req, ok := promoteInput(c, "listing")
	if !ok {
		return
	}
	s.paid(ctx, c, "PromoteListing", func(ctx context.Context, requestID string) reply {
		res, err := partner.Do(ctx, s.housing.Client, "PromoteListing", false,
			func(ctx context.Context) (*genhousing.PromoteListingResponse, error) {
				return s.housing.Port.PromoteListingContext(ctx, &genhousing.PromoteListing{
					MerchantId: m, ListingId: id, Days: int32(req.Days), RequestId: requestID})
			})
		if err != nil {
			return s.upstreamError(ctx, c, lineHousing, "PromoteListing", err)
		}
		return okReply(promotionView{PromotionID: res.PromotionId, ListingID: res.ListingId, Days: res.Days,
			CreditsCharged: res.CreditsCharged, CreditsRemaining: res.CreditsRemaining, PromotedUntil: utc(res.PromotedUntil)})
	})
}

// listingStats: GET /v1/listings/:id/stats?from=&to=.
func (s *Server) listingStats(ctx context.Context, c *app.RequestContext) {
	m := merchantOf(c)
	id, bad := pathID(c, "listing")
	var from, to time.Time
	if bad == nil {
		from, to, bad = dateRange(c)
	}
	if bad != nil {
		bad.reply(c).write(c)
		return
	}
	res, err := partner.Do(ctx, s.housing.Client, "GetListingStats", true,
		func(ctx context.Context) (*genhousing.GetListingStatsResponse, error) {
			return s.housing.Port.GetListingStatsContext(ctx, &genhousing.GetListingStats{
				MerchantId: m, ListingId: id, FromDate: xsdDay(from), ToDate: xsdDay(to)})
		})
	if err != nil {
		s.upstreamError(ctx, c, lineHousing, "GetListingStats", err).write(c)
		return
	}
	v := statsView{ListingID: id, From: from.Format(time.DateOnly), To: to.Format(time.DateOnly),
		Days: make([]dailyStatsView, 0, len(res.Day))}
	for _, d := range res.Day {
		if d == nil {
			continue
		}
		v.Days = append(v.Days, dailyStatsView{Date: day(d.Date), Views: d.Views, Favorites: d.Favorites, Inquiries: d.Inquiries})
	}
	okReply(v).write(c)
}

// listLeads: GET /v1/leads?listing_id=&page_token=&page_size=.
func (s *Server) listLeads(ctx context.Context, c *app.RequestContext) {
	m := merchantOf(c)
	listing, hasListing := c.GetQuery("listing_id")
	var bad *inputError
	if hasListing && !validID(listing) {
		bad = badRequest("listing_id must be 1..%d letters, digits, '_' or '-'", maxIDLen)
	}
	var token string
	var size int32
	if bad == nil {
		token, size, bad = page(c)
	}
	if bad != nil {
		bad.reply(c).write(c)
		return
	}
	res, err := partner.Do(ctx, s.housing.Client, "ListLeads", true,
		func(ctx context.Context) (*genhousing.ListLeadsResponse, error) {
			return s.housing.Port.ListLeadsContext(ctx, &genhousing.ListLeads{
				MerchantId: m, ListingId: listing, PageToken: token, PageSize: size})
		})
	if err != nil {
		s.upstreamError(ctx, c, lineHousing, "ListLeads", err).write(c)
		return
	}
	v := leadsView{Leads: make([]leadView, 0, len(res.Lead)), NextPageToken: res.NextPageToken}
	for _, l := range res.Lead {
		if l == nil {
			continue
		}
		v.Leads = append(v.Leads, leadView{LeadID: l.LeadId, ListingID: l.ListingId, CustomerName: l.CustomerName,
			CustomerPhone: l.CustomerPhone, Message: l.Message, CreatedAt: utc(l.CreatedAt)})
	}
	okReply(v).write(c)
}
