package edge

import (
	"context"
	"time"

	"github.com/cloudwego/hertz/pkg/app"

	genrecruitment "github.com/bangbang-im/bangbang/gen/soap/recruitment"
	"github.com/bangbang-im/bangbang/soap-clients/partner"
)

type applicantView struct {
	ApplicantID     string    `json:"applicant_id"`
	JobPostID       string    `json:"job_post_id"`
	Name            string    `json:"name"`
	ExperienceYears int32     `json:"experience_years"`
	AppliedAt       time.Time `json:"applied_at"`
	// Status is New, Viewed, Interviewing, Rejected or Hired; "" when the
	// third party did not say.
	Status string `json:"status"`
}

type applicantsView struct {
	Applicants []applicantView `json:"applicants"`
	// NextPageToken is "" on the last page.
	NextPageToken string `json:"next_page_token"`
}

// refreshJobPost: POST /v1/jobs/:id/refresh.
func (s *Server) refreshJobPost(ctx context.Context, c *app.RequestContext) {
	m := merchantOf(c)
	id, bad := pathID(c, "job post")
	if bad != nil {
		bad.reply(c).write(c)
		return
	}
	res, err := partner.Do(ctx, s.recruitment.Client, "RefreshJobPost", false,
		func(ctx context.Context) (*genrecruitment.RefreshJobPostResponse, error) {
			return s.recruitment.Port.RefreshJobPostContext(ctx, &genrecruitment.RefreshJobPost{MerchantId: m, JobPostId: id})
		})
	if err != nil {
		s.upstreamError(ctx, c, lineRecruitment, "RefreshJobPost", err).write(c)
		return
	}
	okReply(refreshView{JobPostID: res.JobPostId, RefreshedAt: utc(res.RefreshedAt), NextRefreshAllowedAt: utc(res.NextRefreshAllowedAt),
		DailyQuota: res.DailyQuota, RemainingQuota: res.RemainingQuota}).write(c)
}

// promoteJobPost: POST /v1/jobs/:id/promotions, paid, with an Idempotency-Key.
func (s *Server) promoteJobPost(ctx context.Context, c *app.RequestContext) {
	m, id, req, ok := promoteInput(c, "job post")
	if !ok {
		return
	}
	s.paid(ctx, c, "PromoteJobPost", func(ctx context.Context, requestID string) reply {
		res, err := partner.Do(ctx, s.recruitment.Client, "PromoteJobPost", false,
			func(ctx context.Context) (*genrecruitment.PromoteJobPostResponse, error) {
				return s.recruitment.Port.PromoteJobPostContext(ctx, &genrecruitment.PromoteJobPost{
					MerchantId: m, JobPostId: id, Days: int32(req.Days), RequestId: requestID})
			})
		if err != nil {
			return s.upstreamError(ctx, c, lineRecruitment, "PromoteJobPost", err)
		}
		return okReply(promotionView{PromotionID: res.PromotionId, JobPostID: res.JobPostId, Days: res.Days,
			CreditsCharged: res.CreditsCharged, CreditsRemaining: res.CreditsRemaining, PromotedUntil: utc(res.PromotedUntil)})
	})
}

// listApplicants: GET /v1/jobs/:id/applicants?page_token=&page_size=.
func (s *Server) listApplicants(ctx context.Context, c *app.RequestContext) {
	m := merchantOf(c)
	id, bad := pathID(c, "job post")
	var token string
	var size int32
	if bad == nil {
		token, size, bad = page(c)
	}
	if bad != nil {
		bad.reply(c).write(c)
		return
	}
	res, err := partner.Do(ctx, s.recruitment.Client, "ListApplicants", true,
		func(ctx context.Context) (*genrecruitment.ListApplicantsResponse, error) {
			return s.recruitment.Port.ListApplicantsContext(ctx, &genrecruitment.ListApplicants{
				MerchantId: m, JobPostId: id, PageToken: token, PageSize: size})
		})
	if err != nil {
		s.upstreamError(ctx, c, lineRecruitment, "ListApplicants", err).write(c)
		return
	}
	v := applicantsView{Applicants: make([]applicantView, 0, len(res.Applicant)), NextPageToken: res.NextPageToken}
	for _, a := range res.Applicant {
		if a == nil {
			continue
		}
		var status string
		if a.Status != nil {
			status = knownStatus(*a.Status)
		}
		v.Applicants = append(v.Applicants, applicantView{ApplicantID: a.ApplicantId, JobPostID: a.JobPostId, Name: a.Name,
			ExperienceYears: a.ExperienceYears, AppliedAt: utc(a.AppliedAt), Status: status})
	}
	okReply(v).write(c)
}

// knownStatus passes on the WSDL's applicant statuses and nothing else, as
// gowsdl does not check enumerations.
func knownStatus(st genrecruitment.ApplicantStatus) string {
	switch st {
	case genrecruitment.ApplicantStatusNew, genrecruitment.ApplicantStatusViewed, genrecruitment.ApplicantStatusInterviewing,
		genrecruitment.ApplicantStatusRejected, genrecruitment.ApplicantStatusHired:
		return string(st)
	}
	return ""
}
