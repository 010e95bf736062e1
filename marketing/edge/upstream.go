package edge

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cloudwego/hertz/pkg/app"

	"github.com/bangbang-im/bangbang/soap-clients/partner"
)

// upstreamError maps a failed SOAP call to the answer the app gets. Business
// faults become the 4xx they mean; everything the third party or the network
// did wrong becomes a 5xx that says only which service failed: the detail,
// fault text included, goes to the log with the request id.
func (s *Server) upstreamError(ctx context.Context, c *app.RequestContext, line, op string, err error) reply {
	log := s.log.With("request_id", c.GetString(requestIDKey), "merchant", merchantOf(c), "line", line, "op", op, "err", err)
	name := line
	if line == lineAccount {
		name = "merchant account"
	}
	var f *partner.Fault
	if errors.As(err, &f) {
		switch f.Kind {
		case partner.FaultNotFound:
			log.InfoContext(ctx, "third party: not found")
			return errReply(c, 404, CodeNotFound, describe(f)+" was not found")
		case partner.FaultNotOwner:
			log.WarnContext(ctx, "third party: not owner")
			// Never say whose it is.
			return errReply(c, 403, CodeNotOwner, resourceName(f.ResourceType)+" belongs to another merchant")
		case partner.FaultInsufficientCredits:
			log.InfoContext(ctx, "third party: insufficient credits")
			return errReply(c, 402, CodeInsufficientCredits,
				fmt.Sprintf("not enough credits: %d needed, %d available", f.Needed, f.Available))
		case partner.FaultQuotaExceeded:
			log.InfoContext(ctx, "third party: quota exceeded")
			r := errReply(c, 429, CodeQuotaExceeded, "the "+name+" service's quota for this action is used up; retry after the time in Retry-After")
			r.retryAfter = max(f.RetryAfter, partner.RetryAfter(err), time.Second)
			return r
		case partner.FaultInvalidRequest:
			log.WarnContext(ctx, "third party: invalid request")
			return errReply(c, 422, CodeInvalidRequest, "the "+name+" service refused field "+safeWord(f.Field)+": "+safeText(f.Reason, 120))
		case partner.FaultAuth:
			// Our partner credentials are wrong: every merchant is affected
			// until an operator fixes the configuration.
			log.ErrorContext(ctx, "third party refused our partner credentials: check the partner id and key")
			return errReply(c, 502, CodeUpstreamError, "the "+name+" service failed; retry later")
		}
	}
	switch {
	case errors.Is(err, partner.ErrTimeout), errors.Is(err, context.DeadlineExceeded):
		log.WarnContext(ctx, "third party: timeout")
		return errReply(c, 504, CodeUpstreamTimeout, "the "+name+" service did not answer in time; retry later")
	case errors.Is(err, partner.ErrUnavailable):
		log.WarnContext(ctx, "third party: unavailable")
		r := errReply(c, 503, CodeUpstreamUnavailable, "the "+name+" service is unavailable; retry after the time in Retry-After")
		r.retryAfter = max(partner.RetryAfter(err), time.Second)
		return r
	}
	log.ErrorContext(ctx, "third party: failed")
	return errReply(c, 502, CodeUpstreamError, "the "+name+" service failed; retry later")
}

// resourceName turns a WSDL resource type into words for messages; a type
// not listed is not echoed.
func resourceName(t string) string {
	switch t {
	case "listing":
		return "listing"
	case "jobPost":
		return "job post"
	case "merchant":
		return "merchant account"
	case "creditPackage":
		return "credit package"
	}
	return "the resource"
}

// describe names the resource of a fault, with its id when it is one the
// edge would accept (the id the app sent).
func describe(f *partner.Fault) string {
	n := resourceName(f.ResourceType)
	if validID(f.ResourceID) {
		return n + " " + f.ResourceID
	}
	return n
}

// safeWord keeps a field name from a third party printable and short.
func safeWord(s string) string {
	if validID(s) {
		return s
	}
	return "(unnamed)"
}

// safeText keeps a third party's reason printable ASCII and bounded.
func safeText(s string, n int) string {
	b := make([]byte, 0, min(len(s), n))
	for i := 0; i < len(s) && len(b) < n; i++ {
		if s[i] >= ' ' && s[i] <= '~' {
			b = append(b, s[i])
		}
	}
	if len(b) == 0 {
		return "invalid"
	}
	return string(b)
}
