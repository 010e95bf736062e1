package sim

import (
	"encoding/xml"
	"time"
)

const nsHousing = "urn:bangbang:partner:housing:v1"

type housingOps struct {
	w *world
	f faults
}

func newHousing(w *world) *service {
	s := newService(Housing, "HousingService", nsHousing)
	h := &housingOps{w: w, f: s.faults}
	s.add("RefreshListing", h.refreshListing)
	s.add("PromoteListing", h.promoteListing)
	s.add("GetListingStats", h.getListingStats)
	s.add("ListLeads", h.listLeads)
	return s
}

type refreshListingResponse struct {
	XMLName              xml.Name `xml:"urn:bangbang:partner:housing:v1 RefreshListingResponse"`
	ListingID            string   `xml:"listingId"`
	RefreshedAt          string   `xml:"refreshedAt"`
	NextRefreshAllowedAt string   `xml:"nextRefreshAllowedAt"`
	DailyQuota           int      `xml:"dailyQuota"`
	RemainingQuota       int      `xml:"remainingQuota"`
}

func (h *housingOps) refreshListing(el *element) (any, error) {
	r := fields{el: el, f: h.f}
	merchant := r.str("merchantId", true, 32)
	listing := r.str("listingId", true, 32)
	if r.err != nil {
		return nil, r.err
	}
	if err := owned(h.f, "listing", 'L', listingsPerMerchant, merchant, listing); err != nil {
		return nil, err
	}
	res, err := h.w.refresh(h.f, "listing "+listing, "listing.refresh.daily")
	if err != nil {
		return nil, err
	}
	return &refreshListingResponse{
		ListingID:            listing,
		RefreshedAt:          xsdDateTime(res.at),
		NextRefreshAllowedAt: xsdDateTime(res.next),
		DailyQuota:           refreshQuota,
		RemainingQuota:       res.remaining,
	}, nil
}

type promoteListingResponse struct {
	XMLName          xml.Name `xml:"urn:bangbang:partner:housing:v1 PromoteListingResponse"`
	PromotionID      string   `xml:"promotionId"`
	ListingID        string   `xml:"listingId"`
	Days             int      `xml:"days"`
	CreditsCharged   int64    `xml:"creditsCharged"`
	CreditsRemaining int64    `xml:"creditsRemaining"`
	PromotedUntil    string   `xml:"promotedUntil"`
}

func (h *housingOps) promoteListing(el *element) (any, error) {
	r := fields{el: el, f: h.f}
	merchant := r.str("merchantId", true, 32)
	listing := r.str("listingId", true, 32)
	days := r.integer("days", true, 0, 1, 30)
	requestID := r.str("requestId", true, 64)
	if r.err != nil {
		return nil, r.err
	}
	if err := owned(h.f, "listing", 'L', listingsPerMerchant, merchant, listing); err != nil {
		return nil, err
	}
	p, err := h.w.promote(h.f, merchant, "listing "+listing, days, requestID)
	if err != nil {
		return nil, err
	}
	return &promoteListingResponse{
		PromotionID:      p.id,
		ListingID:        listing,
		Days:             p.days,
		CreditsCharged:   p.charged,
		CreditsRemaining: p.remain,
		PromotedUntil:    xsdDateTime(p.until),
	}, nil
}

type getListingStatsResponse struct {
	XMLName   xml.Name      `xml:"urn:bangbang:partner:housing:v1 GetListingStatsResponse"`
	ListingID string        `xml:"listingId"`
	Days      []dailyStatsX `xml:"day"`
}

type dailyStatsX struct {
	Date      string `xml:"date"`
	Views     int    `xml:"views"`
	Favorites int    `xml:"favorites"`
	Inquiries int    `xml:"inquiries"`
}

func (h *housingOps) getListingStats(el *element) (any, error) {
	r := fields{el: el, f: h.f}
	merchant := r.str("merchantId", true, 32)
	listing := r.str("listingId", true, 32)
	from := r.date("fromDate")
	to := r.date("toDate")
	if r.err == nil {
		switch {
		case to.Before(from):
			r.fail("toDate", "before fromDate")
		case to.Sub(from) >= maxStatsDays*24*time.Hour:
			r.fail("toDate", "the range is longer than 31 days")
		}
	}
	if r.err != nil {
		return nil, r.err
	}
	if err := owned(h.f, "listing", 'L', listingsPerMerchant, merchant, listing); err != nil {
		return nil, err
	}
	today := startOfDay(h.w.now())
	resp := &getListingStatsResponse{ListingID: listing}
	for d := from; !d.After(to); d = d.AddDate(0, 0, 1) {
		s := statsOf(listing, d, today)
		resp.Days = append(resp.Days, dailyStatsX{Date: xsdDate(d), Views: s.views, Favorites: s.favorites, Inquiries: s.inquiries})
	}
	return resp, nil
}

type listLeadsResponse struct {
	XMLName       xml.Name `xml:"urn:bangbang:partner:housing:v1 ListLeadsResponse"`
	Leads         []leadX  `xml:"lead"`
	NextPageToken string   `xml:"nextPageToken,omitempty"`
}

type leadX struct {
	LeadID        string `xml:"leadId"`
	ListingID     string `xml:"listingId"`
	CustomerName  string `xml:"customerName"`
	CustomerPhone string `xml:"customerPhone"`
	Message       string `xml:"message"`
	CreatedAt     string `xml:"createdAt"`
}

func (h *housingOps) listLeads(el *element) (any, error) {
	r := fields{el: el, f: h.f}
	merchant := r.str("merchantId", true, 32)
	listing := r.str("listingId", false, 32)
	offset, size := r.page()
	if r.err != nil {
		return nil, r.err
	}
	today := startOfDay(h.w.now())
	var leads []lead
	if listing != "" {
		if err := owned(h.f, "listing", 'L', listingsPerMerchant, merchant, listing); err != nil {
			return nil, err
		}
		leads = leadsOf(listing, today)
	} else {
		if !knownMerchant(merchant) {
			return nil, h.f.notFound("merchant", merchant)
		}
		for _, id := range listingIDs(merchant) {
			leads = append(leads, leadsOf(id, today)...)
		}
		sortNewestFirst(leads, func(l lead) (time.Time, string) { return l.at, l.id })
	}
	from, to := pageBounds(offset, size, len(leads))
	resp := &listLeadsResponse{NextPageToken: nextPageToken(offset, size, len(leads))}
	for _, l := range leads[from:to] {
		resp.Leads = append(resp.Leads, leadX{
			LeadID: l.id, ListingID: l.listing, CustomerName: l.name, CustomerPhone: l.phone,
			Message: l.message, CreatedAt: xsdDateTime(l.at),
		})
	}
	return resp, nil
}
