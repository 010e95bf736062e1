package sim

import "encoding/xml"

const nsRecruitment = "urn:bangbang:partner:recruitment:v1"

type recruitmentOps struct {
	w *world
	f faults
}

func newRecruitment(w *world) *service {
	s := newService(Recruitment, "RecruitmentService", nsRecruitment)
	r := &recruitmentOps{w: w, f: s.faults}
	s.add("RefreshJobPost", r.refreshJobPost)
	s.add("PromoteJobPost", r.promoteJobPost)
	s.add("ListApplicants", r.listApplicants)
	return s
}

type refreshJobPostResponse struct {
	XMLName              xml.Name `xml:"urn:bangbang:partner:recruitment:v1 RefreshJobPostResponse"`
	JobPostID            string   `xml:"jobPostId"`
	RefreshedAt          string   `xml:"refreshedAt"`
	NextRefreshAllowedAt string   `xml:"nextRefreshAllowedAt"`
	DailyQuota           int      `xml:"dailyQuota"`
	RemainingQuota       int      `xml:"remainingQuota"`
}

func (s *recruitmentOps) refreshJobPost(el *element) (any, error) {
	r := fields{el: el, f: s.f}
	merchant := r.str("merchantId", true, 32)
	job := r.str("jobPostId", true, 32)
	if r.err != nil {
		return nil, r.err
	}
	if err := owned(s.f, "jobPost", 'J', jobPostsPerMerchant, merchant, job); err != nil {
		return nil, err
	}
	res, err := s.w.refresh(s.f, "jobPost "+job, "jobpost.refresh.daily")
	if err != nil {
		return nil, err
	}
	return &refreshJobPostResponse{
		JobPostID:            job,
		RefreshedAt:          xsdDateTime(res.at),
		NextRefreshAllowedAt: xsdDateTime(res.next),
		DailyQuota:           refreshQuota,
		RemainingQuota:       res.remaining,
	}, nil
}

type promoteJobPostResponse struct {
	XMLName          xml.Name `xml:"urn:bangbang:partner:recruitment:v1 PromoteJobPostResponse"`
	PromotionID      string   `xml:"promotionId"`
	JobPostID        string   `xml:"jobPostId"`
	Days             int      `xml:"days"`
	CreditsCharged   int64    `xml:"creditsCharged"`
	CreditsRemaining int64    `xml:"creditsRemaining"`
	PromotedUntil    string   `xml:"promotedUntil"`
}

func (s *recruitmentOps) promoteJobPost(el *element) (any, error) {
	r := fields{el: el, f: s.f}
	merchant := r.str("merchantId", true, 32)
	job := r.str("jobPostId", true, 32)
	days := r.integer("days", true, 0, 1, 30)
	requestID := r.str("requestId", true, 64)
	if r.err != nil {
		return nil, r.err
	}
	if err := owned(s.f, "jobPost", 'J', jobPostsPerMerchant, merchant, job); err != nil {
		return nil, err
	}
	p, err := s.w.promote(s.f, merchant, "jobPost "+job, days, requestID)
	if err != nil {
		return nil, err
	}
	return &promoteJobPostResponse{
		PromotionID:      p.id,
		JobPostID:        job,
		Days:             p.days,
		CreditsCharged:   p.charged,
		CreditsRemaining: p.remain,
		PromotedUntil:    xsdDateTime(p.until),
	}, nil
}

type listApplicantsResponse struct {
	XMLName       xml.Name     `xml:"urn:bangbang:partner:recruitment:v1 ListApplicantsResponse"`
	Applicants    []applicantX `xml:"applicant"`
	NextPageToken string       `xml:"nextPageToken,omitempty"`
}

type applicantX struct {
	ApplicantID     string `xml:"applicantId"`
	JobPostID       string `xml:"jobPostId"`
	Name            string `xml:"name"`
	ExperienceYears int    `xml:"experienceYears"`
	AppliedAt       string `xml:"appliedAt"`
	Status          string `xml:"status"`
}

func (s *recruitmentOps) listApplicants(el *element) (any, error) {
	r := fields{el: el, f: s.f}
	merchant := r.str("merchantId", true, 32)
	job := r.str("jobPostId", true, 32)
	offset, size := r.page()
	if r.err != nil {
		return nil, r.err
	}
	if err := owned(s.f, "jobPost", 'J', jobPostsPerMerchant, merchant, job); err != nil {
		return nil, err
	}
	all := applicantsOf(job, startOfDay(s.w.now()))
	from, to := pageBounds(offset, size, len(all))
	resp := &listApplicantsResponse{NextPageToken: nextPageToken(offset, size, len(all))}
	for _, a := range all[from:to] {
		resp.Applicants = append(resp.Applicants, applicantX{
			ApplicantID: a.id, JobPostID: a.jobPost, Name: a.name, ExperienceYears: a.experienceYears,
			AppliedAt: xsdDateTime(a.at), Status: a.status,
		})
	}
	return resp, nil
}
