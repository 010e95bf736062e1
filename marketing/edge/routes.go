package edge

import (
	"go.opentelemetry.io/otel/propagation"

	"github.com/bangbang-im/bangbang/tracing"
	"github.com/cloudwego/hertz/pkg/app/server"

	"github.com/bangbang-im/bangbang/marketing/ratelimit"
)

// The third party a marketing route calls; needs checks its client is configured.
const (
	lineHousing     = "housing"
	lineRecruitment = "recruitment"
	lineAccount     = "account"
)

// routes registers every route. docs/api/merchant.yaml documents each one and
// a test compares the two, so a route added here fails the tests until it is
// documented.
func (s *Server) routes(h *server.Hertz) {
	if s.metrics != nil {
		h.Use(s.metrics.Hertz("edge"))
	}
	if s.tp != nil {
		prop := s.prop
		if prop == nil {
			prop = propagation.TraceContext{}
		}
		h.Use(tracing.HertzServer(s.tp, prop, tracing.MarketingTraffic))
	}
	h.Use(requestID, s.accessLog)
	h.NoRoute(s.noRoute)
	h.NoMethod(s.noMethod)

	h.GET("/healthz", s.healthz)
	h.GET("/readyz", s.readyz)
	h.POST("/v1/login", s.login)
	h.POST("/v1/logout", s.authenticateAny, s.logout)
	h.POST("/v1/password", s.authenticateAny, s.changePassword)

	v1 := h.Group("/v1", s.authenticate, s.attribute)
	v1.GET("/credits", s.needs(lineAccount, false), s.limit(ratelimit.ClassRead), s.getCredits)
	v1.GET("/credit-packages", s.needs(lineAccount, false), s.limit(ratelimit.ClassRead), s.listCreditPackages)
	v1.POST("/credits/purchases", s.needs(lineAccount, true), s.limit(ratelimit.ClassPurchase), s.buyCreditPackage)

	v1.POST("/listings/:id/refresh", s.needs(lineHousing, false), s.limit(ratelimit.ClassRefresh), s.refreshListing)
	v1.POST("/listings/:id/promotions", s.needs(lineHousing, true), s.limit(ratelimit.ClassPromote), s.promoteListing)
	v1.GET("/listings/:id/stats", s.needs(lineHousing, false), s.limit(ratelimit.ClassRead), s.listingStats)
	v1.GET("/leads", s.needs(lineHousing, false), s.limit(ratelimit.ClassRead), s.listLeads)

	v1.POST("/jobs/:id/refresh", s.needs(lineRecruitment, false), s.limit(ratelimit.ClassRefresh), s.refreshJobPost)
	v1.POST("/jobs/:id/promotions", s.needs(lineRecruitment, true), s.limit(ratelimit.ClassPromote), s.promoteJobPost)
	v1.GET("/jobs/:id/applicants", s.needs(lineRecruitment, false), s.limit(ratelimit.ClassRead), s.listApplicants)
}
